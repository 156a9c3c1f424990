"""Blob stores behind one narrow async contract (see ``base.BlobStore``)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from atoll.config import Settings
from atoll.storage.base import BlobStat, BlobStore, BlobWriter
from atoll.storage.local import LocalBlobStore
from atoll.storage.memory import MemoryBlobStore

__all__ = ["BlobStat", "BlobStore", "BlobWriter", "LocalBlobStore", "MemoryBlobStore", "open_blob_store"]

SCHEMES = ("file", "s3", "memory")


def open_blob_store(url: str, settings: Settings) -> BlobStore:
    """``file:///path`` (local disk), ``s3://bucket/prefix`` (S3, with the s3_* settings) or
    ``memory://`` (a dict, for tests)."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise ValueError(f"file:// blob store URL must name a local path, not {url!r}")
        return LocalBlobStore(Path(unquote(parsed.path)), chunk_bytes=settings.chunk_bytes,
                              native=settings.native_writes)
    if parsed.scheme == "s3":
        from atoll.storage.s3 import S3BlobStore  # boto3 is the optional "s3" extra

        return S3BlobStore(url, settings)
    if parsed.scheme == "memory":
        return MemoryBlobStore(url, chunk_bytes=settings.chunk_bytes,
                               abandoned_after_s=settings.s3_abandoned_after_s)
    choices = ", ".join(s + "://" for s in SCHEMES)
    raise ValueError(f"unsupported blob store URL {url!r}: use one of {choices}")
