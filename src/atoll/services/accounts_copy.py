"""copy_base: a new base in a workspace, with the structure, rows, links, sort keys and assets
of a base the user can see (docs/accounts.md, "Copying a base").

The caller must be a member (any role) of the source workspace and a writing member (owner,
admin, member) of the destination. The copy takes the source's name; when the destination has a
base of that name, the first free ``<name> (n)`` (as SeaTable picks a non-duplicated name).

Everything happens in ONE write transaction on the metadata database, so a failure leaves
nothing. The source's structure document is locked first (every row write of a base locks it),
so the rows copied are one consistent state of the base. Rows are read, rewritten and written
``COPY_BATCH_ROWS`` at a time; sort keys are computed for the copied rows (``services.rowkeys``),
never copied. Folders and links are copied by the database itself. Assets get new records (and
new uuids) pointing at the SAME blobs, each adding a reference (``db.blobs.add_ref``): no byte
is copied, and a blob is deleted only when its last reference goes. Cells' asset URLs are rewritten to
the copy (``wire.copy_urls``).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from atoll.db import access as dq
from atoll.db import base_copy as cq
from atoll.db import blobs as blob_refs
from atoll.db import rows as rq
from atoll.db import schema
from atoll.db import users as q
from atoll.db.engine import write_tx
from atoll.db.users import BaseRecord, User
from atoll.errors import Conflict, InvalidInput, NotFound
from atoll.models import Dtable
from atoll.services import asset_refs, quota, rowkeys
from atoll.services.accounts_bases import MAX_BASE_NAME_CHARS
from atoll.services.context import Context
from atoll.services.membership import member_role, writing_role
from atoll.timeutil import utcnow
from atoll.wire.copy_urls import REBASED_COLUMN_TYPES, Rebase, custom_uuids

#: Rows (and assets) read, rewritten and written per step of a copy.
COPY_BATCH_ROWS = 500
#: Suffixes ``(1)`` ... ``(n)`` tried for a free name in the destination before 409.
MAX_NAME_SUFFIX = 100


def parse_workspace_ids(src: str | None, dst: str | None) -> tuple[int, int]:
    try:
        return int(src or ""), int(dst or "")
    except ValueError:
        raise InvalidInput("src_workspace_id or dst_workspace_id is invalid.") from None


def _free_name(conn: Connection, workspace_id: int, name: str) -> str:
    """``name``, or the first ``name (n)`` the workspace has no base of."""
    if q.base_by_name(conn, workspace_id, name) is None:
        return name
    for n in range(1, MAX_NAME_SUFFIX + 1):
        candidate = f"{name} ({n})"
        if len(candidate) > MAX_BASE_NAME_CHARS:
            break
        if q.base_by_name(conn, workspace_id, candidate) is None:
            return candidate
    raise Conflict(f"Table {name} already exists (and no free name '{name} (n)' up to {MAX_NAME_SUFFIX}).")


def _copy_doc(conn: Connection, src: str, dst: str) -> dict[str, Any]:
    stored = rq.lock_doc(conn, src)  # holds the source's writers until the copy commits
    conn.execute(schema.dtable_docs.insert().values(dtable_uuid=dst, version=stored.version,
                                                    doc=rq.dumps(stored.doc)))
    return stored.doc


def _copy_assets(conn: Connection, src: str, dst: str) -> None:
    after = 0
    while True:
        batch = cq.assets_after(conn, src, after, COPY_BATCH_ROWS)
        now = utcnow().isoformat()
        copies = [
            replace(a, dtable_uuid=dst, uuid=copied_asset_uuid(dst, a.uuid),
                    blob_key=blob_refs.add_ref(conn, a.blob_key, a.sha256, a.size, now))
            for a in batch
        ]  # fmt: skip
        cq.insert_assets(conn, copies)
        if len(batch) < COPY_BATCH_ROWS:
            return
        after = batch[-1].id


def copied_asset_uuid(dst_uuid: str, asset_uuid: str) -> str:
    """The uuid of an asset's copy in base ``dst_uuid`` (derived, so no map is kept)."""
    return str(uuid.uuid5(uuid.UUID(dst_uuid), asset_uuid))


