"""Resumable uploads (tus and Seafile-style chunks): sessions, chunks, completion, expiry.

A session is created with its target (folder, name, replace, optional cell to attach to) and
its length, and lives in the metadata store (``db/uploads.py``); its bytes live in the blob
store's partial area (``storage/partial.py``). A request that writes takes the session's lease,
writes at the recorded offset, and records the new offset only once the bytes are durable
(every ``upload_commit_bytes`` and at the end). The request that reaches the length moves the
session to ``completing`` (every byte durable and recorded), turns the bytes into the blob, and
commits the asset — with the attached cell, if any — and the session's ``done`` in one
transaction. A crash anywhere leaves a state that the next request (or HEAD) rolls forward.

SHA-256: each process keeps the running hash of the sessions it wrote last (``_hashes``); when a
session moved between processes or the server restarted, the blob is read back once at
completion instead.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import anyio.to_thread
from sqlalchemy import Connection, Engine

from atoll.db import access as access_q
from atoll.db import uploads as q
from atoll.db.engine import read_tx, write_tx
from atoll.errors import (
    ChecksumMismatch,
    Conflict,
    Gone,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    QuotaExceeded,
)
from atoll.models import BlobInfo
from atoll.services import quota
from atoll.services.assets import PendingFile, _commit_in, _forget_blob
from atoll.services.attach import AttachTarget, append_cell
from atoll.services.context import Context
from atoll.services.upload_lease import TAKEN_OVER, Lease
from atoll.storage.base import digest, new_key
from atoll.storage.partial import PartialWriter, Piece
from atoll.timeutil import utcnow
from atoll.wire import links, paths, tus
from atoll.wire.assets import file_id
from atoll.wire.links import CUSTOM_DIR

log = logging.getLogger("atoll.resumable")

#: Running SHA-256 hashes kept per process (sessions beyond this are hashed again at the end).
MAX_RUNNING_HASHES = 256

_hashes: OrderedDict[str, tuple[int, Any]] = OrderedDict()


def _keep_hash(id_hash: str, offset: int, sha: Any) -> None:
    _hashes[id_hash] = (offset, sha)
    _hashes.move_to_end(id_hash)
    while len(_hashes) > MAX_RUNNING_HASHES:
        _hashes.popitem(last=False)


def _take_hash(id_hash: str, offset: int) -> Any | None:
    found = _hashes.pop(id_hash, None)
    return found[1] if found is not None and found[0] == offset else None


def hash_id(upload_id: str) -> str:
    return hashlib.sha256(upload_id.encode()).hexdigest()


@dataclass(frozen=True)
class Target:
    """Where a resumable upload ends: folder (relative to the asset root), name, and more."""

    dtable_uuid: str
    dir_path: str
    name: str
    replace: bool = False
    file_type: str = "file"
    attach: AttachTarget | None = None
    actor: str = ""
    metadata: str = ""


@dataclass(frozen=True)
class Checksum:
    algorithm: str
    digest: bytes

    @classmethod
    def parse(cls, header: str) -> Checksum:
        algorithm, _, value = header.strip().partition(" ")
        if algorithm not in tus.CHECKSUM_ALGORITHMS:
            raise InvalidInput(f"Upload-Checksum: unsupported algorithm {algorithm!r} (use sha1 or sha256)")
        try:
            return cls(algorithm, base64.b64decode(value.strip(), validate=True))
        except ValueError:
            raise InvalidInput("Upload-Checksum: the value is not base64") from None


# ---------------------------------------------------------------- creating and finding


async def create(
    ctx: Context, target: Target, *, length: int, natural_key: str | None = None, kind: str = "tus"
) -> tuple[str, q.UploadSession]:
    """A new session; returns (secret upload id, session)."""
    if length < 0:
        raise InvalidInput("Upload-Length must be a non-negative integer")
    if length > ctx.settings.max_upload_bytes:
        raise PayloadTooLarge(f"File size is too large: the limit is {ctx.settings.max_upload_bytes} bytes.")
    await quota.admit(ctx, target.dtable_uuid, length)  # 443 before any byte is stored
    upload_id = secrets.token_urlsafe(32)
    now = time.time()
    session = q.UploadSession(
        id_hash=hash_id(upload_id),
        natural_key=natural_key,
        kind=kind,
        dtable_uuid=target.dtable_uuid,
        dir_path=target.dir_path,
        name=target.name,
        replace_existing=target.replace,
        file_type=target.file_type,
        attach=target.attach.as_json() if target.attach else None,
        actor=target.actor,
        upload_metadata=target.metadata,
        length=length,
        received=0,
        blob_key=new_key(),
        store_state={},
        state=q.OPEN,
        result=None,
        lease_id=None,
        lease_until=0.0,
        created_at=utcnow().isoformat(),
        expires_at=now + ctx.settings.upload_session_ttl_s,
    )
    await ctx.run_db(_insert, ctx.engine, session)
    return upload_id, session


def _insert(engine: Engine, session: q.UploadSession) -> None:
    with write_tx(engine) as conn:
        q.insert(conn, session)


def _get(engine: Engine, id_hash: str) -> q.UploadSession | None:
    with read_tx(engine) as conn:
        return q.get(conn, id_hash)


def _get_natural(engine: Engine, natural_key: str) -> q.UploadSession | None:
    with read_tx(engine) as conn:
        return q.get_natural(conn, natural_key)


def _check_alive(session: q.UploadSession | None) -> q.UploadSession:
    if session is None:
        raise NotFound("Upload not found.")
    if session.state == q.TERMINATED:
        raise Gone("Upload was terminated.")
    if session.expires_at < time.time():
        raise Gone("Upload has expired.")
    return session


async def find(ctx: Context, upload_id: str) -> q.UploadSession:
    """A live session by its upload id (404 unknown, 410 terminated or expired); one found in
    ``completing`` (a crash during completion) is rolled forward first."""
    session = _check_alive(await ctx.run_db(_get, ctx.engine, hash_id(upload_id)))
    if session.state == q.COMPLETING:
        session = await _roll_forward(ctx, session)
    return session


async def find_natural(ctx: Context, natural_key: str) -> q.UploadSession | None:
    session = await ctx.run_db(_get_natural, ctx.engine, natural_key)
    if session is None or session.state == q.TERMINATED or session.expires_at < time.time():
        return None
    return session


# ---------------------------------------------------------------- appending


def _mismatch(offset: int, held: int) -> str:
    return f"Upload-Offset {offset} does not match the {held} bytes the server holds."


class Appender:
    """One request's bytes for a session: ``start``, ``write`` each chunk, then ``finish`` (the
    body is complete) or ``interrupted`` (it was cut short), and always ``close``.

    Without ``whole`` (tus without a checksum), bytes are made durable and recorded every
    ``upload_commit_bytes`` and whatever arrived is kept when the body is cut short. With a
    checksum, or ``expected`` (a Seafile chunk's declared size), the request is all or nothing.
    """

    def __init__(
        self,
        ctx: Context,
        session: q.UploadSession,
        lease: Lease,
        writer: PartialWriter,
        checksum: Checksum | None,
        expected: int | None,
    ) -> None:
        self.ctx = ctx
        self.session = session
        self.lease = lease
        self.writer: PartialWriter | None = writer
        self.checksum = checksum
        self.expected = expected
        self.whole = checksum is not None or expected is not None
        self.position = self.recorded = session.received
        self.sha = _take_hash(session.id_hash, session.received)
        if self.sha is None and session.received == 0:
            self.sha = hashlib.sha256()
        self.check = tus.CHECKSUM_ALGORITHMS[checksum.algorithm]() if checksum else None
        self._pieces: list[Piece] = []
        self._pending = 0
        self._batch: asyncio.Future[None] | None = None

    @classmethod
    async def start(
        cls,
        ctx: Context,
        session: q.UploadSession,
        *,
        offset: int,
        checksum: Checksum | None = None,
        declared: int | None = None,
        expected: int | None = None,
    ) -> Appender:
        if session.state == q.DONE:
            raise Conflict(f"Upload is complete: it holds all {session.length} bytes.")
        if offset != session.received:
            raise Conflict(_mismatch(offset, session.received))
        if declared is not None and offset + declared > session.length:
            raise PayloadTooLarge(f"{offset + declared} bytes would exceed Upload-Length {session.length}.")
        lease = Lease(ctx, session.id_hash)
        await lease.take()
        try:
            fresh = _check_alive(await ctx.run_db(_get, ctx.engine, session.id_hash))
            if fresh.received != offset or fresh.state != q.OPEN:
                raise Conflict(_mismatch(offset, fresh.received))
            writer = await ctx.blobs.open_partial(fresh.blob_key, fresh.store_state, offset)
        except BaseException:
            await lease.release()
            raise
        return cls(ctx, fresh, lease, writer, checksum, expected)

    async def write(self, chunk: Piece) -> None:
        if not chunk:
            return
        length = self.session.length
        if self.position + len(chunk) > length:
            raise PayloadTooLarge(f"The body goes past Upload-Length {length}.")
        if self.expected is not None and self.position + len(chunk) - self.recorded > self.expected:
            raise InvalidInput("The chunk is longer than its Content-Range says.")
        self.position += len(chunk)
        self._pieces.append(chunk)
        self._pending += len(chunk)
        if self._pending >= self.ctx.settings.chunk_bytes:
            await self._send()
        if (
            not self.whole
            and self.position - self.recorded >= self.ctx.settings.upload_commit_bytes
            and self.position < length
        ):
            await self._make_durable()

    async def _send(self) -> None:
        """Hand the gathered pieces on: hashed on a worker thread while the store writes them,
        one batch in flight while the next arrives (the order is kept)."""
        pieces, self._pieces, self._pending = self._pieces, [], 0
        await self._drain_batch()
        await self.lease.keep()
        self._batch = asyncio.ensure_future(self._process(pieces))

    async def _process(self, pieces: list[Piece]) -> None:
        assert self.writer is not None
        writer = self.writer

        async def write_all() -> None:
            for piece in pieces:
                await writer.write(piece)

        await asyncio.gather(anyio.to_thread.run_sync(self._hash, pieces), write_all())

    def _hash(self, pieces: list[Piece]) -> None:
        for piece in pieces:
            if self.sha is not None:
                self.sha.update(piece)
            if self.check is not None:
                self.check.update(piece)

    async def _drain_batch(self) -> None:
        if self._batch is not None:
            batch, self._batch = self._batch, None
            await batch

    async def _drain(self) -> None:
        if self._pieces:
            await self._send()
        await self._drain_batch()

    async def finish(self) -> q.UploadSession:
        """The body is complete: check it, make it durable, and complete the upload at its end."""
        await self._drain()
        check, wanted = self.check, self.checksum
        if wanted is not None and check is not None and check.digest() != wanted.digest:
            raise ChecksumMismatch("Upload-Checksum does not match the bytes received; nothing was stored.")
        if self.expected is not None and self.position - self.recorded != self.expected:
            raise InvalidInput(
                f"The chunk holds {self.position - self.recorded} bytes, "
                f"its Content-Range says {self.expected}."
            )
        if self.position > self.recorded or self.position == self.session.length:
            await self._make_durable(final=self.position == self.session.length)
        await self._close_writer()
        if self.session.state == q.COMPLETING:
            return await _complete(self.ctx, self.session, self.lease, self.sha)
        if self.sha is not None:
            _keep_hash(self.session.id_hash, self.recorded, self.sha)
        return self.session

    async def close(self) -> None:
        if self._batch is not None:  # a failed request: let the batch in flight end first
            batch, self._batch = self._batch, None
            with contextlib.suppress(Exception):
                await batch
        await self._close_writer()
        await self.lease.release()

    async def _close_writer(self) -> None:
        if self.writer is not None:
            writer, self.writer = self.writer, None
            await writer.close()

    async def _make_durable(self, *, final: bool = False) -> None:
        await self._drain()
        assert self.writer is not None
        offset, state = await self.writer.sync()
        assert offset == self.position
        values: dict[str, Any] = {
            "received": offset,
            "store_state": state,
            "expires_at": time.time() + self.ctx.settings.upload_session_ttl_s,
        }
        if final:
            values["state"] = q.COMPLETING
        await self.lease.record(**values)
        await self.writer.committed()
        self.recorded = offset
        self.session = replace(
            self.session, received=offset, store_state=state, state=values.get("state", self.session.state)
        )


async def append(
    ctx: Context,
    session: q.UploadSession,
    chunks: AsyncIterator[bytes],
    *,
    offset: int,
    checksum: Checksum | None = None,
    declared: int | None = None,
) -> q.UploadSession:
    """Write one request's bytes at ``offset`` (a body iterator that ends early is a cut-short
    body); the session as recorded afterwards."""
    if session.state == q.DONE and offset == session.length and not declared:
        return session  # a retried last PATCH of a completed upload
    appender = await Appender.start(ctx, session, offset=offset, checksum=checksum, declared=declared)
    try:
        async for chunk in chunks:
            await appender.write(chunk)
        return await appender.finish()
    finally:
        await appender.close()


# ---------------------------------------------------------------- completion


async def _roll_forward(ctx: Context, session: q.UploadSession) -> q.UploadSession:
    lease = Lease(ctx, session.id_hash)
    await lease.take((q.COMPLETING,))
    try:
        return await _complete(ctx, session, lease, None)
    finally:
        await lease.release()


async def _complete(ctx: Context, session: q.UploadSession, lease: Lease, sha: Any | None) -> q.UploadSession:
    await ctx.blobs.complete_partial(session.blob_key, session.store_state, session.length)
    if sha is None:
        size, hexdigest = await digest(ctx.blobs, session.blob_key)
        if size != session.length:
            raise Conflict(f"The stored upload holds {size} bytes, not {session.length}.")
    else:
        hexdigest = sha.hexdigest()
    blob = BlobInfo(key=session.blob_key, size=session.length, sha256=hexdigest)
    try:
        done, old_keys = await ctx.run_db(_commit_done, ctx, session, lease.id, blob)
    except QuotaExceeded:
        await quota.drop_completed(ctx, session.blob_key, lease)  # nothing left behind
        raise
    for key in old_keys:
        await _forget_blob(ctx, key)
    return done


def _commit_done(
    ctx: Context, session: q.UploadSession, lease_id: str, blob: BlobInfo
) -> tuple[q.UploadSession, list[str]]:
    """The asset (and the attached cell) and the session's ``done``, in one transaction."""
    with write_tx(ctx.engine) as conn:
        assets, old_keys = _commit_in(
            conn,
            session.dtable_uuid,
            session.dir_path,
            [PendingFile(name=session.name, blob=blob)],
            session.replace_existing,
            quota_bytes=ctx.settings.base_quota_bytes,
        )
        asset = assets[0]
        result = _result(conn, ctx.settings.public_url, session, asset)
        if session.attach is not None:
            entry = {"name": asset.name, "size": asset.size, "type": session.file_type, "url": result["url"]}
            target = AttachTarget.from_json(session.attach)
            result["row_id"] = append_cell(conn, session.dtable_uuid, target, entry=entry, by=session.actor)
            result["table_id"] = target.table_id
        expires = time.time() + ctx.settings.upload_session_ttl_s
        if not q.record(conn, session.id_hash, lease_id, state=q.DONE, result=result, expires_at=expires):
            raise Conflict(TAKEN_OVER)
    return replace(session, state=q.DONE, result=result, expires_at=expires), old_keys


