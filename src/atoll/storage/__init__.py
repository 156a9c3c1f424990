"""Blob stores behind one narrow async contract (see ``base.BlobStore``)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from atoll.storage.base import BlobStore, BlobWriter
from atoll.storage.local import LocalBlobStore

__all__ = ["BlobStore", "BlobWriter", "LocalBlobStore", "open_blob_store"]


def open_blob_store(url: str, *, chunk_bytes: int) -> BlobStore:
    """``file:///path`` -> local disk. (S3 and memory stores plug in here.)"""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalBlobStore(Path(unquote(parsed.path)), chunk_bytes=chunk_bytes)
    raise ValueError(f"unsupported blob store URL scheme: {parsed.scheme!r}")