def _rewrite(conn: Connection, table: dict[str, Any], rows: list[rq.StoredRow], src: Dtable,
             dst: Dtable) -> list[rq.StoredRow]:
    columns = table.get("columns", [])
    url_columns = [(c["key"], c["type"]) for c in columns if c.get("type") in REBASED_COLUMN_TYPES]
    if not url_columns:
        return rows
    wanted = {u for r in rows for key, kind in url_columns for u in custom_uuids(kind, r.data.get(key))}
    ours = cq.asset_uuids_of(conn, src.uuid, wanted) if wanted else set()
    rebase = Rebase(src.workspace_id, src.uuid, dst.workspace_id, dst.uuid,
                    lambda old: copied_asset_uuid(dst.uuid, old) if old in ours else None)
    out = []
    for r in rows:
        data = dict(r.data)
        for key, kind in url_columns:
            if key in data:
                data[key] = rebase.cell(kind, data[key])
        out.append(replace(r, data=data))
    return out


def _copy_rows(conn: Connection, doc: dict[str, Any], src: Dtable, dst: Dtable) -> int:
    """Every row of every table, a batch at a time; the number copied."""
    copied_rows = 0
    for table in doc.get("tables", []):
        after: tuple[int, str] | None = None
        while True:
            batch = rq.rows_after(conn, src.uuid, table["_id"], after, COPY_BATCH_ROWS)
            copied = _rewrite(conn, table, batch, src, dst)
            rq.insert_rows(conn, dst.uuid, copied)
            rq.insert_keys(conn, dst.uuid, table["_id"], rowkeys.row_keys(table.get("columns", []), copied))
            copied_rows += len(copied)
            asset_refs.rows_added(conn, dst.uuid, table, copied)
            if len(batch) < COPY_BATCH_ROWS:
                break
            after = (batch[-1].seq, batch[-1].row_id)
    return copied_rows


def copy_base_sync(engine: Engine, user: User, src_workspace_id: int, name: str,
                   dst_workspace_id: int, *, quota_bytes: int = 0) -> tuple[BaseRecord, int]:
    """The copy's record and the number of rows copied. A copy whose files exceed
    ``quota_bytes`` (the per-base asset quota; 0: none) is refused (443) and nothing is made."""
    try:
        with write_tx(engine) as conn:
            member_role(conn, user, src_workspace_id)
            source = q.base_by_name(conn, src_workspace_id, name)
            if source is None:
                raise NotFound(f"dtable {name} not found.")
            writing_role(conn, user, dst_workspace_id)
            now = utcnow().isoformat()
            src = source.dtable
            dst = Dtable(uuid=str(uuid.uuid4()), name=_free_name(conn, dst_workspace_id, src.name),
                         workspace_id=dst_workspace_id)
            dq.insert_dtable(conn, dst, now)
            doc = _copy_doc(conn, src.uuid, dst.uuid)
            cq.copy_asset_dirs(conn, src.uuid, dst.uuid, now)
            _copy_assets(conn, src.uuid, dst.uuid)
            quota.check_room(conn, dst.uuid, 0, quota_bytes=quota_bytes)
            copied_rows = _copy_rows(conn, doc, src, dst)
            cq.copy_row_links(conn, src.uuid, dst.uuid)
            return BaseRecord(dst, now), copied_rows
    except IntegrityError:  # a base of the chosen name added at the same moment
        raise Conflict(f"Table {name} already exists in workspace {dst_workspace_id}.") from None


async def copy_base(ctx: Context, user: User, src_workspace_id: int, name: str,
                    dst_workspace_id: int) -> BaseRecord:
    """A copy of base ``name`` of workspace ``src_workspace_id`` in ``dst_workspace_id``."""
    if not name.strip():
        raise InvalidInput("name is invalid.")
    record, copied_rows = await ctx.run_db(copy_base_sync, ctx.engine, user, src_workspace_id, name,
                                           dst_workspace_id, quota_bytes=ctx.settings.base_quota_bytes)
    ctx.planner_stats.wrote(copied_rows)  # a big copy is a bulk load: fresh statistics soon
    return record
