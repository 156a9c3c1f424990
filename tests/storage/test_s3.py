"""S3-only behaviour: part sizing, no multipart upload left behind, presigned GET, layout, check."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import anyio
import boto3
import httpx
import pytest

from atoll.config import Settings
from atoll.errors import StorageError, StorageUnavailable
from atoll.storage import open_blob_store
from atoll.storage.s3 import S3BlobStore
from atoll.storage.s3_support import (
    MAX_OBJECT_BYTES,
    MAX_PART_BYTES,
    MAX_PARTS,
    MIN_PART_BYTES,
    MiB,
    first_part_bytes,
    is_abandoned,
    parse_s3_url,
    part_bytes,
)
from tests.services import free_port, moto
from tests.storage.conftest import TEST_PART_BYTES, s3_settings

pytestmark = pytest.mark.anyio


def parts_for(total: int, first: int) -> int:
    """How many parts an upload of ``total`` bytes takes (the writer's schedule)."""
    count, done = 0, 0
    while done < total:
        count += 1
        size = part_bytes(first, count)
        assert MIN_PART_BYTES <= size <= MAX_PART_BYTES
        done += size
    return count


@pytest.mark.parametrize("min_part", [5 * MiB, 8 * MiB, 64 * MiB])
def test_unknown_size_reaches_5_tib_within_10000_parts(min_part: int) -> None:
    assert parts_for(MAX_OBJECT_BYTES, first_part_bytes(min_part, None)) <= MAX_PARTS


@pytest.mark.parametrize("hint", [0, 1, 100 * MiB, 80 * 1024 * MiB, MAX_OBJECT_BYTES])
def test_size_hint_fits_in_10000_parts(hint: int) -> None:
    first = first_part_bytes(8 * MiB, hint)
    assert first >= 8 * MiB
    assert parts_for(hint, first) <= MAX_PARTS
    if hint <= 8 * MiB * MAX_PARTS:
        assert first == 8 * MiB  # small hints keep the configured part size


def test_part_size_never_below_s3_minimum() -> None:
    assert first_part_bytes(1, None) == MIN_PART_BYTES


def test_url_parsing() -> None:
    loc = parse_s3_url("s3://bucket/a/b/")
    assert (loc.bucket, loc.prefix, loc.url) == ("bucket", "a/b", "s3://bucket/a/b")
    key = "0123456789abcdef0123456789abcdef"
    assert loc.object_key(key) == f"a/b/01/23/{key}"
    assert loc.blob_key(f"a/b/01/23/{key}") == key
    assert loc.blob_key(f"a/b/01/24/{key}") is None and loc.blob_key(f"a/b/x/01/23/{key}") is None
    for bad in ("s3://", "s3://key:secret@bucket/p", "s3://b/p?x=1", "http://b/p"):
        with pytest.raises(ValueError):
            parse_s3_url(bad)


def test_open_blob_store_rejects_unknown_schemes() -> None:
    with pytest.raises(ValueError, match="file://, s3://, memory://"):
        open_blob_store("ftp://host/x", Settings())


@pytest.fixture
async def store() -> AsyncIterator[S3BlobStore]:
    m = moto()
    s3 = S3BlobStore(m.new_storage_url(), s3_settings(m.endpoint, s3_abandoned_after_s=3600))
    yield s3
    await s3.aclose()


def admin() -> object:
    m = moto()
    return boto3.client("s3", endpoint_url=m.endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


async def test_failed_commit_leaves_no_multipart_upload(store: S3BlobStore) -> None:
    writer = await store.create()
    await writer.write(os.urandom(TEST_PART_BYTES + 10))
    assert len(await store.pending()) == 1
    assert writer.upload_id is not None  # type: ignore[attr-defined]
    client: object = admin()
    client.abort_multipart_upload(  # type: ignore[attr-defined]
        Bucket=store.bucket, Key=store.location.object_key(writer.key), UploadId=writer.upload_id,  # type: ignore[attr-defined]
    )
    with pytest.raises(StorageError, match="s3://atoll-test/t-"):
        await writer.commit()
    await writer.abort()
    assert await store.pending() == []
    with pytest.raises(FileNotFoundError):
        await store.stat(writer.key)


def test_sweep_age_rule() -> None:
    # moto reports a fixed 2010 "Initiated" for every upload, so the age rule is tested here.
    started = datetime(2026, 1, 1, tzinfo=UTC)
    now = started.timestamp()
    assert not is_abandoned(started, now + 3599, 3600)
    assert is_abandoned(started, now + 3600, 3600)
    assert is_abandoned(started, now, 0)


async def test_list_skips_foreign_objects(store: S3BlobStore) -> None:
    writer = await store.create()
    await writer.write(b"mine")
    info = await writer.commit()
    client: object = admin()
    for stray in ("readme.txt", "ab/cd/notakey", f"{info.key[:2]}/zz/{info.key}"):
        client.put_object(Bucket=store.bucket, Key=f"{store.location.prefix}/{stray}", Body=b"x")  # type: ignore[attr-defined]
    assert [s.key async for s in store.list()] == [info.key]


async def test_presigned_get_carries_disposition(store: S3BlobStore) -> None:
    writer = await store.create()
    await writer.write(b"hello presigned")
    info = await writer.commit()
    disposition = "attachment; filename=\"r_sum_.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt"
    url = await store.presign(info.key, disposition=disposition, media_type="text/plain", expires_s=60)
    assert url is not None and url.startswith(moto().endpoint) and "testing" not in url.split("?")[0]
    async with httpx.AsyncClient() as client:
        answer = await client.get(url)
    assert answer.status_code == 200 and answer.content == b"hello presigned"
    assert answer.headers["content-disposition"] == disposition
    assert answer.headers["content-type"].startswith("text/plain")


async def test_check(store: S3BlobStore) -> None:
    await store.check()
    down = S3BlobStore("s3://atoll-test/x", s3_settings(f"http://127.0.0.1:{free_port()}"))
    try:
        with pytest.raises(StorageUnavailable, match="s3://atoll-test/x"):
            await down.check()
    finally:
        await down.aclose()


async def test_local_path_is_none(store: S3BlobStore) -> None:
    assert store.local_path("0" * 32) is None


async def test_sweep_spares_an_upload_that_is_still_sending(store: S3BlobStore) -> None:
    """moto reports every multipart upload as initiated in 2010: by that date alone the sweep
    would abort a live upload. Recent parts count as activity, so it is spared; an upload whose
    last part is older than the limit is not."""
    writer = await store.create()
    await writer.write(os.urandom(TEST_PART_BYTES + 10))  # part 1 goes up
    assert len(await store.pending()) == 1
    key, upload_id = store.location.object_key(writer.key), writer.upload_id  # type: ignore[attr-defined]
    for _ in range(100):  # until part 1 has landed
        if await store._last_part_time(key, upload_id) is not None:
            break
        await anyio.sleep(0.05)
    assert await store.sweep() == 0
    store.abandoned_after_s = 0  # now even a fresh part is "too old"
    assert await store.sweep() == 1
    assert await store.pending() == []
    await writer.abort()


async def test_listings_page_through_every_object(store: S3BlobStore) -> None:
    """LIST answers a page at a time: blobs and partial keys beyond the first page are found."""
    store.list_page = 2
    keys = []
    for n in range(5):
        writer = await store.create()
        await writer.write(f"blob {n}".encode())
        keys.append((await writer.commit()).key)
    client: object = admin()
    staged = sorted(f"{n:032x}" for n in range(5))
    for key in staged:  # staged tails of resumable uploads, as s3_partial writes them
        client.put_object(Bucket=store.bucket, Key=f"{store.location.prefix}/partial/{key}/1", Body=b"t")  # type: ignore[attr-defined]
    assert sorted([s.key async for s in store.list()]) == sorted(keys)
    assert await store.partial_keys() == staged
