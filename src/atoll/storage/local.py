"""Blobs on local disk: ``<root>/ab/cd/<32 hex>``, temp files in ``<root>/tmp``.

Writes: buffer to ``chunk_bytes``, write and hash in a worker thread, start writeback early
(``sync_file_range``) so the final fsync is short, then fsync -> rename -> fsync(dir).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
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

TEMP_DIR = "tmp"
TEMP_SUFFIX = ".part"
#: Start writeback of dirty pages every this many bytes, so the final fsync stays short.
WRITEBACK_EVERY_BYTES = 32 * 1024 * 1024
#: Chunks handed to the worker threads but not yet written and hashed: parsing the next chunk
#: overlaps with writing and hashing this one. Memory per upload is at most (this + 1) x chunk_bytes.
MAX_CHUNKS_IN_FLIGHT = 3
KEY_RE = re.compile(r"^[0-9a-f]{32}$")
_SYNC_FILE_RANGE_WRITE = 2

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_sync_file_range = getattr(_libc, "sync_file_range", None)
if _sync_file_range is not None:
    _sync_file_range.argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint]


def _start_writeback(fd: int, offset: int, nbytes: int) -> None:
    if _sync_file_range is not None:
        _sync_file_range(fd, offset, nbytes, _SYNC_FILE_RANGE_WRITE)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


Piece = bytes | bytearray | memoryview


def _write_all(fd: int, pieces: list[Piece]) -> None:
    """``writev`` the pieces, finishing any short write."""
    total = sum(len(p) for p in pieces)
    written = os.writev(fd, pieces)
    if written == total:
        return
    rest = memoryview(b"".join(bytes(p) for p in pieces))[written:]
    while rest:
        rest = rest[os.write(fd, rest):]


class LocalBlobWriter:
    """Streams one blob to a temp file. Full chunks go to two ordered worker threads, one writing
    and one hashing, so the event loop keeps parsing while both run (bounded in-flight)."""

    def __init__(self, store: LocalBlobStore, key: str) -> None:
        self.key = key
        self._store = store
        self._temp = store.root / TEMP_DIR / (key + TEMP_SUFFIX)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        self._fd = os.open(self._temp, flags, 0o640)
        self._hash = hashlib.sha256()
        self._pieces: list[Piece] = []
        self._pending = 0  # bytes in self._pieces
        self._size = 0  # bytes handed to the writer thread
        self._synced_to = 0
        self._closed = False
        self._pools: tuple[ThreadPoolExecutor, ThreadPoolExecutor] | None = None
        self._in_flight: deque[asyncio.Future[None]] = deque()

    def _write_sync(self, pieces: list[Piece], end: int) -> None:
        _write_all(self._fd, pieces)
        if end - self._synced_to >= WRITEBACK_EVERY_BYTES:
            _start_writeback(self._fd, self._synced_to, end - self._synced_to)
            self._synced_to = end

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
        self._in_flight.append(asyncio.wrap_future(writer.submit(self._write_sync, pieces, self._size)))
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
            self._write_sync(self._pieces, self._size)
            self._hash_sync(self._pieces)
            self._pieces, self._pending = [], 0
        os.fsync(self._fd)
        os.close(self._fd)
        self._closed = True
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
            os.close(self._fd)
            self._closed = True
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
