"""The whole base as one JSON document (``GET /api-gateway/api/v2/dtables/<uuid>/``), the call
dtable-sdk's ``loadDTable`` makes.

The document is streamed: the structure document first, then each table's rows read
``db.rows.BATCH_ROWS`` at a time in table order (seek on ``(seq, row_id)``), each batch in its
own short read transaction, so neither the server's memory nor a transaction grows with the
base. A write landing while the document streams may or may not be in it (each batch is
consistent; the whole is not one snapshot); ``version`` is the structure's version at the start.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Engine

from atoll.db import rows as q
from atoll.db.engine import read_tx
from atoll.models import Principal
from atoll.services.context import Context
from atoll.services.structure import read_doc
from atoll.wire import misc as w


def _batch(
    engine: Engine, dtable_uuid: str, table_id: str, after: tuple[int, str] | None
) -> list[q.StoredRow]:
    with read_tx(engine) as conn:
        return q.rows_after(conn, dtable_uuid, table_id, after, q.BATCH_ROWS)


async def whole_base(ctx: Context, principal: Principal) -> AsyncIterator[bytes]:
    """The document's bytes, in pieces (see ``wire.misc``). The structure is read here, so
    that a failure to read it is an error answer before anything is sent."""
    stored = await read_doc(ctx, principal)
    return _pieces(ctx, principal.dtable.uuid, stored)


async def _pieces(ctx: Context, dtable_uuid: str, stored: q.StoredDoc) -> AsyncIterator[bytes]:
    tables: list[dict[str, Any]] = stored.doc.get("tables", [])
    yield w.base_head(stored.version, stored.doc)
    for i, table in enumerate(tables):
        yield w.table_head(table, first=i == 0)
        after: tuple[int, str] | None = None
        first = True
        while True:
            batch = await ctx.run_db(_batch, ctx.engine, dtable_uuid, table["_id"], after)
            if batch:
                yield w.rows_chunk(batch, first=first)
                first = False
            if len(batch) < q.BATCH_ROWS:
                break
            after = (batch[-1].seq, batch[-1].row_id)
        yield w.table_tail()
    yield w.base_tail()
