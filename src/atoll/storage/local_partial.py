"""Resumable uploads on local disk: ``<root>/partial/<key>``, written in place.

The file is held with an exclusive ``flock`` while a request writes it (the kernel drops the
lock when the process dies, even by SIGKILL, so a crashed writer never blocks a resume), and
truncated to the recorded offset when a request opens it. ``sync`` is ``fdatasync``.
Completion hard-links the file to a temp name beside the blob's final path and renames it there
(then fsyncs the folder), so it is idempotent; the partial file goes afterwards.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import TYPE_CHECKING

import anyio.to_thread

from atoll.errors import Locked, StorageUnavailable
from atoll.storage.base import Piece, check_key, new_key, os_error
from atoll.storage.partial import State

if TYPE_CHECKING:
    from atoll.storage.local import LocalBlobStore

PARTIAL_DIR = "partial"
LOCKED_MESSAGE = "Another request is writing this upload; try again in a moment."


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
            _fsync_dir(path.parent)
        return fd
    except BaseException:
        os.close(fd)
        raise


class LocalPartialWriter:
    def __init__(self, store: LocalBlobStore, fd: int, offset: int) -> None:
        self._store = store
        self._fd: int | None = fd
        self._pos = offset
        self._pieces: list[Piece] = []
        self._pending = 0

    def _write_sync(self, pieces: list[Piece], at: int) -> None:
        assert self._fd is not None
        for piece in pieces:
            view = memoryview(piece)
            while view:
                n = os.pwrite(self._fd, view, at)
                view, at = view[n:], at + n

    async def _flush(self) -> None:
        pieces, at = self._pieces, self._pos
        self._pieces, self._pending = [], 0
        self._pos += sum(len(p) for p in pieces)
        try:
            await anyio.to_thread.run_sync(self._write_sync, pieces, at)
        except OSError as exc:
            raise os_error(exc, "storing part of an upload") from exc

    async def write(self, data: Piece) -> None:
        self._pieces.append(data)
        self._pending += len(data)
        if self._pending >= self._store.chunk_bytes:
            await self._flush()

    async def sync(self) -> tuple[int, State]:
        if self._pieces:
            await self._flush()
        assert self._fd is not None
        try:
            await anyio.to_thread.run_sync(os.fdatasync, self._fd)
        except OSError as exc:
            raise os_error(exc, "storing part of an upload") from exc
        return self._pos, {}

    async def committed(self) -> None:
        return None

    async def close(self) -> None:
        self._pieces, self._pending = [], 0
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)


class LocalPartials:
    """The partial-upload half of ``LocalBlobStore``."""

    def __init__(self, store: LocalBlobStore) -> None:
        self.store = store
        self.folder = store.root / PARTIAL_DIR
        self.folder.mkdir(exist_ok=True)

    def path(self, key: str) -> Path:
        return self.folder / check_key(key)

    async def open_partial(self, key: str, state: State, offset: int) -> LocalPartialWriter:
        try:
            fd = await anyio.to_thread.run_sync(_open_locked, self.path(key), offset)
        except OSError as exc:
            raise os_error(exc, "opening an upload") from exc
        return LocalPartialWriter(self.store, fd, offset)

    def _complete_sync(self, key: str, size: int) -> None:
        partial, final = self.path(key), self.store.path_for(key)
        if not partial.exists():
            if final.exists() and final.stat().st_size == size:
                return  # completed before a crash: rolled forward already
            raise StorageUnavailable("the upload's bytes are missing from storage")
        actual = partial.stat().st_size
        if actual != size:
            raise StorageUnavailable(f"the upload holds {actual} bytes, expected {size}")
        created = self.store.ensure_parent(final)
        temp = final.with_name(f".{new_key()}.link")
        os.link(partial, temp)
        try:
            os.rename(temp, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        _fsync_dir(final.parent)
        for parent in created:
            _fsync_dir(parent)
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
