"""The blob store contract: every byte access goes through it (uploads, downloads, Range, fsck,
gc, migration). Keys are 32 lowercase hex digits made by the caller or the store, never user input.

Commit order is the durability contract: ``BlobWriter.commit()`` returns only once the bytes
are durable (local: temp file fsync, rename, dir fsync; S3: CompleteMultipartUpload or PUT 200).
Until then nothing is visible under the key; ``abort()`` (or a crash, then ``sweep()``) leaves
nothing behind.

Errors: a missing blob is ``FileNotFoundError``; a store that fails or cannot be reached raises
``atoll.errors.StorageError`` (or a subclass: ``StorageUnavailable``, ``StorageTimeout``). A full
disk or quota (ENOSPC, EDQUOT) is ``InsufficientStorage``; any other OS error on a write path is
``StorageUnavailable`` (``os_error``). Whatever fails, the writer releases its file descriptors,
buffers and temp files on ``abort()``, so the next write works as soon as the cause is gone.
"""

from __future__ import annotations

import builtins
import errno
import hashlib
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from atoll.errors import InsufficientStorage, StorageError, StorageUnavailable
from atoll.models import BlobInfo
from atoll.storage.partial import PartialWriter, State
from atoll.storage.partial import Piece as Piece

KEY_RE = re.compile(r"^[0-9a-f]{32}$")
#: OS errors meaning "no room": the disk or the quota is full (answered 507, not retried).
NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
NO_SPACE_MESSAGE = "Not enough storage space: the server's disk is full. Free some space or try again later."


def os_error(exc: OSError, action: str) -> StorageError:
    """The StorageError for an OS error of a store (the message names no path)."""
    if exc.errno in NO_SPACE_ERRNOS:
        return InsufficientStorage(NO_SPACE_MESSAGE)
    name = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
    return StorageUnavailable(f"Storage I/O error ({name}) while {action}; try again later.")


def new_key() -> str:
    return uuid.uuid4().hex


def check_key(key: str) -> str:
    if not KEY_RE.match(key):
        raise ValueError("invalid blob key")
    return key


@dataclass(frozen=True)
class BlobStat:
    key: str
    size: int
    #: When the blob was committed (seconds since the epoch): gc's grace period is measured from it.
    mtime: float


class BlobWriter(Protocol):
    key: str

    async def write(self, data: Piece) -> None:
        """Take ``data``; it must not change afterwards (memoryviews of bytes are kept as is)."""
        ...

    def unwritten_bytes(self) -> int:
        """Bytes taken by ``write`` that are not yet where the store's ``free_bytes()`` sees
        them (buffered, or queued for a worker thread): a free-space check must count them."""
        ...

    async def commit(self) -> BlobInfo:
        """Make the blob durable and visible under ``key``; return its size and SHA-256."""
        ...

    async def abort(self) -> None:
        """Discard everything written; safe to call twice and after a failed commit."""
        ...


class BlobStore(Protocol):
    #: Where the blobs live, for messages (never holds credentials).
    url: str

    async def create(self, key: str | None = None, *, size_hint: int | None = None) -> BlobWriter:
        """Start a blob under ``key`` (a fresh one when None; an existing blob is replaced on
        commit). ``size_hint`` (expected bytes, if known) lets a store size its parts."""
        ...

    def open(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Stream bytes ``[start, end)``; FileNotFoundError (on first iteration) if missing."""
        ...

    async def stat(self, key: str) -> BlobStat:
        """Size and commit time; FileNotFoundError if missing."""
        ...

    async def delete(self, key: str) -> None:
        """Remove a blob; missing is fine."""
        ...

    def list(self) -> AsyncIterator[BlobStat]:
        """Every committed blob (not unfinished writes), in no particular order."""
        ...

    async def pending(self) -> builtins.list[str]:
        """Unfinished writes that exist right now (temp files, open multipart uploads)."""
        ...

    async def sweep(self, keep: frozenset[str] = frozenset()) -> int:
        """Remove unfinished writes that no live writer owns any more; return how many. Blob
        keys in ``keep`` are resumable uploads in progress: their bytes stay."""
        ...

    async def open_partial(self, key: str, state: State, offset: int) -> PartialWriter:
        """Resume a resumable upload at its durable ``offset`` (``storage/partial.py``)."""
        ...

    async def complete_partial(self, key: str, state: State, size: int) -> None:
        """Turn a resumable upload's bytes into the blob ``key`` (idempotent)."""
        ...

    async def discard_partial(self, key: str, state: State) -> None:
        """Remove a resumable upload's bytes (never a completed blob)."""
        ...

    async def partial_keys(self) -> builtins.list[str]:
        """Blob keys that have resumable-upload bytes in the store right now."""
        ...

    def local_path(self, key: str) -> Path | None:
        """A filesystem path for zero-copy sending, where the store has one."""
        ...

    async def presign(self, key: str, *, disposition: str, media_type: str, expires_s: int) -> str | None:
        """A short-lived direct download URL, where the store offers one (S3), else None; it answers
        with ``disposition`` as Content-Disposition and ``media_type`` as Content-Type."""
        ...

    async def check(self) -> None:
        """Readiness: raise StorageError if the store cannot be used right now."""
        ...

    async def free_bytes(self) -> int | None:
        """Bytes an unprivileged writer can still store, or None when the store has no such
        limit we can see (S3, memory): the free-space reserve then does not apply."""
        ...

    async def aclose(self) -> None:
        """Release connections and thread pools."""
        ...


async def digest(store: BlobStore, key: str) -> tuple[int, str]:
    """Re-read a blob through ``store`` (streaming) and return its (size, SHA-256)."""
    sha = hashlib.sha256()
    size = 0
    async for chunk in store.open(key):
        sha.update(chunk)
        size += len(chunk)
    return size, sha.hexdigest()
