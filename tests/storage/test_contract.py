"""The blob store contract (``atoll.storage.base``), run against every store: local, memory, S3."""

from __future__ import annotations

import hashlib
import os
import random

import anyio
import pytest

from atoll.errors import StorageError
from atoll.storage import BlobStore
from atoll.storage.base import new_key
from tests.storage.conftest import TEST_PART_BYTES, Stores

pytestmark = pytest.mark.anyio

#: Just over one S3 part: enough for a multipart upload (and a temp file) to exist.
OVER_ONE_PART = TEST_PART_BYTES + 1


async def put(store: BlobStore, data: bytes, key: str | None = None, piece: int = 100_000) -> str:
    writer = await store.create(key, size_hint=len(data))
    for pos in range(0, len(data), piece):
        await writer.write(memoryview(data)[pos:pos + piece])
    info = await writer.commit()
    assert info.size == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    return info.key


async def read(store: BlobStore, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in store.open(key, start, end)])


async def keys(store: BlobStore) -> set[str]:
    return {stat.key async for stat in store.list()}


async def test_put_commit_open_whole(store: BlobStore) -> None:
    data = os.urandom(300_000)
    key = await put(store, data)
    assert await read(store, key) == data


@pytest.mark.parametrize(("start", "end"), [(0, 1), (5, 100), (299_999, None), (1000, 1000),
                                            (0, 10**9), (250_000, 400_000), (300_000, None)])
async def test_open_ranges(store: BlobStore, start: int, end: int | None) -> None:
    data = os.urandom(300_000)
    key = await put(store, data)
    assert await read(store, key, start, end) == data[start:end]


async def test_stat(store: BlobStore) -> None:
    key = await put(store, b"x" * 1234)
    stat = await store.stat(key)
    assert (stat.key, stat.size) == (key, 1234)
    assert stat.mtime > 1_600_000_000


async def test_delete_and_delete_missing(store: BlobStore) -> None:
    key = await put(store, b"gone soon")
    await store.delete(key)
    with pytest.raises(FileNotFoundError):
        await store.stat(key)
    await store.delete(key)
    await store.delete(new_key())


async def test_missing_key(store: BlobStore) -> None:
    key = new_key()
    with pytest.raises(FileNotFoundError):
        await read(store, key)
    with pytest.raises(FileNotFoundError):
        await read(store, key, 0, 0)
    with pytest.raises(FileNotFoundError):
        await store.stat(key)


async def test_overwrite_same_key(store: BlobStore) -> None:
    key = await put(store, b"first version")
    assert await put(store, b"second", key) == key
    assert await read(store, key) == b"second"
    assert (await store.stat(key)).size == 6


async def test_empty_blob(store: BlobStore) -> None:
    key = await put(store, b"")
    assert await read(store, key) == b""
    assert (await store.stat(key)).size == 0
    assert key in await keys(store)


async def test_large_blob_across_parts(store: BlobStore) -> None:
    data = random.Random(1).randbytes(40 * 1024 * 1024 + 17)
    writer = await store.create()  # no size hint: the part size follows the settings
    for pos in range(0, len(data), 1 << 20):
        await writer.write(data[pos:pos + (1 << 20)])
    info = await writer.commit()
    assert (info.size, info.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert await read(store, info.key, 12_345_678, 30_000_000) == data[12_345_678:30_000_000]
    assert hashlib.sha256(await read(store, info.key)).hexdigest() == info.sha256
    assert await store.pending() == []


async def test_concurrent_writers(store: BlobStore) -> None:
    blobs = [os.urandom(n) for n in (0, 1, 1000, 70_000, 200_000, 500_000, OVER_ONE_PART, 123)]
    found: dict[int, str] = {}

    async def one(i: int) -> None:
        found[i] = await put(store, blobs[i], piece=33_333)

    async with anyio.create_task_group() as tg:
        for i in range(len(blobs)):
            tg.start_soon(one, i)
    for i, data in enumerate(blobs):
        assert await read(store, found[i]) == data
    assert set(found.values()) <= await keys(store)
    assert await store.pending() == []


async def test_abort_leaves_nothing(store: BlobStore) -> None:
    kept = await put(store, b"kept")
    writer = await store.create()
    await writer.write(os.urandom(OVER_ONE_PART))
    await writer.write(b"tail")
    assert await store.pending() != []  # the unfinished write exists (temp file, multipart upload)
    await writer.abort()
    await writer.abort()  # idempotent
    assert await store.pending() == []
    assert await keys(store) == {kept}
    with pytest.raises(FileNotFoundError):
        await store.stat(writer.key)


async def test_write_after_abort_fails(store: BlobStore) -> None:
    writer = await store.create()
    await writer.write(b"abc")
    await writer.abort()
    with pytest.raises((StorageError, ValueError, OSError)):
        await writer.write(b"more")
    with pytest.raises((StorageError, ValueError, OSError)):
        await writer.commit()
    assert await keys(store) == set()


async def test_list_only_committed(store: BlobStore) -> None:
    committed = {await put(store, os.urandom(n)) for n in (0, 10, 5000)}
    open_writer = await store.create()
    await open_writer.write(b"not yet")
    listed = {stat.key: stat.size async for stat in store.list()}
    assert set(listed) == committed
    assert sorted(listed.values()) == [0, 10, 5000]
    await open_writer.abort()


async def test_sweep_removes_abandoned_writes(stores: Stores) -> None:
    """A process dies mid-upload; another one's sweep removes what it left (the test stores count
    every unfinished S3 upload as abandoned: s3_abandoned_after_s = 0)."""
    crashed, survivor = stores.open(), stores.open()
    kept = await put(survivor, b"kept")
    writer = await crashed.create()
    await writer.write(os.urandom(OVER_ONE_PART))
    await crashed.aclose()  # local: the kernel drops its lease; the writer is never finished
    assert len(await survivor.pending()) == 1
    assert await survivor.sweep() == 1
    assert await survivor.pending() == []
    assert await keys(survivor) == {kept}