def _result(conn: Connection, public_url: str, session: q.UploadSession, asset: Any) -> dict[str, Any]:
    if paths.is_under(session.dir_path, CUSTOM_DIR):
        relative = session.dir_path[len(CUSTOM_DIR) :].strip("/")
        url = links.custom_asset_url(asset_uuid=asset.uuid, name=asset.name)
    else:
        relative = session.dir_path.strip("/")
        dtable = access_q.get_dtable(conn, session.dtable_uuid)
        workspace = dtable.workspace_id if dtable is not None else 0
        url = links.asset_url(
            public_url,
            workspace_id=workspace,
            dtable_uuid=session.dtable_uuid,
            relative_path=relative,
            name=asset.name,
        )
    return {
        "name": asset.name,
        "size": asset.size,
        "sha256": asset.sha256,
        "id": file_id(asset),
        "type": session.file_type,
        "relative_path": relative,
        "url": url,
    }


# ---------------------------------------------------------------- ending


async def terminate(ctx: Context, session: q.UploadSession) -> None:
    """tus termination: the session and its bytes go (a completed upload's file stays)."""
    lease = Lease(ctx, session.id_hash)
    await lease.take((q.OPEN, q.COMPLETING, q.DONE))
    try:
        await lease.record(state=q.TERMINATED, expires_at=time.time() + ctx.settings.upload_session_ttl_s)
        if session.state != q.DONE:
            await ctx.blobs.discard_partial(session.blob_key, session.store_state)
    finally:
        await lease.release()


async def discard(ctx: Context, session: q.UploadSession) -> None:
    """Drop a session and its bytes now (a chunked upload restarted from byte 0)."""
    lease = Lease(ctx, session.id_hash)
    await lease.take((q.OPEN, q.COMPLETING, q.DONE, q.TERMINATED))
    await ctx.blobs.discard_partial(session.blob_key, session.store_state)
    await ctx.run_db(_delete, ctx.engine, session.id_hash)


def _delete(engine: Engine, id_hash: str) -> None:
    with write_tx(engine) as conn:
        q.delete_session(conn, id_hash)
