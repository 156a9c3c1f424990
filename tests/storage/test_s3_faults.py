"""S3 under faults (500, 503 SlowDown, connection reset, stall) injected by a proxy in front of moto.

Each fault either is retried away (the blob arrives with the right bytes) or fails cleanly with
the mapped StorageError subclass, leaving no object and no unfinished multipart upload behind.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlparse

import pytest

from atoll.errors import StorageError, StorageTimeout, StorageUnavailable
from atoll.storage.s3 import S3BlobStore
from tests.faultproxy import Fault, FaultProxy, Kind
from tests.services import moto
from tests.storage.conftest import TEST_PART_BYTES, s3_settings

pytestmark = pytest.mark.anyio

EXPECTED: dict[Kind, type[StorageError]] = {
    "500": StorageError, "slowdown": StorageUnavailable, "reset": StorageUnavailable, "stall": StorageTimeout,
}
KINDS: list[Kind] = ["500", "slowdown", "reset", "stall"]
#: Requests each fault targets: a multipart part, a single PUT, a GET.
PART = {"method": "PUT", "target_contains": "partNumber="}
SINGLE_PUT = {"method": "PUT", "target_contains": "/t-", "target_excludes": "uploadId="}
GET = {"method": "GET", "target_contains": "/t-", "target_excludes": "list-type"}
#: Two and a bit parts, so the upload is multipart with parts in flight.
MULTIPART_BYTES = 2 * TEST_PART_BYTES + 1000
#: Per-test ceiling (the brief: each fault test stays under 5 s).
MAX_TEST_S = 5.0


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    parsed = urlparse(moto().endpoint)
    fault_proxy = FaultProxy((parsed.hostname or "127.0.0.1", parsed.port or 80))
    yield fault_proxy
    fault_proxy.close()


@pytest.fixture
async def store(proxy: FaultProxy) -> AsyncIterator[S3BlobStore]:
    # One second per attempt, two attempts: a single fault is retried, a repeated one fails fast.
    settings = s3_settings(proxy.endpoint, s3_timeout_s=1, s3_max_attempts=2, s3_abandoned_after_s=3600)
    blob_store = S3BlobStore(moto().new_storage_url(), settings)
    started = time.monotonic()
    yield blob_store
    await blob_store.aclose()
    assert time.monotonic() - started < MAX_TEST_S


async def upload(store: S3BlobStore, data: bytes) -> str:
    writer = await store.create()
    for pos in range(0, len(data), 1 << 20):
        await writer.write(data[pos:pos + (1 << 20)])
    info = await writer.commit()
    assert (info.size, info.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    return info.key


async def read(store: S3BlobStore, key: str) -> bytes:
    return b"".join([c async for c in store.open(key)])


async def nothing_left(store: S3BlobStore) -> None:
    assert await store.pending() == []
    assert [s async for s in store.list()] == []


def stall(kind: Kind) -> float:
    return 1.5 if kind == "stall" else 0.0  # longer than the 1 s timeout


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("target", "size"), [(PART, MULTIPART_BYTES), (SINGLE_PUT, 1000)])
async def test_one_fault_is_retried(store: S3BlobStore, proxy: FaultProxy, kind: Kind,
                                    target: dict[str, str], size: int) -> None:
    fault = Fault(kind, stall_s=stall(kind), **target)
    proxy.faults.append(fault)
    data = os.urandom(size)
    key = await upload(store, data)
    assert fault.hits == 1
    assert await read(store, key) == data
    assert await store.pending() == []


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("target", "size"), [(PART, MULTIPART_BYTES), (SINGLE_PUT, 1000)])
async def test_repeated_fault_fails_cleanly(store: S3BlobStore, proxy: FaultProxy, kind: Kind,
                                            target: dict[str, str], size: int) -> None:
    fault = Fault(kind, stall_s=stall(kind), times=1000, **target)
    proxy.faults.append(fault)
    writer = await store.create()
    with pytest.raises(StorageError) as caught:
        for pos in range(0, size, 1 << 20):
            await writer.write(os.urandom(min(1 << 20, size - pos)))
        await writer.commit()
    assert type(caught.value) is EXPECTED[kind]
    assert store.url in caught.value.message and "testing" not in caught.value.message
    assert fault.hits >= 2  # retried before giving up
    await writer.abort()
    fault.times = 0
    await nothing_left(store)


@pytest.mark.parametrize("kind", KINDS)
async def test_get_fault_is_retried(store: S3BlobStore, proxy: FaultProxy, kind: Kind) -> None:
    data = os.urandom(300_000)
    key = await upload(store, data)
    fault = Fault(kind, stall_s=stall(kind), **GET)
    proxy.faults.append(fault)
    assert await read(store, key) == data
    assert fault.hits == 1


@pytest.mark.parametrize("kind", KINDS)
async def test_get_fault_fails_mapped(store: S3BlobStore, proxy: FaultProxy, kind: Kind) -> None:
    key = await upload(store, b"some bytes")
    proxy.faults.append(Fault(kind, stall_s=stall(kind), times=1000, **GET))
    with pytest.raises(StorageError) as caught:
        await read(store, key)
    assert type(caught.value) is EXPECTED[kind]
