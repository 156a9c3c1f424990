"""The free-space reserve: refuse an upload with 507 before it would fill the disk.

The reserve is ``min_free_bytes`` (a byte count, not a percentage: what an operator needs to
keep free — room for the database, logs and a repair — does not grow with the disk; 5 % of a
20 TB volume would strand a terabyte, 5 % of an 8 GB one is too little). 0 turns it off.

Free space is the blob store's ``free_bytes()`` (local: statvfs of the blob folder; S3 and
memory: None, meaning no reserve) and, for a SQLite database in a file, statvfs of the
database's folder; the smaller counts.

``SpaceGuard`` is what an upload calls: ``admit()`` before it reads the body (the declared size,
e.g. Content-Length, must fit above the reserve), then ``grow(n)`` for every piece received. For
uploads without a declared size, ``grow`` refuses the piece that would cross the reserve: it
projects the free space from the last statvfs minus the bytes received since (and minus those
received before it that the writer had not yet written: statvfs cannot see them), and reads it
again every ``free_space_check_bytes`` or when the projection says the reserve is reached. Resumable
uploads can use the same guard (``admit`` with the bytes still to come, ``grow`` per chunk).
``GuardedWriter`` puts a guard in front of a blob writer (upload-api files, imported assets).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from atoll.errors import InsufficientStorage
from atoll.models import BlobInfo
from atoll.services.context import Context
from atoll.storage.base import BlobWriter, Piece, os_error

RESERVE_MESSAGE = "Not enough storage space on the server for this upload; free space or try again later."


@functools.lru_cache(maxsize=8)
def sqlite_folder(db_url: str) -> Path | None:
    """The folder of a SQLite database file, or None (another database, or in memory)."""
    url = make_url(db_url)
    if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).resolve().parent


def _statvfs_free(folder: Path) -> int:
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize


async def free_bytes(ctx: Context) -> int | None:
    """The free bytes uploads can still use, or None when no limit is visible (S3)."""
    free = await ctx.blobs.free_bytes()
    folder = sqlite_folder(ctx.settings.db_url)
    if folder is not None:
        try:
            db_free = _statvfs_free(folder)  # answered from the superblock: no worker thread
        except OSError as exc:
            raise os_error(exc, "reading the free space") from exc
        free = db_free if free is None else min(free, db_free)
    return free


async def below_reserve(ctx: Context) -> tuple[bool, int | None]:
    """(whether free space is under the reserve now, the free bytes or None)."""
    free = await free_bytes(ctx)
    reserve = ctx.settings.min_free_bytes
    return (reserve > 0 and free is not None and free < reserve), free


class SpaceGuard:
    """Keeps one upload (all files of a request) above the free-space reserve."""

    def __init__(self, ctx: Context, declared: int | None) -> None:
        self.ctx = ctx
        #: Bytes the request said it will send (an upper bound), or None when unknown.
        self.declared = declared
        self.received = 0
        self._free: int | None = None  # at the last statvfs
        self._since = 0  # bytes received since then
        self._on = ctx.settings.min_free_bytes > 0

    def _still_to_come(self) -> int:
        return max(self.declared - self.received, 0) if self.declared is not None else 0

    def _require(self, incoming: int) -> None:
        """``incoming`` bytes (not on disk yet) and the rest declared must fit above the reserve."""
        assert self._free is not None
        if self._free - self._since - incoming - self._still_to_come() < self.ctx.settings.min_free_bytes:
            raise InsufficientStorage(RESERVE_MESSAGE)

    async def _refresh(self, unwritten: int = 0) -> None:
        """Read the free space again; ``unwritten`` bytes, received but not yet on the disk
        statvfs reads, will still take space (read before statvfs: at worst counted twice)."""
        self._free, self._since = await free_bytes(self.ctx), unwritten
        if self._free is None:
            self._on = False  # no visible limit (S3): nothing to guard

    async def admit(self) -> None:
        """Before reading the body: the declared size (or nothing, if unknown) must fit."""
        if not self._on:
            return
        await self._refresh()
        if self._on:
            self._require(0)

    async def grow(self, nbytes: int, *, unwritten: int = 0) -> None:
        """``nbytes`` more arrived; refuse them if they would cross the reserve. ``unwritten``:
        bytes received before these that the writer has not yet written (its queue)."""
        if not self._on:
            return
        assert self._free is not None, "admit() first"
        self.received += nbytes
        settings = self.ctx.settings
        projected = self._free - self._since - nbytes - self._still_to_come()
        if self._since + nbytes >= settings.free_space_check_bytes or projected < settings.min_free_bytes:
            await self._refresh(unwritten)  # the projection says "full": make sure before refusing
            if not self._on:
                return
        self._require(nbytes)
        self._since += nbytes


class GuardedWriter:
    """A blob writer whose bytes count against a guard's reserve (uploads and imports), with
    the bytes it has not yet written counted at every re-read of the free space."""

    def __init__(self, inner: BlobWriter, guard: SpaceGuard) -> None:
        self.key = inner.key
        self._inner = inner
        self._guard = guard

    async def write(self, data: Piece) -> None:
        await self._guard.grow(len(data), unwritten=self._inner.unwritten_bytes())
        await self._inner.write(data)

    def unwritten_bytes(self) -> int:
        return self._inner.unwritten_bytes()

    async def commit(self) -> BlobInfo:
        return await self._inner.commit()

    async def abort(self) -> None:
        await self._inner.abort()
