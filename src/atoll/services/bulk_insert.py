"""``big_data_insert_rows``: many rows in one request, into the table itself.

SeaTable puts these rows into its big-data (archive) storage; atoll has no separate archive,
so they go into the same table through the ordinary append path (``services.rows.append_in``):
the same validation, one write transaction (all rows or none), at most
``MAX_BULK_INSERT_ROWS`` per request.
"""

from __future__ import annotations

from sqlalchemy import Engine

from atoll.db.engine import write_tx
from atoll.errors import InvalidInput
from atoll.models import Principal
from atoll.services.access import require_write
from atoll.services.context import Context
from atoll.services.rows import actor, append_in
from atoll.services.structure import TableRef

#: Rows one big_data_insert_rows request may carry (SeaTable documents 10,000).
MAX_BULK_INSERT_ROWS = 10_000


async def insert_rows(ctx: Context, principal: Principal, ref: TableRef, *, rows: object) -> int:
    """Append ``rows`` to the table; how many were inserted."""
    require_write(principal)
    if not isinstance(rows, list) or not rows:
        raise InvalidInput("rows invalid: expected a non-empty list.")
    if len(rows) > MAX_BULK_INSERT_ROWS:
        raise InvalidInput(f"rows: at most {MAX_BULK_INSERT_ROWS} rows per request.")
    inserted = await ctx.run_db(_insert, ctx.engine, principal.dtable.uuid, ref, rows, actor(principal))
    ctx.planner_stats.wrote(inserted)
    return inserted


def _insert(engine: Engine, dtable_uuid: str, ref: TableRef, rows: list[object], by: str) -> int:
    with write_tx(engine) as conn:
        return len(append_in(conn, dtable_uuid, ref, rows, by))
