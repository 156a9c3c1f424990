"""``atoll export``: one base, streamed as a tar (``layout``) with every asset's bytes.

Everything is read in ONE read transaction, so the archive is one consistent state of the base.
Rows, links and asset records go in members of ``RECORDS_PER_MEMBER`` (the only thing held in
memory); blobs are copied from the store chunk by chunk and checked against their recorded
size and SHA-256 on the way (a corrupt blob stops the export instead of spreading).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy import Connection, Engine, select

from atoll.db import base_copy as cq
from atoll.db import rows as rq
from atoll.db import schema
from atoll.errors import InvalidInput, NotFound
from atoll.models import Dtable
from atoll.services.archive_io import layout
from atoll.services.archive_io.tarstream import TarStream
from atoll.services.context import Context
from atoll.timeutil import utcnow

#: Called after each blob as (bytes of blobs written so far, blobs written so far).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ExportSummary:
    base: str
    rows: int
    links: int
    assets: int
    asset_bytes: int
    archive_bytes: int


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """One read transaction that sees one state of the database throughout: SQLite's WAL read
    snapshot; on PostgreSQL REPEATABLE READ (its default, READ COMMITTED, would let rows written
    during the export appear in later batches)."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def find_base(conn: Connection, ref: str, workspace: str | None = None) -> Dtable:
    """A base by uuid, else by name (in ``workspace`` when given; a name in several
    workspaces must be narrowed with it)."""
    d, w = schema.dtables, schema.workspaces
    query = select(d.c.uuid, d.c.name, d.c.workspace_id).join(w, w.c.id == d.c.workspace_id)
    if workspace is not None:
        query = query.where(w.c.name == workspace)
    try:
        by_uuid = query.where(d.c.uuid == str(uuid.UUID(ref)))
        found = conn.execute(by_uuid).all()
    except ValueError:
        found = []
    if not found:
        found = conn.execute(query.where(d.c.name == ref)).all()
    if not found:
        raise NotFound(f"no base {ref!r}" + (f" in workspace {workspace!r}" if workspace else ""))
    if len(found) > 1:
        raise InvalidInput(f"several workspaces have a base named {ref!r}: name one with --workspace")
    row = found[0]
    return Dtable(uuid=row.uuid, name=row.name, workspace_id=row.workspace_id)


def _jsonl(records: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(rq.dumps(r).encode() + b"\n" for r in records)


def _batches(items: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _base_doc(conn: Connection, ctx: Context, base: Dtable, stored: rq.StoredDoc) -> bytes:
    w, dirs = schema.workspaces, schema.asset_dirs
    workspace = conn.execute(select(w.c.name).where(w.c.id == base.workspace_id)).scalar_one()
    paths = (
        conn.execute(select(dirs.c.path).where(dirs.c.dtable_uuid == base.uuid).order_by(dirs.c.path))
        .scalars()
        .all()
    )
    doc = {
        "format": layout.FORMAT,
        "version": layout.FORMAT_VERSION,
        "exported_at": utcnow().isoformat(),
        "server_url": ctx.settings.public_url,
        "base": {
            "name": base.name,
            "uuid": base.uuid,
            "workspace_id": base.workspace_id,
            "workspace": workspace,
        },
        "doc_version": stored.version,
        "doc": stored.doc,
        "asset_dirs": list(paths),
    }
    return json.dumps(doc, ensure_ascii=False, allow_nan=False).encode()


def _row_records(conn: Connection, base: Dtable, doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for table in doc.get("tables", []):
        for row in rq.iter_rows(conn, base.uuid, table["_id"]):
            yield {
                "row_id": row.row_id,
                "table_id": row.table_id,
                "seq": row.seq,
                "ctime": row.ctime,
                "mtime": row.mtime,
                "creator": row.creator,
                "last_modifier": row.last_modifier,
                "data": row.data,
            }


def _link_records(conn: Connection, base: Dtable) -> Iterator[dict[str, Any]]:
    t = schema.row_links
    query = (
        select(t.c.link_id, t.c.row_id, t.c.other_row_id, t.c.table_id, t.c.other_table_id)
        .where(t.c.dtable_uuid == base.uuid)
        .order_by(t.c.link_id, t.c.row_id, t.c.other_row_id)
    )
    result = conn.execution_options(yield_per=layout.RECORDS_PER_MEMBER).execute(query)
    for row in result.mappings():
        yield dict(row)


async def _assets(
    conn: Connection, ctx: Context, base: Dtable, tar: TarStream, progress: Progress | None
) -> tuple[int, int]:
    after, n, count, size = 0, 0, 0, 0
    while True:
        batch = cq.assets_after(conn, base.uuid, after, layout.RECORDS_PER_MEMBER)
        if not batch:
            return count, size
        n += 1
        tar.add_bytes(
            layout.batch_name("assets", n),
            _jsonl(
                {
                    "uuid": a.uuid,
                    "dir_path": a.dir_path,
                    "name": a.name,
                    "size": a.size,
                    "sha256": a.sha256,
                    "mtime": a.mtime.isoformat(),
                }
                for a in batch
            ),
        )
        for a in batch:
            await tar.add_stream(layout.blob_name(a.uuid), a.size, a.sha256, ctx.blobs.open(a.blob_key))
            count, size = count + 1, size + a.size
            if progress is not None:
                progress(size, count)
        after = batch[-1].id


def _records(tar: TarStream, kind: str, records: Iterable[dict[str, Any]]) -> int:
    count = 0
    for n, batch in enumerate(_batches(records, layout.RECORDS_PER_MEMBER), start=1):
        tar.add_bytes(layout.batch_name(kind, n), _jsonl(batch))
        count += len(batch)
    return count


async def export_base(
    ctx: Context, ref: str, out: BinaryIO, *, workspace: str | None = None, progress: Progress | None = None
) -> ExportSummary:
    """Write base ``ref`` (name or uuid) to ``out`` as an archive; the caller removes a partial
    file when this raises."""
    with _snapshot(ctx.engine) as conn:
        base = find_base(conn, ref, workspace)
        stored = rq.load_doc(conn, base.uuid)
        tar = TarStream(out, time.time())
        tar.add_bytes(layout.BASE_DOC, _base_doc(conn, ctx, base, stored))
        assets, asset_bytes = await _assets(conn, ctx, base, tar, progress)
        rows = _records(tar, "rows", _row_records(conn, base, stored.doc))
        links = _records(tar, "links", _link_records(conn, base))
    manifest = json.dumps(tar.log.manifest(), ensure_ascii=False).encode()
    tar.add_bytes(layout.MANIFEST, manifest)
    tar.close()
    return ExportSummary(base.name, rows, links, assets, asset_bytes, tar.written)
