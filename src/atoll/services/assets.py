"""Use cases of a base's asset tree: links, uploads, downloads, custom folders, deletion.

Upload commit order (the durability contract): every file's bytes are durable in the blob
store first, then one metadata transaction makes all of the request's files visible at once,
then the response goes out. Replaced blobs are deleted only after that commit.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field, replace
from functools import partial

from sqlalchemy import Connection, Engine

from atoll.db import assets as q
from atoll.db import blobs as blobs_q
from atoll.db import lookups
from atoll.db.engine import read_tx, write_tx
from atoll.db.prepared import RawTx
from atoll.errors import (
    AtollError,
    DatabaseUnavailable,
    InvalidInput,
    NotFound,
    PathNotFound,
    PermissionDenied,
)
from atoll.models import Asset, BlobInfo, Principal, Ticket
from atoll.services import access, events, quota, trash
from atoll.services.context import Context
from atoll.services.space import GuardedWriter, SpaceGuard
from atoll.storage import BlobWriter
from atoll.timeutil import utcnow, year_month
from atoll.wire import paths
from atoll.wire.links import CUSTOM_DIR, asset_root

log = logging.getLogger("atoll.assets")


# ---------------------------------------------------------------- messages
# One vocabulary for every "missing" and "invalid" answer: what is missing, as the user named
# it (never the internal ``/custom/...`` path), and what to do next. Statuses stay SeaTable's.

#: atoll's route that creates a custom folder (with the API token, like every app-* route).
MKDIR_ROUTE = "/api/v2.1/dtable/custom/app-asset-dir/?path="


def folder_missing(path: str) -> str:
    """A custom folder that does not exist, as the user wrote it."""
    if path.startswith("/"):
        shown = "/" + path.strip("/")
        return (
            f"folder {shown} does not exist; create it with `atoll mkdir {shown}` or "
            f"POST {MKDIR_ROUTE}{shown} (API token)"
        )
    return f"folder {path} does not exist: custom folder paths start with / (try /{path.strip('/')})"


def file_missing(shown: str, folder: str | None = None) -> str:
    where = f" in folder /{folder.strip('/')}" if folder is not None else ""
    return f"file {shown} does not exist{where}"


def _shown(path: str) -> str:
    """An asset path as the user knows it: a custom file as its custom-folder path."""
    if paths.is_under(path, CUSTOM_DIR):
        return "/" + path[len(CUSTOM_DIR) :].lstrip("/")
    return path.lstrip("/")


PATH_MISSING = "path missing: give the file's path, e.g. files/2025-08/report.pdf or /Main/a.png"
FOLDER_PATH_MISSING = "path missing: give a custom folder path such as / or /Main"
#: Upload commits of at most this many files (and no quota to sum) are quick jobs: they run on
#: the event loop in SQLite's group commit (``db.group``).
QUICK_COMMIT_FILES = 8


# ---------------------------------------------------------------- links


@dataclass(frozen=True)
class UploadLink:
    ticket: str
    year_month: str
    relative_path: str = ""


async def issue_upload_link(ctx: Context, principal: Principal) -> UploadLink:
    """A ticket for ``/asset/<uuid>``; creates the base's asset root if missing."""
    access.require_write(principal)
    uuid_ = principal.dtable.uuid
    await _ensure_dir(ctx, uuid_, "/")
    ticket = _ticket(ctx, "upload", uuid_, asset_root(dtable_uuid=uuid_), app=principal.app_name)
    return UploadLink(ticket=ticket, year_month=year_month())


async def issue_custom_upload_link(ctx: Context, principal: Principal, path: str) -> UploadLink:
    """A ticket for ``/asset/<uuid>/custom``; the sub-folder ``path`` must exist."""
    access.require_write(principal)
    uuid_ = principal.dtable.uuid
    folder = paths.rel_path(path or "/", "path")
    await _ensure_dir(ctx, uuid_, CUSTOM_DIR)
    target = paths.join(CUSTOM_DIR, folder)
    if not await _dir_exists(ctx, uuid_, target):
        raise NotFound(folder_missing(path or "/"))
    relative = (path or "/").lstrip("/")
    ticket = _ticket(ctx, "upload", uuid_, asset_root(dtable_uuid=uuid_) + CUSTOM_DIR, app=principal.app_name)
    return UploadLink(ticket=ticket, year_month=year_month(), relative_path=relative)


