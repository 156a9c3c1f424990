"""Resumable uploads in the blob store: bytes that arrive over many requests, possibly on
different processes, and become one blob at the end.

A partial upload is named by its final blob key and described by a small JSON-able ``state``
that the caller keeps in the metadata store next to the durable offset (the store's own
bookkeeping: S3's multipart upload id, parts and staged tail). The protocol:

1. ``open_partial(key, state, offset)`` -> a ``PartialWriter`` positioned at ``offset`` (the
   durable offset the caller recorded). Bytes past ``offset`` from an earlier request that never
   got recorded are discarded. One writer per upload at a time: another gets ``Locked``.
2. ``write()`` bytes; ``sync()`` makes everything written so far durable and returns
   ``(offset, state)`` to record; after recording it, ``committed()`` lets the store drop what
   that state superseded. ``close()`` ends the request (unsynced bytes are forgotten).
3. ``complete_partial(key, state, size)`` turns the bytes into the blob under ``key``; it is
   idempotent (a crash after it and before the metadata commit is rolled forward by calling it
   again). ``discard_partial(key, state)`` removes everything of the upload.
"""

from __future__ import annotations

from typing import Any, Protocol

State = dict[str, Any]
Piece = bytes | bytearray | memoryview


class PartialWriter(Protocol):
    async def write(self, data: Piece) -> None: ...

    async def sync(self) -> tuple[int, State]:
        """Make every byte written durable; the new (offset, state) to record."""
        ...

    async def committed(self) -> None:
        """The state from the last ``sync`` is recorded: release what it replaced."""
        ...

    async def close(self) -> None:
        """Release the upload (locks, buffers); safe to call twice."""
        ...
