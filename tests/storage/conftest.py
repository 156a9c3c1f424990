"""Blob stores for the contract suite: one per kind, each in a fresh namespace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from atoll.config import MiB, Settings
from atoll.storage import BlobStore, MemoryBlobStore, open_blob_store
from tests.services import moto

#: Small sizes so multipart paths run with little data: S3's smallest part, 64 KiB chunks.
TEST_PART_BYTES = 5 * MiB
TEST_CHUNK_BYTES = 64 * 1024


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def s3_settings(endpoint: str, **changes: object) -> Settings:
    base = Settings(
        s3_endpoint_url=endpoint, s3_region="us-east-1", s3_access_key_id="testing",
        s3_secret_access_key="testing", s3_part_bytes=TEST_PART_BYTES, chunk_bytes=TEST_CHUNK_BYTES,
        s3_abandoned_after_s=0, s3_timeout_s=5, s3_max_attempts=3,
    )
    return base.with_(**changes)


def store_url(kind: str, tmp_path: Path) -> tuple[str, Settings]:
    if kind == "s3":
        m = moto()
        return m.new_storage_url(), s3_settings(m.endpoint)
    settings = Settings(chunk_bytes=TEST_CHUNK_BYTES, s3_abandoned_after_s=0, data_dir=tmp_path)
    if kind == "local":
        return (tmp_path / "blobs").as_uri(), settings
    return "memory://", settings


class Stores:
    """Opens stores on one place, as separate processes would (memory: the one shared dict)."""

    def __init__(self, url: str, settings: Settings) -> None:
        self.url, self.settings = url, settings
        self.opened: list[BlobStore] = []

    def open(self) -> BlobStore:
        first = self.opened[0] if self.opened else None
        store = first if isinstance(first, MemoryBlobStore) else open_blob_store(self.url, self.settings)
        self.opened.append(store)
        return store


@pytest.fixture(params=["local", "memory", "s3"])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    opened = Stores(*store_url(request.param, tmp_path))
    try:
        yield opened
    finally:
        for blob_store in opened.opened:
            await blob_store.aclose()


@pytest.fixture
def store(stores: Stores) -> BlobStore:
    return stores.open()