async def issue_download_link(ctx: Context, principal: Principal, raw_path: str) -> tuple[str, Asset]:
    """A ticket for one asset; ``raw_path`` is relative to ``/asset/<uuid>``."""
    if not raw_path.strip("/"):
        raise InvalidInput(PATH_MISSING)
    path = paths.rel_path(raw_path, "path")
    asset = await find_asset(ctx, principal.dtable.uuid, path)
    if asset is None:
        raise PathNotFound(file_missing(_shown(path)))
    return _ticket(ctx, "download", principal.dtable.uuid, asset.path), asset


def _ticket(ctx: Context, op: str, dtable_uuid: str, path: str, *, app: str = "") -> str:
    assert op in ("upload", "download")
    return access.issue_ticket(
        "upload" if op == "upload" else "download",
        dtable_uuid,
        path,
        ctx.secret,
        ctx.settings.link_ttl_s,
        app=app,
    )


# ---------------------------------------------------------------- lookups


async def _ensure_dir(ctx: Context, dtable_uuid: str, path: str) -> None:
    """Create the folder and its parents unless it exists (the common case: one lookup)."""
    if not await _dir_exists(ctx, dtable_uuid, path):
        await ctx.run_db(_create_dirs, ctx.engine, dtable_uuid, path)


def _create_dirs(engine: Engine, dtable_uuid: str, path: str) -> None:
    with write_tx(engine) as conn:
        q.ensure_dirs(conn, dtable_uuid, path, utcnow().isoformat())


async def _dir_exists(ctx: Context, dtable_uuid: str, path: str) -> bool:
    return await ctx.lookup(lookups.DIR, dtable_uuid=dtable_uuid, path=path) is not None


async def find_asset(ctx: Context, dtable_uuid: str, path: str) -> Asset | None:
    dir_path, name = paths.split(path)
    return await ctx.lookup(lookups.ASSET, dtable_uuid=dtable_uuid, dir_path=dir_path, name=name)


async def asset_at_url(
    ctx: Context, principal: Principal, *, workspace_id: int, dtable_uuid: str, path: str
) -> tuple[str, Asset]:
    """A download ticket for the asset a cell's URL (``/workspace/<wid>/asset/<uuid>/<path>``)
    names, and the asset. The token must be of that base and workspace (403 otherwise, before
    the path is looked at)."""
    access.require_base(principal, dtable_uuid)
    if workspace_id != principal.dtable.workspace_id:
        raise PermissionDenied("Permission denied.")
    asset = await find_asset(ctx, principal.dtable.uuid, paths.rel_path(path, "path"))
    if asset is None:
        raise NotFound("Asset file does not exist.")
    return _ticket(ctx, "download", asset.dtable_uuid, asset.path), asset


async def resolve_download(ctx: Context, ticket: Ticket) -> Asset:
    asset = await find_asset(ctx, ticket.dtable_uuid, ticket.path)
    if asset is None:
        raise NotFound("File not found")
    return asset


# ---------------------------------------------------------------- custom folders


def _custom_path(path: str, *, new: bool = False) -> str:
    """SeaTable joins custom paths by concatenation: they must start with ``/``."""
    if not path:
        raise InvalidInput(FOLDER_PATH_MISSING)
    if not path.startswith("/"):
        raise NotFound(folder_missing(path))
    return paths.join(CUSTOM_DIR, paths.rel_path(path, "path", new=new))


def _list_dir(engine: Engine, dtable_uuid: str, path: str) -> tuple[list[str], list[Asset]] | None:
    with read_tx(engine) as conn:
        if not q.dir_exists(conn, dtable_uuid, path):
            return None
        return q.list_dir(conn, dtable_uuid, path)


async def list_custom_dir(ctx: Context, principal: Principal, path: str) -> tuple[list[str], list[Asset]]:
    target = _custom_path(path)
    listing = await ctx.run_db(_list_dir, ctx.engine, principal.dtable.uuid, target)
    if listing is None:
        if target == CUSTOM_DIR:
            return [], []
        raise NotFound(folder_missing(path))
    return listing


