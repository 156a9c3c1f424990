"""How bytes reach a temp file: direct I/O where the filesystem allows it, else buffered.

Writes are positional (``pwrite``/``pwritev`` at the sink's own offset): a short write resumes
exactly where it stopped, and file writes are told apart from socket and event-loop writes
(``write``) by syscall, which the fault-injection tests rely on.

Direct I/O (``O_DIRECT``) sends full, aligned blocks straight to the device: about a tenth of
the CPU of buffered writes, and none of the page-cache allocation cost that this kind of VM
charges after memory was returned to the host. The unaligned tail is written buffered at the
end. Either way ``finish()`` returns only once the bytes are durable (fsync).

Failures: a sink closes its file descriptor exactly once, whatever fails. ``finish()`` closes it
even when the last write or the fsync raises (a failed fsync is never retried on the same fd:
the kernel may already have dropped the dirty pages, so a second fsync could lie), and
``close()`` is idempotent and never raises. The direct sink's staging buffer may still be
referenced by a failed write's traceback when it closes; it is then left to be freed with the
last reference instead of failing the close (``BufferError``), so the fd is released at once.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import mmap
import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

Piece = bytes | bytearray | memoryview

#: Use O_DIRECT when the filesystem supports it.
USE_DIRECT_IO = True
#: Alignment O_DIRECT needs for buffers, offsets and lengths (covers 512 B and 4 KiB devices).
DIRECT_ALIGN = 4096
#: Buffered sinks start writeback every this many bytes, so the final fsync stays short.
WRITEBACK_EVERY_BYTES = 32 * 1024 * 1024
_SYNC_FILE_RANGE_WRITE = 2
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_sync_file_range = getattr(_libc, "sync_file_range", None)
if _sync_file_range is not None:
    _sync_file_range.argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint]


class Sink(Protocol):
    def write(self, pieces: list[Piece]) -> None: ...

    def finish(self) -> None:
        """Write what is left, fsync, close (closed also when this raises)."""
        ...

    def close(self) -> None:
        """Close without finishing (abort); idempotent, never raises."""
        ...


class _Fd:
    """A file descriptor closed exactly once."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.closed = False

    def close(self, *, raise_errors: bool) -> None:
        if self.closed:
            return
        self.closed = True  # Linux releases the fd even when close() reports an error
        try:
            os.close(self.fd)
        except OSError:
            if raise_errors:
                raise


def _write_fully(fd: int, data: Piece, offset: int) -> int:
    """Write all of ``data`` at ``offset`` (positional writes: a short write resumes exactly
    where it stopped); return the offset after it."""
    view = memoryview(data).cast("B")
    while view:
        done = os.pwrite(fd, view, offset)
        offset += done
        view = view[done:]
    return offset


class BufferedSink:
    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._fd = _Fd(fd)
        self._written = 0
        self._synced_to = 0

    def write(self, pieces: list[Piece]) -> None:
        total = sum(len(p) for p in pieces)
        done = os.pwritev(self.fd, pieces, self._written)
        if done < total:
            _write_fully(self.fd, memoryview(b"".join(bytes(p) for p in pieces))[done:], self._written + done)
        self._written += total
        unsynced = self._written - self._synced_to
        if unsynced >= WRITEBACK_EVERY_BYTES and _sync_file_range is not None:
            _sync_file_range(self.fd, self._synced_to, unsynced, _SYNC_FILE_RANGE_WRITE)
            self._synced_to = self._written

    def finish(self) -> None:
        try:
            os.fsync(self.fd)
        except BaseException:
            self.close()
            raise
        self._fd.close(raise_errors=True)

    def close(self) -> None:
        self._fd.close(raise_errors=False)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def stage(view: memoryview, used: int, pieces: list[Piece], when_full: Callable[[], int]) -> int:
    """Copy ``pieces`` into the staging buffer ``view`` after its first ``used`` bytes; each time
    it is full, ``when_full()`` writes it out and says how many bytes it still holds. Returns the
    bytes held at the end."""
    size = len(view)
    for piece in pieces:
        src = memoryview(piece).cast("B")
        while src:
            take = min(len(src), size - used)
            view[used:used + take] = src[:take]
            used += take
            src = src[take:]
            if used == size:
                used = when_full()
    return used


class DirectSink:
    """Stages bytes in an aligned buffer and writes it with O_DIRECT whenever it is full."""

    def __init__(self, fd: int, staging_bytes: int) -> None:
        self.fd = fd
        self._fd = _Fd(fd)
        try:
            self._buf = mmap.mmap(-1, staging_bytes)  # page-aligned
        except BaseException:
            self.close()
            raise
        self._view = memoryview(self._buf)
        self._used = 0
        self._offset = 0  # bytes written to the file

    def write(self, pieces: list[Piece]) -> None:
        self._used = stage(self._view, self._used, pieces, self._write_full)

    def _write_full(self) -> int:
        self._offset = _write_fully(self.fd, self._view, self._offset)
        return 0

    def finish(self) -> None:
        try:
            aligned = self._used - self._used % DIRECT_ALIGN
            if aligned:
                self._offset = _write_fully(self.fd, self._view[:aligned], self._offset)
            if self._used > aligned:  # the unaligned tail goes through the page cache
                flags = fcntl.fcntl(self.fd, fcntl.F_GETFL)
                fcntl.fcntl(self.fd, fcntl.F_SETFL, flags & ~os.O_DIRECT)
                self._offset = _write_fully(self.fd, self._view[aligned:self._used], self._offset)
            os.fsync(self.fd)
        except BaseException:
            self.close()
            raise
        self._release_buffer()
        self._fd.close(raise_errors=True)

    def _release_buffer(self) -> None:
        if not hasattr(self, "_view"):
            return
        # BufferError: views made from it are still alive (a failed write's traceback holds
        # one). The anonymous mapping is then freed with its last reference.
        with contextlib.suppress(BufferError):
            self._view.release()
            self._buf.close()

    def close(self) -> None:
        try:
            self._fd.close(raise_errors=False)
        finally:
            self._release_buffer()


def open_sink(path: Path, staging_bytes: int, *, size_hint: int | None = None) -> Sink:
    """Create ``path`` (it must not exist) and return the best sink for its filesystem. A file
    known to fit in one staging buffer goes through the page cache: direct I/O saves nothing
    there and its buffer and flag changes cost more than the write."""
    small = size_hint is not None and size_hint <= staging_bytes
    direct_ok = (USE_DIRECT_IO and not small and hasattr(os, "O_DIRECT")
                 and staging_bytes % DIRECT_ALIGN == 0)
    if direct_ok:
        try:
            return DirectSink(os.open(path, _OPEN_FLAGS | os.O_DIRECT, 0o640), staging_bytes)
        except OSError as exc:
            if exc.errno != errno.EINVAL:  # EINVAL: this filesystem has no direct I/O
                raise
    return BufferedSink(os.open(path, _OPEN_FLAGS, 0o640))
