"""Downloads that never serve wrong bytes (setting ``verify_downloads``; docs/storage.md).

* ``read_small``: a blob up to ``verify_small_bytes`` is read whole, hashed and compared with
  its metadata before the response starts; a mismatch is ``CorruptBlob`` (502) and a log line.
* ``verified_stream``: a larger blob is hashed while it streams and the LAST chunk is held back
  until the hash is known; on a mismatch the stream raises instead of sending it, so the
  connection ends short of its Content-Length: the client sees a broken transfer, never a
  clean wrong file.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator

from atoll.errors import CorruptBlob
from atoll.models import Asset
from atoll.storage.base import BlobStore

log = logging.getLogger("atoll.integrity")

CORRUPT_MESSAGE = (
    "The stored file is damaged (its bytes do not match the recorded checksum); nothing was sent. "
    "The operator can find such files with `atoll fsck --verify`."
)


def policy_applies(mode: str, small_limit: int, size: int) -> str:
    """How a download of ``size`` bytes is checked: ``small`` (read first), ``stream`` or ``none``."""
    if mode == "off":
        return "none"
    if size <= small_limit:
        return "small"
    return "stream" if mode == "all" else "none"


def _corrupt(asset: Asset, why: str) -> CorruptBlob:
    log.error("corrupt blob %s (%s:%s): %s", asset.blob_key, asset.dtable_uuid, asset.path, why)
    return CorruptBlob(CORRUPT_MESSAGE)


async def read_small(store: BlobStore, asset: Asset) -> bytes:
    """The blob's bytes once their size and SHA-256 match the asset's (at most size + 1 bytes
    are read). FileNotFoundError if it is missing."""
    data = bytearray()
    chunks = store.open(asset.blob_key)
    try:
        async for chunk in chunks:
            data += chunk
            if len(data) > asset.size:
                raise _corrupt(asset, f"longer than its recorded {asset.size} bytes")
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]
    check(asset, data)
    return bytes(data)


def check(asset: Asset, data: bytes | bytearray) -> None:
    """``CorruptBlob`` (and a log line) unless ``data`` is the asset's whole content."""
    if len(data) != asset.size:
        raise _corrupt(asset, f"{len(data)} bytes, {asset.size} recorded")
    if hashlib.sha256(data).hexdigest() != asset.sha256:
        raise _corrupt(asset, "SHA-256 mismatch")


async def verified_stream(chunks: AsyncIterator[bytes], asset: Asset) -> AsyncIterator[bytes]:
    """``chunks`` (the whole blob) as they come, hashing them; the last one only after the hash
    and size matched, else ``CorruptBlob`` is raised in its place."""
    sha = hashlib.sha256()
    size = 0
    held: bytes | None = None
    try:
        async for chunk in chunks:
            sha.update(chunk)
            size += len(chunk)
            if held is not None:
                yield held
            held = chunk
            if size > asset.size:
                raise _corrupt(asset, f"longer than its recorded {asset.size} bytes")
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]
    if size != asset.size:
        raise _corrupt(asset, f"{size} bytes, {asset.size} recorded")
    if sha.hexdigest() != asset.sha256:
        raise _corrupt(asset, "SHA-256 mismatch")
    if held is not None:
        yield held
