"""The new base an import fills: ONE write transaction on the metadata database for everything,
and the blobs written while the archive streams in. When anything fails (a bad checksum, a
truncated archive, Ctrl-C), the transaction rolls back and every blob written is deleted:
nothing is left behind. A crash mid-import can leave blobs without metadata, which
``atoll gc`` reaps.
"""

from __future__ import annotations

import posixpath
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

import anyio
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from atoll.db import access as dq
from atoll.db import assets as db_assets
from atoll.db import base_copy as cq
from atoll.db import blobs as blob_refs
from atoll.db import rows as rq
from atoll.db import schema
from atoll.db.engine import write_tx
from atoll.errors import ChecksumMismatch, Conflict, InvalidInput
from atoll.models import Asset, Dtable
from atoll.services import asset_refs, quota, rowkeys
from atoll.services.accounts_copy import copied_asset_uuid
from atoll.services.context import Context
from atoll.services.space import GuardedWriter, SpaceGuard
from atoll.timeutil import utcnow

#: Bytes read from the archive and written to the blob store per step.
COPY_CHUNK_BYTES = 1024 * 1024


class InvalidArchive(InvalidInput):
    """The archive is damaged, truncated, tampered with or not one we can read."""


@dataclass
class ImportReport:
    base: str
    uuid: str
    workspace_id: int
    tables: int = 0
    rows: int = 0
    links: int = 0
    assets: int = 0
    asset_bytes: int = 0
    #: What could not be carried over, one line each (never dropped silently).
    not_imported: list[str] = field(default_factory=list)


def clean_asset_path(dir_path: str, name: str) -> tuple[str, str]:
    """(folder, name) of an asset, refused when either could escape the base's asset tree."""
    parts = dir_path.split("/")
    if (
        not dir_path.startswith("/")
        or any(p in (".", "..") for p in parts)
        or "\\" in dir_path
        or "\0" in dir_path
        or not name
        or name in (".", "..")
        or "/" in name
        or "\0" in name
    ):
        raise InvalidArchive(f"refused asset path {dir_path!r}/{name!r}: outside the base's files")
    return posixpath.normpath(dir_path), name


async def room_for_asset(ctx: Context, conn: Connection, dtable_uuid: str, size: int) -> SpaceGuard:
    """THE place an import checks there is room before it stores an asset's bytes: the base's
    asset quota (``services.quota``: 443 "Out of quota." once the imported files so far plus
    this one exceed ``base_quota_bytes``; read in the import's own transaction) and the
    free-space reserve (``services.space``), both against the declared size."""
    quota.check_room(conn, dtable_uuid, size, quota_bytes=ctx.settings.base_quota_bytes)
    guard = SpaceGuard(ctx, size)
    await guard.admit()
    return guard