async def create_custom_dir(ctx: Context, principal: Principal, path: str) -> str:
    """Create a custom folder and its parents (atoll's addition; SeaTable does it in its UI)."""
    access.require_write(principal)
    target = _custom_path(path, new=True)
    if target == CUSTOM_DIR:
        raise InvalidInput("path invalid: / always exists; name the folder to create, e.g. /Main")
    await _ensure_dir(ctx, principal.dtable.uuid, target)
    return target


async def custom_file_info(ctx: Context, principal: Principal, path: str, name: str) -> Asset:
    if not path:
        raise InvalidInput(FOLDER_PATH_MISSING)
    if not name:
        raise InvalidInput("name missing: give the file's name in the folder")
    folder = paths.join(CUSTOM_DIR, paths.rel_path(path, "path"))
    asset = await find_asset(ctx, principal.dtable.uuid, paths.join(folder, paths.file_name(name, new=False)))
    if asset is None:
        raise NotFound(file_missing(name, _shown(folder)))
    return asset


def custom_asset_path(raw_path: str) -> str:
    """A custom download path (relative to ``custom/``) as a path relative to the asset root."""
    if not raw_path.strip("/"):
        raise InvalidInput(PATH_MISSING)
    return paths.join(CUSTOM_DIR, paths.rel_path(raw_path, "path"))


# ---------------------------------------------------------------- deletion


def _delete(engine: Engine, dtable_uuid: str, path: str, deleted_by: str) -> Asset | None:
    """Move the asset to the trash (``services/trash.py``): gone from every lookup at once, its
    bytes kept until ``atoll gc`` purges the entry after ``trash_retention_s``."""
    dir_path, name = paths.split(path)
    with write_tx(engine) as conn:
        asset = q.get_asset(conn, dtable_uuid, dir_path, name)
        if asset is not None:
            trash.move_in(conn, asset, deleted_by)
        return asset


async def delete_asset(ctx: Context, principal: Principal, raw_path: str) -> None:
    access.require_write(principal)
    if not raw_path.strip("/"):
        raise InvalidInput(PATH_MISSING)
    path = paths.rel_path(raw_path, "path")
    asset = await ctx.run_db(_delete, ctx.engine, principal.dtable.uuid, path, principal.app_name)
    if asset is None:
        raise NotFound(file_missing(_shown(path)))


async def delete_custom_file(ctx: Context, principal: Principal, path: str, name: str) -> None:
    """Delete (to the trash) one file of a custom folder: ``path`` the folder (``/Main``)."""
    access.require_write(principal)
    if not path:
        raise InvalidInput(FOLDER_PATH_MISSING)
    if not name:
        raise InvalidInput("name missing: give the file's name in the folder")
    folder = _custom_path(path)
    target = paths.join(folder, paths.file_name(name, new=False))
    asset = await ctx.run_db(_delete, ctx.engine, principal.dtable.uuid, target, principal.app_name)
    if asset is None:
        raise NotFound(file_missing(name, _shown(folder)))


async def _forget_blob(ctx: Context, key: str) -> None:
    """Delete bytes that no blob reference accounts for any more (``db.blobs.drop_ref`` said so,
    or a duplicate's fresh copy): best effort, gc reaps what this misses."""
    try:
        await ctx.blobs.delete(key)
    except (OSError, AtollError):
        log.warning("could not delete unreferenced blob %s; gc will", key)


# ---------------------------------------------------------------- uploads


@dataclass
class PendingFile:
    name: str
    blob: BlobInfo


