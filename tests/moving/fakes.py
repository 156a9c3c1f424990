"""A tiny in-memory blob store for service tests, with a switch to make chosen copies fail."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

from atoll.errors import StorageError
from atoll.models import BlobInfo
from atoll.storage.base import BlobStat, Piece

CHUNK = 4


class FakeWriter:
    def __init__(self, store: FakeStore, key: str) -> None:
        self.key = key
        self._store = store
        self._parts: list[bytes] = []

    async def write(self, data: Piece) -> None:
        if self.key in self._store.fail_writes:
            self._store.fail_writes.discard(self.key)
            raise StorageError("injected write failure")
        self._parts.append(bytes(data))

    async def commit(self) -> BlobInfo:
        data = b"".join(self._parts)
        self._store.blobs[self.key] = data
        self._store.creates.append(self.key)
        return BlobInfo(self.key, len(data), hashlib.sha256(data).hexdigest())

    async def abort(self) -> None:
        self._parts.clear()


class FakeStore:
    def __init__(self, url: str = "fake://") -> None:
        self.url = url
        self.blobs: dict[str, bytes] = {}
        self.creates: list[str] = []
        self.fail_writes: set[str] = set()

    async def create(self, key: str | None = None, *, size_hint: int | None = None) -> FakeWriter:
        assert key is not None
        return FakeWriter(self, key)

    async def open(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        if key not in self.blobs:
            raise FileNotFoundError(key)
        data = self.blobs[key][start:end]
        for i in range(0, len(data), CHUNK):
            yield data[i : i + CHUNK]

    async def stat(self, key: str) -> BlobStat:
        if key not in self.blobs:
            raise FileNotFoundError(key)
        return BlobStat(key, len(self.blobs[key]), time.time())

    async def delete(self, key: str) -> None:
        self.blobs.pop(key, None)

    async def list(self) -> AsyncIterator[BlobStat]:
        for key, data in list(self.blobs.items()):
            yield BlobStat(key, len(data), time.time())

    async def pending(self) -> list[str]:
        return []

    async def sweep(self) -> int:
        return 0

    def local_path(self, key: str) -> Path | None:
        return None

    async def presign(self, key: str, *, filename: str, media_type: str, expires_s: int) -> str | None:
        return None

    async def check(self) -> None:
        return None

    async def aclose(self) -> None:
        return None
