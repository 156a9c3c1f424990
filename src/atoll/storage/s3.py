"""Blobs in an S3 bucket (AWS or any S3-compatible store): ``<prefix>/ab/cd/<32 hex>``.

botocore does the HTTP work on this store's own thread pool (see docs/storage.md for why boto3:
measured against aiobotocore and obstore). Each request has ``s3_timeout_s`` and up to
``s3_max_attempts`` attempts with jittered exponential backoff (botocore's "standard" retry mode);
failures surface as ``StorageError`` / ``StorageUnavailable`` / ``StorageTimeout``.
"""

from __future__ import annotations

import asyncio
import builtins
import hashlib
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import boto3
from botocore.exceptions import ClientError

from atoll.config import Settings
from atoll.errors import StorageTimeout, StorageUnavailable
from atoll.storage.base import BlobStat, Piece, check_key, new_key
from atoll.storage.partial import WithPartials
from atoll.storage.s3_partial import PARTIAL_PREFIX, S3Partials
from atoll.storage.s3_support import (
    CHECK_TIMEOUT_S,
    MAX_THREADS,
    S3Location,
    client_config,
    error_code,
    is_abandoned,
    is_missing,
    map_error,
    parse_s3_url,
)
from atoll.storage.s3_writer import S3BlobWriter, _b64, _join

T = TypeVar("T")
#: Pause before resuming a broken download, times the failures so far.
READ_RESUME_BACKOFF_S = 0.2


#: Objects one LIST request asks for (S3's own maximum); tests lower it to exercise paging.
LIST_PAGE_KEYS = 1000


