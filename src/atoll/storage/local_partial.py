"""Resumable uploads on local disk: ``<root>/partial/<key>``, written in place.

The file is held with an exclusive ``flock`` while a request writes it (the kernel drops the
lock when the process dies, even by SIGKILL, so a crashed writer never blocks a resume), and
truncated to the recorded offset when a request opens it. Bytes go to the device with O_DIRECT
where the filesystem allows it (``LocalPartialWriter``); ``sync`` ends with ``fdatasync``.
Completion hard-links the file to a temp name beside the blob's final path and renames it there
(then fsyncs the folder), so it is idempotent; the partial file goes afterwards.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import mmap
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from atoll.errors import Locked, StorageUnavailable
from atoll.storage.base import Piece, check_key, new_key, os_error
from atoll.storage.partial import State
from atoll.storage.sinks import DIRECT_ALIGN, USE_DIRECT_IO, fsync_dir, stage

if TYPE_CHECKING:
    from atoll.storage.local import LocalBlobStore

PARTIAL_DIR = "partial"
#: A completion links the finished upload in as ``.<random>.link`` beside its blob and renames it
#: over the blob at once; a crash between the two leaves the link, which ``sweep`` removes.
LINK_SUFFIX = ".link"
LOCKED_MESSAGE = "Another request is writing this upload; try again in a moment."


def _open_locked(path: Path, offset: int) -> int:
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o640)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Locked(LOCKED_MESSAGE) from None
        size = os.fstat(fd).st_size
        if size < offset:
            raise StorageUnavailable(
                f"the upload's stored bytes ({size}) are fewer than its recorded offset ({offset})")
        if size > offset:
            os.ftruncate(fd, offset)  # bytes of a request that never got recorded
        if created:
            fsync_dir(path.parent)
        return fd
    except BaseException:
        os.close(fd)
        raise


class LocalPartialWriter:
    """Bytes at the end of a partial file, staged in an aligned buffer that maps the file range
    ``[start, start + used)``, ``start`` aligned. Full buffers go to the device with O_DIRECT (no
    page-cache copy, no dirty-page throttling: as ``sinks.DirectSink`` does for whole uploads);
    at ``sync`` the aligned part goes direct and the unaligned rest through the page cache, then
    ``fdatasync``; the rest stays staged, so the next direct write starts aligned again. Without
    O_DIRECT (``direct_fd`` None) every byte goes through the page cache."""

    def __init__(self, store: LocalBlobStore, fd: int, offset: int, direct_fd: int | None) -> None:
        self._fd: int | None = fd
        self._direct = direct_fd
        self._pos = offset
        self._pieces: list[Piece] = []
        self._pending = 0
        self._flush_bytes = store.chunk_bytes
        size = max(DIRECT_ALIGN, store.chunk_bytes - store.chunk_bytes % DIRECT_ALIGN)
        self._buf = mmap.mmap(-1, size)  # page-aligned
        self._view = memoryview(self._buf)
        self._start = offset - offset % DIRECT_ALIGN if direct_fd is not None else offset
        self._used = offset - self._start
        if self._used:  # the head of the block we continue: staged again, rewritten whole
            self._view[:self._used] = os.pread(fd, self._used, self._start)

    def _write_at(self, fd: int, data: memoryview, at: int) -> None:
        while data:
            n = os.pwrite(fd, data, at)
            data, at = data[n:], at + n

    def _absorb(self, pieces: list[Piece]) -> None:
        self._used = stage(self._view, self._used, pieces, self._flush_full)

    def _flush_full(self) -> int:
        self._used = len(self._buf)  # stage() counts on its own until it calls us
        self._flush_block(self._used)
        return self._used

    def _flush_block(self, upto: int) -> None:
        """Write ``[0, upto)`` of the buffer and keep the rest at its start (``upto`` aligned
        when direct)."""
        assert self._fd is not None
        fd = self._direct if self._direct is not None else self._fd
        self._write_at(fd, self._view[:upto], self._start)
        rest = self._used - upto
        if rest:
            self._view[:rest] = self._view[upto:self._used]
        self._start += upto
        self._used = rest

    def _sync_sync(self, pieces: list[Piece]) -> None:
        assert self._fd is not None
        self._absorb(pieces)
        aligned = self._used - self._used % DIRECT_ALIGN if self._direct is not None else self._used
        if aligned:
            self._flush_block(aligned)
        if self._used:  # the unaligned rest: through the page cache now, staged for later
            self._write_at(self._fd, self._view[:self._used], self._start)
        os.fdatasync(self._fd)

    async def _run(self, fn: Any, *args: Any) -> None:
        try:
            await anyio.to_thread.run_sync(fn, *args)
        except OSError as exc:
            raise os_error(exc, "storing part of an upload") from exc

    async def write(self, data: Piece) -> None:
        self._pieces.append(data)
        self._pending += len(data)
        self._pos += len(data)
        if self._pending >= self._flush_bytes:
            pieces, self._pieces, self._pending = self._pieces, [], 0
            await self._run(self._absorb, pieces)

    async def sync(self) -> tuple[int, State]:
        pieces, self._pieces, self._pending = self._pieces, [], 0
        await self._run(self._sync_sync, pieces)
        return self._pos, {}

    async def committed(self) -> None:
        return None

    async def close(self) -> None:
        self._pieces, self._pending = [], 0
        for name in ("_direct", "_fd"):
            fd = getattr(self, name)
            if fd is not None:
                setattr(self, name, None)
                os.close(fd)
        with contextlib.suppress(BufferError):  # a failed write's traceback may hold a view
            self._view.release()
            self._buf.close()


def _open_direct(path: Path) -> int | None:
    """A second descriptor with O_DIRECT, or None where the filesystem has no direct I/O."""
    if not USE_DIRECT_IO or not hasattr(os, "O_DIRECT"):
        return None
    try:
        return os.open(path, os.O_WRONLY | os.O_DIRECT | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.EINVAL:
            return None
        raise


class LocalPartials:
    """The partial-upload half of ``LocalBlobStore``."""

    def __init__(self, store: LocalBlobStore) -> None:
        self.store = store
        self.folder = store.root / PARTIAL_DIR
        self.folder.mkdir(exist_ok=True)

    def path(self, key: str) -> Path:
        return self.folder / check_key(key)

    def _open_sync(self, key: str, offset: int) -> LocalPartialWriter:
        path = self.path(key)
        fd = _open_locked(path, offset)
        try:
            return LocalPartialWriter(self.store, fd, offset, _open_direct(path))
        except BaseException:
            os.close(fd)
            raise

    async def open_partial(self, key: str, state: State, offset: int) -> LocalPartialWriter:
        try:
            return await anyio.to_thread.run_sync(self._open_sync, key, offset)
        except OSError as exc:
            raise os_error(exc, "opening an upload") from exc

    def _complete_sync(self, key: str, size: int) -> None:
        partial, final = self.path(key), self.store.path_for(key)
        if not partial.exists():
            if final.exists() and final.stat().st_size == size:
                return  # completed before a crash: rolled forward already
            raise StorageUnavailable("the upload's bytes are missing from storage")
        actual = partial.stat().st_size
        if actual != size:
            raise StorageUnavailable(f"the upload holds {actual} bytes, expected {size}")
        to_sync = self.store.ensure_parent(final)
        temp = final.with_name(f".{new_key()}{LINK_SUFFIX}")
        os.link(partial, temp)
        try:
            os.rename(temp, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        fsync_dir(final.parent)
        for folder in to_sync:
            fsync_dir(folder)
        os.unlink(partial)

    async def complete_partial(self, key: str, state: State, size: int) -> None:
        try:
            await anyio.to_thread.run_sync(self._complete_sync, key, size)
        except OSError as exc:
            raise os_error(exc, "completing an upload") from exc

    async def discard_partial(self, key: str, state: State) -> None:
        with contextlib.suppress(FileNotFoundError):
            await anyio.to_thread.run_sync(os.unlink, self.path(key))

    def keys(self) -> list[str]:
        return [p.name for p in self.folder.iterdir()]
