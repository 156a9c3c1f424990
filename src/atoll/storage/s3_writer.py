"""One blob streamed to S3: a single PUT when it fits in one part, else a multipart upload.

Memory: pieces are gathered until a part is full; at most ``parts_in_flight`` parts upload at
once while the next one fills, so an upload holds about (parts_in_flight + 1) parts. A part's
bytes are kept until its upload succeeded, so botocore's retries resend exactly them.

Hashing: the blob's SHA-256 is updated part by part on worker threads, in order (each part's hash
step waits for the previous one). Each part also carries its own SHA-256 (S3 verifies it); a
single PUT carries the blob's SHA-256.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
from typing import TYPE_CHECKING, Any

import anyio

from atoll.errors import StorageError
from atoll.models import BlobInfo
from atoll.storage.base import Piece
from atoll.storage.s3_support import first_part_bytes, part_bytes

if TYPE_CHECKING:
    from atoll.storage.s3 import S3BlobStore

log = logging.getLogger(__name__)
#: Pieces smaller than this are hashed on the event loop (a thread hop costs more).
HASH_INLINE_BYTES = 64 * 1024


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _join(pieces: list[Piece]) -> bytes:
    return pieces[0] if len(pieces) == 1 and isinstance(pieces[0], bytes) else b"".join(pieces)


class S3BlobWriter:
    def __init__(self, store: S3BlobStore, key: str, size_hint: int | None) -> None:
        self.key = key
        self._store = store
        self._object_key = store.location.object_key(key)
        self._first_part = first_part_bytes(store.part_bytes, size_hint)
        self._pieces: list[Piece] = []
        self._buffered = 0
        self._size = 0
        self._hash = hashlib.sha256()
        self._hash_step: asyncio.Task[None] | None = None
        self._upload_id: str | None = None
        self._parts: dict[int, dict[str, Any]] = {}
        self._part_count = 0  # parts handed to uploads
        self._uploads: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(max(1, store.parts_in_flight))
        self._state = "open"  # open -> committed | aborted

    @property
    def upload_id(self) -> str | None:
        return self._upload_id

    def _next_part_bytes(self) -> int:
        return part_bytes(self._first_part, self._part_count + 1)

    def unwritten_bytes(self) -> int:
        return self._buffered  # S3 shows no free space (free_bytes() is None): never checked

    async def write(self, data: Piece) -> None:
        if self._state != "open":
            raise StorageError(f"S3 store {self._store.url}: write to a finished blob writer")
        if not data:
            return
        self._pieces.append(data)
        self._buffered += len(data)
        if self._buffered >= self._next_part_bytes():
            try:
                await self._flush_part()
            except BaseException:
                await self.abort()
                raise

    def _take(self) -> list[Piece]:
        pieces, self._pieces = self._pieces, []
        self._size += self._buffered
        self._buffered = 0
        return pieces

    async def _hash_in_order(self, previous: asyncio.Task[None] | None, pieces: list[Piece]) -> None:
        if previous is not None:
            await previous
        if sum(len(p) for p in pieces) <= HASH_INLINE_BYTES:
            self._hash_pieces(pieces)
        else:
            await self._store.run(self._hash_pieces, pieces)

    def _hash_pieces(self, pieces: list[Piece]) -> None:
        for piece in pieces:
            self._hash.update(piece)

    def _raise_failed_uploads(self) -> None:
        for task in [t for t in self._uploads if t.done()]:
            self._uploads.discard(task)
            task.result()  # raises the part's StorageError, if it failed

    async def _flush_part(self) -> None:
        self._raise_failed_uploads()
        if self._upload_id is None:
            self._upload_id = await self._store.create_multipart(self._object_key)
        pieces = self._take()
        self._hash_step = asyncio.create_task(self._hash_in_order(self._hash_step, pieces))
        await self._slots.acquire()
        self._part_count += 1
        number = self._part_count
        task = asyncio.create_task(self._upload_part(number, pieces))
        self._uploads.add(task)
        task.add_done_callback(lambda _t: self._slots.release())

    async def _upload_part(self, number: int, pieces: list[Piece]) -> None:
        assert self._upload_id is not None
        etag, checksum = await self._store.upload_part(self._object_key, self._upload_id, number, pieces)
        self._parts[number] = {"PartNumber": number, "ETag": etag, "ChecksumSHA256": checksum}

    async def _finish_hash(self) -> str:
        if self._hash_step is not None:
            await self._hash_step
        return self._hash.hexdigest()

    async def commit(self) -> BlobInfo:
        if self._state != "open":
            raise StorageError(f"S3 store {self._store.url}: commit of a finished blob writer")
        try:
            if self._upload_id is None:
                pieces = self._take()
                await self._hash_in_order(self._hash_step, pieces)
                digest = self._hash.digest()
                await self._store.put_small(self._object_key, pieces, _b64(digest))
            else:
                if self._pieces:
                    await self._flush_part()
                while self._uploads:
                    done = self._uploads.pop()
                    await done
                await self._finish_hash()
                await self._store.complete_multipart(self._object_key, self._upload_id, self._parts)
            self._state = "committed"
            return BlobInfo(key=self.key, size=self._size, sha256=self._hash.hexdigest())
        except BaseException:
            await self.abort()
            raise

    async def abort(self) -> None:
        """Wait for part uploads still running, then abort the multipart upload (shielded)."""
        if self._state != "open":
            return
        self._state = "aborted"
        self._pieces, self._buffered = [], 0
        with anyio.CancelScope(shield=True):
            for task in list(self._uploads):
                with contextlib.suppress(BaseException):
                    await task
            self._uploads.clear()
            if self._hash_step is not None:
                with contextlib.suppress(BaseException):
                    await self._hash_step
            if self._upload_id is not None:
                try:
                    await self._store.abort_multipart(self._object_key, self._upload_id)
                except StorageError as exc:  # left for sweep(); never mask the original error
                    log.warning("%s (sweep will retry)", exc.message)
