"""The memory blob store with tiny chunks, a record of every blob written, and a switch to make
chosen copies fail: enough to test the blob-moving service without a server."""

from __future__ import annotations

from atoll.errors import StorageError
from atoll.models import BlobInfo
from atoll.storage.base import Piece
from atoll.storage.memory import MemoryBlobStore, MemoryBlobWriter

CHUNK = 4


class FakeWriter(MemoryBlobWriter):
    _store: FakeStore

    async def write(self, data: Piece) -> None:
        if self.key in self._store.fail_writes:
            self._store.fail_writes.discard(self.key)
            raise StorageError("injected write failure")
        await super().write(data)

    async def commit(self) -> BlobInfo:
        info = await super().commit()
        self._store.creates.append(self.key)
        return info


class FakeStore(MemoryBlobStore):
    def __init__(self, url: str = "fake://") -> None:
        super().__init__(url, chunk_bytes=CHUNK)
        self.creates: list[str] = []
        self.fail_writes: set[str] = set()

    async def create(self, key: str | None = None, *, size_hint: int | None = None) -> FakeWriter:
        assert key is not None
        writer = FakeWriter(self, key)
        self.writers[id(writer)] = writer
        return writer
