"""S3 helpers without state: URL parsing, key layout, part sizing, client config, error mapping.

Part sizing: S3 allows at most ``MAX_PARTS`` parts of ``MIN_PART_BYTES``..``MAX_PART_BYTES``
(the last may be smaller). The first part is ``s3_part_bytes`` or, with a size hint, large enough
that the hinted size fits in ``MAX_PARTS``; every ``GROW_EVERY_PARTS`` parts the size doubles, so
an upload of unknown size fits ``MAX_OBJECT_BYTES`` in under ``MAX_PARTS`` parts.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    ReadTimeoutError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from atoll.errors import StorageError, StorageTimeout, StorageUnavailable
from atoll.storage.base import check_key

MiB = 1024 * 1024
GiB = 1024 * MiB
TiB = 1024 * GiB
#: S3's limits for multipart uploads.
MAX_PARTS = 10_000
MIN_PART_BYTES = 5 * MiB
MAX_PART_BYTES = 5 * GiB
MAX_OBJECT_BYTES = 5 * TiB
#: Part size doubles every this many parts (uploads of unknown size reach 5 TiB in < 10,000).
GROW_EVERY_PARTS = 900
#: HTTP connections per store (shared by all its uploads and downloads).
MAX_POOL_CONNECTIONS = 64
#: Threads per store running the blocking S3 calls.
MAX_THREADS = 64
#: Readiness probe (HeadBucket) timeout, and at most one attempt.
CHECK_TIMEOUT_S = 5.0
#: Error codes meaning "slow down / come back later".
UNAVAILABLE_CODES = frozenset({"SlowDown", "ServiceUnavailable", "Throttling", "ThrottlingException",
                               "RequestLimitExceeded", "TooManyRequests"})
TIMEOUT_CODES = frozenset({"RequestTimeout", "RequestTimeoutException"})
MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
LAYOUT_RE = re.compile(r"([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{32})")


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # without leading or trailing slash; may be empty

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def object_key(self, key: str) -> str:
        check_key(key)
        path = f"{key[:2]}/{key[2:4]}/{key}"
        return f"{self.prefix}/{path}" if self.prefix else path

    @property
    def list_prefix(self) -> str:
        return f"{self.prefix}/" if self.prefix else ""

    def blob_key(self, object_key: str) -> str | None:
        """The blob key of an object key in our layout directly under the prefix, else None."""
        if not object_key.startswith(self.list_prefix):
            return None
        match = LAYOUT_RE.fullmatch(object_key[len(self.list_prefix):])
        if match is None:
            return None
        first, second, key = match.groups()
        return key if key[:2] == first and key[2:4] == second else None


def parse_s3_url(url: str) -> S3Location:
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"S3 store URL must look like s3://bucket/prefix, not {url!r}")
    if parsed.query or parsed.fragment or "@" in parsed.netloc:
        raise ValueError("S3 store URL takes no credentials, query or fragment (use the s3_* settings)")
    return S3Location(parsed.netloc, parsed.path.strip("/"))


def first_part_bytes(min_part_bytes: int, size_hint: int | None) -> int:
    """The size of part 1: at least S3's minimum, and large enough for ``size_hint``."""
    base = max(min_part_bytes, MIN_PART_BYTES)
    if size_hint is not None and size_hint > 0:
        base = max(base, math.ceil(size_hint / MAX_PARTS))
    return min(base, MAX_PART_BYTES)


def part_bytes(first: int, part_number: int) -> int:
    """The size of part ``part_number`` (1-based): ``first``, doubled every GROW_EVERY_PARTS parts."""
    doublings = (part_number - 1) // GROW_EVERY_PARTS
    return min(first << min(doublings, 32), MAX_PART_BYTES)


def client_config(*, endpoint_url: str, region: str, timeout_s: float, max_attempts: int,
                  pool: int = MAX_POOL_CONNECTIONS) -> Config:
    return Config(
        region_name=region or "us-east-1",
        s3={"addressing_style": "path" if endpoint_url else "auto"},
        signature_version="s3v4",
        connect_timeout=timeout_s,
        read_timeout=timeout_s,
        # "standard": exponential backoff with full jitter on 5xx, throttling (SlowDown),
        # connection errors and timeouts; total attempts including the first.
        retries={"mode": "standard", "total_max_attempts": max(1, max_attempts)},
        max_pool_connections=pool,
        # We send SHA-256 checksums ourselves (docs/storage.md); no extra CRC32 pass.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )


def error_code(exc: ClientError) -> tuple[str, int]:
    response: dict[str, Any] = exc.response
    code = str(response.get("Error", {}).get("Code", ""))
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return code, status


def is_missing(exc: BaseException) -> bool:
    if not isinstance(exc, ClientError):
        return False
    code, status = error_code(exc)
    return code in MISSING_CODES or (status == 404 and code != "NoSuchBucket")


def map_error(exc: BaseException, store: str, action: str) -> StorageError:
    """The StorageError subclass for a botocore failure (messages never hold credentials)."""
    where = f"S3 store {store}: {action} failed"
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError | TimeoutError):
        return StorageTimeout(f"{where}: no answer in time")
    if isinstance(exc, BotoConnectionError | ConnectionClosedError | ConnectionError):
        return StorageUnavailable(f"{where}: cannot reach the store ({type(exc).__name__})")
    if isinstance(exc, ClientError):
        code, status = error_code(exc)
        detail = f"{code or 'error'} (HTTP {status})"
        if status == 503 or code in UNAVAILABLE_CODES:
            return StorageUnavailable(f"{where}: {detail}, try again later")
        if code in TIMEOUT_CODES:
            return StorageTimeout(f"{where}: {detail}")
        return StorageError(f"{where}: {detail}")
    if isinstance(exc, BotoCoreError):
        return StorageError(f"{where}: {type(exc).__name__}")
    return StorageError(f"{where}: unexpected {type(exc).__name__}")


def is_abandoned(initiated: datetime, now: float, abandoned_after_s: float) -> bool:
    """Whether a multipart upload started at ``initiated`` is old enough for the sweep."""
    return initiated.timestamp() <= now - abandoned_after_s
