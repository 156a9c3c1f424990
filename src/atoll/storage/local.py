"""Blobs on local disk: ``<root>/ab/cd/<32 hex>``, temp files in ``<root>/tmp``.

Writes: pieces are gathered to ``chunk_bytes``, then written (``storage/sinks.py``: direct I/O
where possible) and hashed on two ordered worker threads; commit is fsync -> rename ->
fsync(dir).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import os
import re
import uuid
from collections import deque
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio.to_thread

from atoll.models import BlobInfo
from atoll.storage.sinks import Piece, open_sink

TEMP_DIR = "tmp"
TEMP_SUFFIX = ".part"
#: Chunks handed to the worker threads but not yet written and hashed: parsing the next chunk
#: overlaps with writing and hashing this one. Memory per upload is at most (this + 1) x chunk_bytes.
MAX_CHUNKS_IN_FLIGHT = 3
KEY_RE = re.compile(r"^[0-9a-f]{32}$")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBlobWriter:
    """Streams one blob to a temp file. Full chunks go to two ordered worker threads, one writing
    and one hashing, so the event loop keeps parsing while both run (bounded in-flight)."""

    def __init__(self, store: LocalBlobStore, key: str) -> None:
        self.key = key
        self._store = store
        self._temp = store.root / TEMP_DIR / (key + TEMP_SUFFIX)
        self._sink = open_sink(self._temp, store.chunk_bytes)
        self._hash = hashlib.sha256()
        self._pieces: list[Piece] = []
        self._pending = 0  # bytes in self._pieces
        self._size = 0  # bytes handed to the writer thread
        self._closed = False
        self._pools: tuple[ThreadPoolExecutor, ThreadPoolExecutor] | None = None
        self._in_flight: deque[asyncio.Future[None]] = deque()

    def _hash_sync(self, pieces: list[Piece]) -> None:
        for piece in pieces:
            self._hash.update(piece)

    async def write(self, data: Piece) -> None:
        """Take ``data`` (it must not change afterwards: memoryviews of bytes are kept as is)."""
        if not data:
            return
        self._pieces.append(data)
        self._pending += len(data)
        if self._pending < self._store.chunk_bytes:
            return
        pieces, self._pieces, self._pending = self._pieces, [], 0
        self._size += sum(len(p) for p in pieces)
        if self._pools is None:  # made on the first full chunk; small files never need them
            self._pools = (
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="atoll-write"),
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="atoll-hash"),
            )
        writer, hasher = self._pools
        self._in_flight.append(asyncio.wrap_future(writer.submit(self._sink.write, pieces)))
        self._in_flight.append(asyncio.wrap_future(hasher.submit(self._hash_sync, pieces)))
        while self._in_flight and (
            len(self._in_flight) > 2 * MAX_CHUNKS_IN_FLIGHT or self._in_flight[0].done()
        ):
            await self._in_flight.popleft()

    async def _drain(self, *, raise_errors: bool) -> None:
        while self._in_flight:
            future = self._in_flight.popleft()
            try:
                await future
            except BaseException:
                if raise_errors:
                    raise
        if self._pools is not None:
            for pool in self._pools:
                pool.shutdown(wait=True)
            self._pools = None

    def _commit_sync(self) -> BlobInfo:
        if self._pieces:
            self._size += self._pending
            self._sink.write(self._pieces)
            self._hash_sync(self._pieces)
            self._pieces, self._pending = [], 0
        self._closed = True
        self._sink.finish()
        final = self._store.path_for(self.key)
        created = self._store.ensure_parent(final)
        os.rename(self._temp, final)
        _fsync_dir(final.parent)
        for parent in created:
            _fsync_dir(parent)
        return BlobInfo(key=self.key, size=self._size, sha256=self._hash.hexdigest())

    async def commit(self) -> BlobInfo:
        try:
            await self._drain(raise_errors=True)
            return await anyio.to_thread.run_sync(self._commit_sync)
        except BaseException:
            await self.abort()
            raise

    def _abort_sync(self) -> None:
        if not self._closed:
            self._closed = True
            self._sink.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._temp)

    async def abort(self) -> None:
        # Shielded: abort runs on cancellation paths and must finish.
        with anyio.CancelScope(shield=True):
            await self._drain(raise_errors=False)
            await anyio.to_thread.run_sync(self._abort_sync)


class LocalBlobStore:
    def __init__(self, root: Path, *, chunk_bytes: int) -> None:
        self.root = root.resolve()
        self.chunk_bytes = chunk_bytes
        (self.root / TEMP_DIR).mkdir(parents=True, exist_ok=True)

    def path_for(self, key: str) -> Path:
        if not KEY_RE.match(key):
            raise ValueError("invalid blob key")
        return self.root / key[:2] / key[2:4] / key

    def ensure_parent(self, final: Path) -> list[Path]:
        """Create the two fan-out folders if needed; return the dirs whose entries changed."""
        created: list[Path] = []
        for folder in (final.parent.parent, final.parent):
            try:
                folder.mkdir()
                created.append(folder.parent)
            except FileExistsError:
                pass
        return created

    async def create(self) -> LocalBlobWriter:
        return LocalBlobWriter(self, uuid.uuid4().hex)

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        path = self.path_for(key)
        fd = await anyio.to_thread.run_sync(os.open, path, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            pos = start
            while end is None or pos < end:
                want = self.chunk_bytes if end is None else min(self.chunk_bytes, end - pos)
                data = await anyio.to_thread.run_sync(os.pread, fd, want, pos)
                if not data:
                    break
                pos += len(data)
                yield data
        finally:
            os.close(fd)

    def local_path(self, key: str) -> Path | None:
        return self.path_for(key)

    async def size(self, key: str) -> int:
        return (await anyio.to_thread.run_sync(os.stat, self.path_for(key))).st_size

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await anyio.to_thread.run_sync(os.unlink, self.path_for(key))

    def _sweep_sync(self) -> int:
        count = 0
        for entry in os.scandir(self.root / TEMP_DIR):
            if entry.name.endswith(TEMP_SUFFIX):
                try:
                    os.unlink(entry.path)
                    count += 1
                except OSError as exc:
                    if exc.errno != errno.ENOENT:
                        raise
        return count

    async def sweep_temp(self) -> int:
        return await anyio.to_thread.run_sync(self._sweep_sync)

    def _keys_sync(self) -> list[str]:
        out: list[str] = []
        for first in os.scandir(self.root):
            if first.name == TEMP_DIR or not first.is_dir(follow_symlinks=False):
                continue
            for second in os.scandir(first.path):
                if second.is_dir(follow_symlinks=False):
                    out += [e.name for e in os.scandir(second.path) if KEY_RE.match(e.name)]
        return out

    async def keys(self) -> list[str]:
        return await anyio.to_thread.run_sync(self._keys_sync)