@dataclass
class Upload:
    """One upload-api request: fields arrive, files stream into blobs, ``finish`` commits.

    Fields are checked as soon as they are complete, so a bad ``parent_dir`` stops the request
    before any file byte is stored. ``admit()`` (before the body is read) and every file byte
    are checked against the free-space reserve (``services/space.py``): 507 before the disk fills.
    """

    ctx: Context
    ticket: Ticket
    parent_dir: str | None = None
    relative_path: str = "/"
    replace: bool = False
    #: The request's Content-Length, if known: an upper bound of each file's size.
    size_hint: int | None = None
    files: list[PendingFile] = field(default_factory=list)
    _open: BlobWriter | None = None
    _guard: SpaceGuard | None = None

    @property
    def guard(self) -> SpaceGuard:
        if self._guard is None:
            self._guard = SpaceGuard(self.ctx, self.size_hint)
        return self._guard

    async def admit(self) -> None:
        """Refuse (507) before reading the body if its declared size would cross the reserve."""
        await self.guard.admit()
        await quota.admit_form(self.ctx, self.ticket.dtable_uuid, self.size_hint)  # 443 before the body

    def set_field(self, name: str, value: str) -> None:
        if name == "parent_dir":
            self.parent_dir = self._check_parent(value)
        elif name == "relative_path":
            self.relative_path = paths.rel_path(value, "relative path", allow_absolute=False, new=True)
        elif name == "replace":
            if value.strip() not in ("0", "1"):
                raise InvalidInput("Invalid argument replace.")
            self.replace = value.strip() == "1"
        # other fields (ret-json as a field, target_file...) are ignored, as Seafile does

    def _check_parent(self, value: str) -> str:
        if not value:
            raise InvalidInput("No parent_dir given.")
        canonical = paths.rel_path(value, "parent_dir")
        if canonical != self.ticket.path:
            raise PermissionDenied("Parent dir doesn't match.")
        return canonical

    async def begin_file(self, raw_name: str) -> BlobWriter:
        name = paths.file_name(raw_name)
        if self._guard is None:
            await self.admit()  # callers that skipped admit() still get the reserve
        writer = await self.ctx.blobs.create(size_hint=self.size_hint)
        self._open = writer
        self.files.append(PendingFile(name=name, blob=BlobInfo(key=writer.key, size=-1, sha256="")))
        return GuardedWriter(writer, self.guard)

    async def end_file(self) -> None:
        assert self._open is not None
        writer, self._open = self._open, None
        self.files[-1].blob = await writer.commit()

    async def abort(self) -> None:
        """Leave nothing behind: the open temp file and every committed blob. Never raises a
        storage error of its own (it would hide the one that caused the abort): what it cannot
        delete now is an orphan that ``gc`` reaps."""
        if self._open is not None:
            writer, self._open = self._open, None
            await writer.abort()
        for pending in self.files:
            if pending.blob.size >= 0:
                try:
                    await self.ctx.blobs.delete(pending.blob.key)
                except (OSError, AtollError) as exc:
                    log.warning(
                        "could not delete blob %s of a failed upload (gc will): %s", pending.blob.key, exc
                    )
        self.files.clear()

    async def finish(self) -> list[Asset]:
        if self.parent_dir is None:
            raise InvalidInput("No parent_dir given.")
        if not self.files:
            raise InvalidInput("No file in multipart form.")
        dir_path = paths.join(self._base_dir(), self.relative_path)
        try:
            committed, old_keys = await self.ctx.commit(
                partial(_commit_in, dtable_uuid=self.ticket.dtable_uuid, dir_path=dir_path,
                        files=self.files, replace_=self.replace,
                        quota_bytes=self.ctx.settings.base_quota_bytes),
                quick=self._quick_commit(),
            )  # fmt: skip
        except DatabaseUnavailable:
            self._keep_blobs()
            raise
        for key in old_keys:
            await _forget_blob(self.ctx, key)
        return committed

    def _quick_commit(self) -> bool:
        """A commit of a few files and no quota sum is a handful of single-row statements: it
        may run on the event loop (``db.group``, quick jobs)."""
        return len(self.files) <= QUICK_COMMIT_FILES and self.ctx.settings.base_quota_bytes <= 0

    def _keep_blobs(self) -> None:
        """The commit failed with the database: it may still have landed (the connection dropped
        after the server committed), and then deleting the blobs would leave files without bytes.
        Keep them: if the commit did not land they are orphans, which ``gc`` reaps after its grace."""
        for pending in self.files:
            log.warning("upload of %s: commit outcome unknown, blob %s kept", pending.name, pending.blob.key)
        self.files.clear()

    def _base_dir(self) -> str:
        """The ticket's parent dir relative to the asset root: ``/asset/<u>/custom`` -> ``/custom``."""
        root = asset_root(dtable_uuid=self.ticket.dtable_uuid)
        assert self.parent_dir is not None and paths.is_under(self.parent_dir, root)
        return self.parent_dir[len(root) :] or "/"