class Target:
    def __init__(self, ctx: Context, conn: Connection, base: Dtable, now: str) -> None:
        self.ctx = ctx
        self.conn = conn
        self.base = base
        self.now = now
        self.blob_keys: list[str] = []
        #: Fresh copies of content the store held already (``db.blobs.add_ref`` pointed the
        #: asset at the stored blob): deleted once the import has committed.
        self.duplicate_keys: list[str] = []
        self.report = ImportReport(base.name, base.uuid, base.workspace_id)

    def put_doc(self, doc: dict[str, Any], version: int = rq.INITIAL_DOC_VERSION) -> None:
        self.conn.execute(
            schema.dtable_docs.insert().values(dtable_uuid=self.base.uuid, version=version, doc=rq.dumps(doc))
        )
        self.report.tables = len(doc.get("tables", []))

    def ensure_dirs(self, paths: Iterable[str]) -> None:
        for path in paths:
            clean, _ = clean_asset_path(path, "x")
            db_assets.ensure_dirs(self.conn, self.base.uuid, clean, self.now)

    async def _store(self, reader: IO[bytes], size: int, sha256: str | None, what: str) -> tuple[str, str]:
        """Copy exactly ``size`` bytes into a new blob. The store hashes what it writes (every
        writer does, for the asset record), so the check against ``sha256`` uses that one hash
        pass: a mismatching blob is committed, then deleted with the rest by ``new_base``."""
        guard = await room_for_asset(self.ctx, self.conn, self.base.uuid, size)
        writer = GuardedWriter(await self.ctx.blobs.create(size_hint=size), guard)
        got = 0
        try:
            while got < size:
                chunk = reader.read(min(COPY_CHUNK_BYTES, size - got))
                if not chunk:
                    raise InvalidArchive(f"{what}: the archive ends inside this file (truncated)")
                got += len(chunk)
                await writer.write(chunk)
            info = await writer.commit()
        except BaseException:
            with anyio.CancelScope(shield=True):
                await writer.abort()
            raise
        self.blob_keys.append(info.key)
        if sha256 is not None and info.sha256 != sha256:
            raise ChecksumMismatch(
                f"{what}: SHA-256 mismatch (the archive says {sha256}, the bytes hash to {info.sha256})"
            )
        return info.key, info.sha256

    async def add_asset(
        self,
        *,
        old_uuid: str | None,
        dir_path: str,
        name: str,
        size: int,
        sha256: str | None,
        mtime: datetime | None,
        reader: IO[bytes],
    ) -> str:
        """Store one asset's bytes (checked against ``sha256`` when given); its new uuid."""
        dir_path, name = clean_asset_path(dir_path, name)
        fresh, digest = await self._store(reader, size, sha256, f"{dir_path.rstrip('/')}/{name}")
        key = blob_refs.add_ref(self.conn, fresh, digest, size, self.now)  # stored once (dedup)
        if key != fresh:
            self.duplicate_keys.append(fresh)
        new_uuid = copied_asset_uuid(self.base.uuid, old_uuid) if old_uuid else str(uuid.uuid4())
        db_assets.ensure_dirs(self.conn, self.base.uuid, dir_path, self.now)
        try:
            db_assets.insert_asset(
                self.conn,
                Asset(
                    id=0,
                    dtable_uuid=self.base.uuid,
                    dir_path=dir_path,
                    name=name,
                    blob_key=key,
                    size=size,
                    sha256=digest,
                    mtime=mtime or utcnow(),
                    uuid=new_uuid,
                ),
            )
        except IntegrityError as exc:  # the same path twice in one archive
            raise InvalidArchive(
                f"{dir_path}/{name}: stored twice in the archive ({exc.__class__.__name__})"
            ) from None
        self.report.assets += 1
        self.report.asset_bytes += size
        return new_uuid

    def imported_uuids(self, old_uuids: Iterable[str]) -> dict[str, str]:
        """old asset uuid -> new, for those of ``old_uuids`` imported into this base."""
        mapped = {copied_asset_uuid(self.base.uuid, u): u for u in set(old_uuids)}
        found = cq.asset_uuids_of(self.conn, self.base.uuid, mapped) if mapped else set()
        return {mapped[new]: new for new in found}

    def add_rows(self, table: dict[str, Any], rows: list[rq.StoredRow]) -> None:
        try:
            rq.insert_rows(self.conn, self.base.uuid, rows)
        except IntegrityError:
            raise InvalidArchive(f"table {table.get('name')!r}: the same row id twice") from None
        rq.insert_keys(
            self.conn, self.base.uuid, table["_id"], rowkeys.row_keys(table.get("columns", []), rows)
        )
        asset_refs.rows_added(self.conn, self.base.uuid, table, rows)  # "who uses this file"
        self.report.rows += len(rows)

    def add_links(self, records: list[dict[str, str]]) -> None:
        if records:
            try:
                self.conn.execute(
                    schema.row_links.insert(), [{**r, "dtable_uuid": self.base.uuid} for r in records]
                )
            except IntegrityError:
                raise InvalidArchive("the same linked pair twice") from None
        self.report.links += len(records)


@asynccontextmanager
async def new_base(ctx: Context, name: str, workspace: str) -> AsyncIterator[Target]:
    """A new base ``name`` in ``workspace`` (made if missing) filled by the caller; committed
    when the block ends, or rolled back with every blob written deleted."""
    name = name.strip()
    if not name or len(name) > 255:
        raise InvalidInput(f"base name {name!r} is invalid")
    target: Target | None = None
    try:
        with write_tx(ctx.engine) as conn:
            ws = dq.get_or_create_workspace(conn, workspace)
            if dq.find_dtable(conn, ws.id, name) is not None:
                raise Conflict(
                    f"workspace {workspace!r} already has a base {name!r}: choose another name with --as"
                )
            base = Dtable(uuid=str(uuid.uuid4()), name=name, workspace_id=ws.id)
            now = utcnow().isoformat()
            dq.insert_dtable(conn, base, now)
            target = Target(ctx, conn, base, now)
            yield target
    except BaseException:
        if target is not None:
            with anyio.CancelScope(shield=True):
                for key in target.blob_keys:
                    await ctx.blobs.delete(key)
        raise
    for key in target.duplicate_keys:  # committed: the stored blob holds these contents
        await ctx.blobs.delete(key)
