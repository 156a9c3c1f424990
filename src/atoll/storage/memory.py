"""Blobs in a dict (``memory://``): for tests, and the simplest reading of the contract."""

from __future__ import annotations

import builtins
import hashlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

from atoll.errors import StorageError, StorageUnavailable
from atoll.models import BlobInfo
from atoll.storage.base import BlobStat, Piece, check_key, new_key
from atoll.storage.partial import State


class MemoryBlobWriter:
    def __init__(self, store: MemoryBlobStore, key: str) -> None:
        self.key = key
        self.started = time.time()
        self._store = store
        self._pieces: list[bytes] = []
        self._open = True

    async def write(self, data: Piece) -> None:
        if not self._open:
            raise StorageError(f"memory store: write to a finished blob writer ({self.key})")
        self._pieces.append(bytes(data))

    def unwritten_bytes(self) -> int:
        return 0  # memory has no free-space limit

    async def commit(self) -> BlobInfo:
        if not self._open:
            raise StorageError(f"memory store: commit of a finished blob writer ({self.key})")
        await self.abort()
        data = b"".join(self._pieces)
        self._store.blobs[self.key] = data
        self._store.mtimes[self.key] = time.time()
        return BlobInfo(key=self.key, size=len(data), sha256=hashlib.sha256(data).hexdigest())

    async def abort(self) -> None:
        self._open = False
        self._store.writers.pop(id(self), None)


class MemoryPartialWriter:
    """A resumable upload in memory (tests): bytes are "durable" as soon as written."""

    def __init__(self, data: bytearray) -> None:
        self._data = data

    async def write(self, data: Piece) -> None:
        self._data += data

    async def sync(self) -> tuple[int, State]:
        return len(self._data), {}

    async def committed(self) -> None:
        return None

    async def close(self) -> None:
        return None


class MemoryBlobStore:
    def __init__(self, url: str = "memory://", *, chunk_bytes: int = 1024 * 1024,
                 abandoned_after_s: float = 0) -> None:
        self.url = url
        self.chunk_bytes = chunk_bytes
        self.abandoned_after_s = abandoned_after_s
        self.blobs: dict[str, bytes] = {}
        self.mtimes: dict[str, float] = {}
        self.writers: dict[int, MemoryBlobWriter] = {}
        self.partials: dict[str, bytearray] = {}

    async def create(self, key: str | None = None, *, size_hint: int | None = None) -> MemoryBlobWriter:
        writer = MemoryBlobWriter(self, check_key(key) if key is not None else new_key())
        self.writers[id(writer)] = writer
        return writer

    def _get(self, key: str) -> bytes:
        try:
            return self.blobs[check_key(key)]
        except KeyError:
            raise FileNotFoundError(key) from None

    async def open(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        data = self._get(key)
        stop = len(data) if end is None else min(end, len(data))
        for pos in range(start, stop, self.chunk_bytes):
            yield data[pos:min(pos + self.chunk_bytes, stop)]

    async def stat(self, key: str) -> BlobStat:
        data = self._get(key)
        return BlobStat(key=key, size=len(data), mtime=self.mtimes.get(key, 0.0))

    async def delete(self, key: str) -> None:
        self.blobs.pop(check_key(key), None)
        self.mtimes.pop(key, None)

    async def list(self) -> AsyncIterator[BlobStat]:
        for key, data in builtins.list(self.blobs.items()):
            yield BlobStat(key=key, size=len(data), mtime=self.mtimes.get(key, 0.0))

    async def pending(self) -> builtins.list[str]:
        return [w.key for w in self.writers.values()]

    async def sweep(self, keep: frozenset[str] = frozenset()) -> int:
        cutoff = time.time() - self.abandoned_after_s
        old = [w for w in self.writers.values() if w.started <= cutoff]
        for writer in old:
            await writer.abort()
        return len(old)

    async def open_partial(self, key: str, state: State, offset: int) -> MemoryPartialWriter:
        data = self.partials.setdefault(check_key(key), bytearray())
        if len(data) < offset:
            raise StorageUnavailable("the upload's stored bytes are fewer than its recorded offset")
        del data[offset:]
        return MemoryPartialWriter(data)

    async def complete_partial(self, key: str, state: State, size: int) -> None:
        data = self.partials.get(key)
        if data is None and len(self.blobs.get(key, b"")) == size:
            return
        if data is None or len(data) != size:
            raise StorageUnavailable("the upload's bytes are missing from storage")
        self.blobs[key], self.mtimes[key] = bytes(data), time.time()
        del self.partials[key]

    async def discard_partial(self, key: str, state: State) -> None:
        self.partials.pop(key, None)

    async def partial_keys(self) -> builtins.list[str]:
        return builtins.list(self.partials)

    def local_path(self, key: str) -> Path | None:
        return None

    async def presign(self, key: str, *, disposition: str, media_type: str, expires_s: int) -> str | None:
        return None

    async def check(self) -> None:
        return None

    async def free_bytes(self) -> int | None:
        return None

    async def aclose(self) -> None:
        return None