def _commit_in(
    conn: Connection,
    dtable_uuid: str,
    dir_path: str,
    files: list[PendingFile],
    replace_: bool,
    quota_bytes: int = 0,
) -> tuple[list[Asset], list[str]]:
    """The write job of one upload request: all its files become visible together. Returns
    (assets, blob keys whose bytes are unused after the commit: replaced blobs' last references,
    and fresh copies of content already stored). Runs inside ``ctx.commits`` (group commit on
    SQLite). ``files`` keep their fresh keys (an abort deletes exactly those)."""
    now = utcnow()
    tx = RawTx(conn)
    try:
        if not q.lock_dir_fast(tx, dtable_uuid, dir_path):  # naming and replace: one writer at a time
            q.ensure_dirs(conn, dtable_uuid, dir_path, now.isoformat())
            q.lock_dir_fast(tx, dtable_uuid, dir_path)
        out: list[Asset] = []
        old_keys: list[str] = []
        # content references first, in one global order (by SHA-256): two requests sharing
        # contents lock those blob rows in the same order (no deadlock on PostgreSQL)
        order = sorted(range(len(files)), key=lambda i: files[i].blob.sha256)
        blobs = {i: _dedup(conn, files[i].blob, now.isoformat(), old_keys) for i in order}
        for i, pending in enumerate(files):
            blob = blobs[i]
            existing = q.get_asset_fast(tx, dtable_uuid, dir_path, pending.name)
            if existing is not None and replace_:
                q.replace_blob_fast(tx, existing.id, blob.key, blob.size, blob.sha256, now.isoformat())
                if blobs_q.drop_ref(conn, existing.blob_key):
                    old_keys.append(existing.blob_key)
                changed = replace(existing, blob_key=blob.key, size=blob.size, sha256=blob.sha256, mtime=now)
                out.append(changed)
                events.file_uploaded(conn, dtable_uuid, dir_path, changed.name, blob.size)  # live updates
                continue
            name = pending.name if existing is None else _free_name(conn, dtable_uuid, dir_path, pending.name)
            asset = Asset(
                id=0,
                dtable_uuid=dtable_uuid,
                dir_path=dir_path,
                name=name,
                blob_key=blob.key,
                size=blob.size,
                sha256=blob.sha256,
                mtime=now,
                uuid=str(uuid.uuid4()),
            )
            out.append(replace(asset, id=q.insert_asset_fast(tx, asset)))
            events.file_uploaded(conn, dtable_uuid, dir_path, name, blob.size)  # live updates
        quota.check_room(conn, dtable_uuid, 0, quota_bytes=quota_bytes)  # 443 rolls it all back
        return out, old_keys
    finally:
        tx.close()


def _dedup(conn: Connection, blob: BlobInfo, now: str, unused: list[str]) -> BlobInfo:
    """Reference the blob's content (``db.blobs.add_ref``): the blob to point at. When the content
    was stored already, the fresh copy's key joins ``unused`` (deleted after the commit)."""
    key = blobs_q.add_ref(conn, blob.key, blob.sha256, blob.size, now)
    if key == blob.key:
        return blob
    unused.append(blob.key)
    return replace(blob, key=key)


def _free_name(conn: Connection, dtable_uuid: str, dir_path: str, name: str) -> str:
    stem = name.rpartition(".")[0] if "." in name else name
    taken = q.names_in_dir(conn, dtable_uuid, dir_path, stem)
    for n in range(1, paths.MAX_DUPLICATE_NAMES + 1):
        candidate = paths.duplicate_name(name, n)
        if candidate not in taken:
            if len(candidate.encode("utf-8")) > paths.MAX_NAME_BYTES:
                raise InvalidInput(f"invalid fileName: {candidate!r} is too long.")
            return candidate
    raise InvalidInput("Too many files with same name.")