class S3BlobStore(WithPartials):
    #: Objects per LIST page (``LIST_PAGE_KEYS``).
    list_page = LIST_PAGE_KEYS

    def __init__(self, url: str, settings: Settings) -> None:
        self.location: S3Location = parse_s3_url(url)
        self.url = self.location.url
        self.bucket = self.location.bucket
        self.part_bytes = settings.s3_part_bytes
        self.parts_in_flight = settings.s3_parts_in_flight
        self.chunk_bytes = settings.chunk_bytes
        self.abandoned_after_s = settings.s3_abandoned_after_s
        self.max_attempts = max(1, settings.s3_max_attempts)
        session = boto3.session.Session(
            aws_access_key_id=settings.s3_access_key_id or None,
            aws_secret_access_key=settings.s3_secret_access_key or None,
            region_name=settings.s3_region or None,
        )
        endpoint, region = settings.s3_endpoint_url, settings.s3_region
        timeout_s = float(settings.s3_timeout_s)
        self._client: Any = session.client("s3", endpoint_url=endpoint or None, config=client_config(
            endpoint_url=endpoint, region=region, timeout_s=timeout_s, max_attempts=self.max_attempts))
        self._probe: Any = session.client("s3", endpoint_url=endpoint or None, config=client_config(
            endpoint_url=endpoint, region=region, timeout_s=min(CHECK_TIMEOUT_S, timeout_s),
            max_attempts=1, pool=2))
        self._pool = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="atoll-s3")
        self._partials: S3Partials = S3Partials(self)

    # -- plumbing ------------------------------------------------------------------------------

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking function on this store's threads."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, partial(fn, *args))

    async def _call(self, action: str, method: str, *, missing: str | None = None, **params: Any) -> Any:
        """One S3 request; FileNotFoundError(missing) on 404 if ``missing`` is given."""
        try:
            return await self.run(partial(getattr(self._client, method), **params))
        except Exception as exc:
            if missing is not None and is_missing(exc):
                raise FileNotFoundError(missing) from None
            raise map_error(exc, self.url, action) from exc

    # -- writes --------------------------------------------------------------------------------

    async def create(self, key: str | None = None, *, size_hint: int | None = None) -> S3BlobWriter:
        return S3BlobWriter(self, check_key(key) if key is not None else new_key(), size_hint)

    async def put_small(self, object_key: str, pieces: list[Piece], sha256_b64: str) -> None:
        body = await self.run(_join, pieces) if pieces else b""
        await self._call("PUT", "put_object", Bucket=self.bucket, Key=object_key, Body=body,
                         ChecksumSHA256=sha256_b64)

    async def create_multipart(self, object_key: str) -> str:
        answer = await self._call("CreateMultipartUpload", "create_multipart_upload", Bucket=self.bucket,
                                  Key=object_key, ChecksumAlgorithm="SHA256")
        return str(answer["UploadId"])

    def _upload_part_sync(self, object_key: str, upload_id: str, number: int,
                          pieces: list[Piece]) -> tuple[str, str]:
        body = _join(pieces)
        checksum = _b64(hashlib.sha256(body).digest())
        answer = self._client.upload_part(Bucket=self.bucket, Key=object_key, UploadId=upload_id,
                                          PartNumber=number, Body=body, ChecksumSHA256=checksum)
        return str(answer["ETag"]), checksum

    async def upload_part(self, object_key: str, upload_id: str, number: int,
                          pieces: list[Piece]) -> tuple[str, str]:
        try:
            return await self.run(self._upload_part_sync, object_key, upload_id, number, pieces)
        except Exception as exc:
            raise map_error(exc, self.url, f"UploadPart {number}") from exc

    async def complete_multipart(self, object_key: str, upload_id: str,
                                 parts: dict[int, dict[str, Any]]) -> None:
        ordered = [parts[n] for n in sorted(parts)]
        await self._call("CompleteMultipartUpload", "complete_multipart_upload", Bucket=self.bucket,
                         Key=object_key, UploadId=upload_id, MultipartUpload={"Parts": ordered})

    async def abort_multipart(self, object_key: str, upload_id: str) -> None:
        try:
            await self.run(partial(self._client.abort_multipart_upload, Bucket=self.bucket, Key=object_key,
                                   UploadId=upload_id))
        except ClientError as exc:
            if error_code(exc)[0] != "NoSuchUpload":
                raise map_error(exc, self.url, "AbortMultipartUpload") from exc
        except Exception as exc:
            raise map_error(exc, self.url, "AbortMultipartUpload") from exc

    # -- reads ---------------------------------------------------------------------------------

    async def _get(self, key: str, start: int, end: int | None) -> Any | None:
        """The streaming body of ``[start, end)``, or None when ``start`` is past the end."""
        byte_range = f"bytes={start}-" if end is None else f"bytes={start}-{end - 1}"
        try:
            answer = await self.run(partial(self._client.get_object, Bucket=self.bucket,
                                            Key=self.location.object_key(key), Range=byte_range))
        except ClientError as exc:
            if error_code(exc)[0] == "InvalidRange":
                return None
            if is_missing(exc):
                raise FileNotFoundError(key) from None
            raise map_error(exc, self.url, "GET") from exc
        except Exception as exc:
            raise map_error(exc, self.url, "GET") from exc
        return answer["Body"]

    async def open(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Ranged GET; a broken stream resumes from where it stopped (up to s3_max_attempts)."""
        check_key(key)
        if end is not None and end <= start:
            await self.stat(key)  # nothing to read, but a missing key must still fail
            return
        pos, failures = start, 0
        while end is None or pos < end:
            body = await self._get(key, pos, end)
            if body is None:
                return
            try:
                while True:
                    try:
                        data: bytes = await self.run(body.read, self.chunk_bytes)
                    except Exception as exc:
                        failures += 1
                        error = map_error(exc, self.url, "GET (reading)")
                        if failures >= self.max_attempts or not isinstance(
                            error, StorageUnavailable | StorageTimeout
                        ):
                            raise error from exc
                        await asyncio.sleep(READ_RESUME_BACKOFF_S * failures)
                        break  # resume with a new ranged GET from pos
                    if not data:
                        return
                    pos += len(data)
                    yield data
            finally:
                await self.run(body.close)

    async def stat(self, key: str) -> BlobStat:
        answer = await self._call("HEAD", "head_object", missing=key, Bucket=self.bucket,
                                  Key=self.location.object_key(key))
        return BlobStat(key=key, size=int(answer["ContentLength"]), mtime=answer["LastModified"].timestamp())

    async def delete(self, key: str) -> None:
        await self._call("DELETE", "delete_object", Bucket=self.bucket, Key=self.location.object_key(key))

    async def list(self) -> AsyncIterator[BlobStat]:
        async for item in self._objects(self.location.list_prefix):
            key = self.location.blob_key(item["Key"])
            if key is not None:
                yield BlobStat(key=key, size=int(item["Size"]), mtime=item["LastModified"].timestamp())

    async def _objects(self, prefix: str) -> AsyncIterator[dict[str, Any]]:
        """Every object under ``prefix``, a page of at most ``list_page`` at a time."""
        token: str | None = None
        while True:
            extra = {"ContinuationToken": token} if token else {}
            page = await self._call("LIST", "list_objects_v2", Bucket=self.bucket, Prefix=prefix,
                                    MaxKeys=self.list_page, **extra)
            for item in page.get("Contents", []):
                yield item
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    # -- unfinished uploads --------------------------------------------------------------------

    async def _multipart_uploads(self) -> builtins.list[dict[str, Any]]:
        uploads: builtins.list[dict[str, Any]] = []
        markers: dict[str, str] = {}
        while True:
            page = await self._call("ListMultipartUploads", "list_multipart_uploads", Bucket=self.bucket,
                                    Prefix=self.location.list_prefix, **markers)
            uploads += page.get("Uploads", [])
            if not page.get("IsTruncated"):
                return uploads
            markers = {"KeyMarker": page["NextKeyMarker"], "UploadIdMarker": page["NextUploadIdMarker"]}

    async def pending(self) -> builtins.list[str]:
        """Object keys of the multipart uploads in progress under the prefix."""
        return [str(upload["Key"]) for upload in await self._multipart_uploads()]

    async def sweep(self, keep: frozenset[str] = frozenset()) -> int:
        """Abort multipart uploads with no activity for s3_abandoned_after_s: initiated that long
        ago and no part uploaded since. (Parts count as activity: a long upload that is still
        sending is left alone, and so is a live one where the store reports a wrong start date.)"""
        now, count = time.time(), 0
        for upload in await self._multipart_uploads():
            if self.location.blob_key(upload["Key"]) in keep:
                continue  # a resumable upload in progress: its session decides
            if not is_abandoned(upload["Initiated"], now, self.abandoned_after_s):
                continue
            last_part = await self._last_part_time(upload["Key"], upload["UploadId"])
            if last_part is not None and not is_abandoned(last_part, now, self.abandoned_after_s):
                continue
            await self.abort_multipart(upload["Key"], upload["UploadId"])
            count += 1
        return count

    async def _last_part_time(self, object_key: str, upload_id: str) -> datetime | None:
        latest: datetime | None = None
        marker: dict[str, Any] = {}
        while True:
            page = await self._call("ListParts", "list_parts", Bucket=self.bucket, Key=object_key,
                                    UploadId=upload_id, **marker)
            for part in page.get("Parts", []):
                latest = part["LastModified"] if latest is None else max(latest, part["LastModified"])
            if not page.get("IsTruncated"):
                return latest
            marker = {"PartNumberMarker": int(page["NextPartNumberMarker"])}

    # -- resumable uploads ----------------------------------------------------------------------

    async def partial_keys(self) -> builtins.list[str]:
        """Keys with staged tails or a multipart upload in progress."""
        keys = {k for k in (self.location.blob_key(u["Key"]) for u in await self._multipart_uploads())
                if k is not None}
        prefix = f"{self.location.list_prefix}{PARTIAL_PREFIX}/"
        async for item in self._objects(prefix):
            keys.add(item["Key"][len(prefix):].split("/")[0])
        return sorted(keys)

    # -- the rest ------------------------------------------------------------------------------

    def local_path(self, key: str) -> Path | None:
        return None

    async def presign(self, key: str, *, disposition: str, media_type: str, expires_s: int) -> str | None:
        params = {"Bucket": self.bucket, "Key": self.location.object_key(key),
                  "ResponseContentDisposition": disposition,
                  "ResponseContentType": media_type}
        try:
            return str(self._client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_s))
        except Exception as exc:
            raise map_error(exc, self.url, "presign") from exc

    async def check(self) -> None:
        try:
            await self.run(partial(self._probe.head_bucket, Bucket=self.bucket))
        except Exception as exc:
            reason = map_error(exc, self.url, "HeadBucket").message
            raise StorageUnavailable(f"{reason} (not ready)") from exc

    async def free_bytes(self) -> int | None:
        """None: a bucket shows no free space, so the free-space reserve does not apply to S3."""
        return None

    async def aclose(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._pool.shutdown)
        for client in (self._client, self._probe):
            client.close()

