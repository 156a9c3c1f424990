"""The local store under storage faults: whatever fails (write, fsync, rename, directory fsync,
a full disk), the writer raises the mapped StorageError, closes its fd exactly once, removes its
temp file and leaves no blob, and the next write on the same store works."""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from atoll.errors import InsufficientStorage, StorageError, StorageUnavailable
from atoll.storage import sinks
from atoll.storage.local import LocalBlobStore
from atoll.storage.sinks import BufferedSink, DirectSink
from tests.reliability.faults import fill, tmpfs

pytestmark = pytest.mark.anyio
CHUNK = 64 * 1024


def fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError as exc:
        assert exc.errno == errno.EBADF
        return False
    return True


def test_direct_sink_closes_its_fd_while_a_failed_write_still_holds_its_buffer() -> None:
    """ENOSPC, then abort while the error's traceback still references the staging buffer: the
    close must not raise BufferError, and the fd must be released at once."""
    fd = os.open("/dev/full", os.O_WRONLY)
    sink = DirectSink(fd, 4 * 4096)
    with pytest.raises(OSError) as caught:
        sink.write([b"x" * (4 * 4096)])
    assert caught.value.errno == errno.ENOSPC
    sink.close()  # the traceback in ``caught`` still holds a view of the buffer
    assert not is_open(fd)
    sink.close()  # idempotent


def test_a_failed_fsync_closes_the_fd_and_is_never_retried(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    fd = os.open(tmp_path / "f", os.O_WRONLY | os.O_CREAT)
    sink = BufferedSink(fd)
    sink.write([b"abc"])
    fsyncs: list[int] = []

    def failing_fsync(fd: int) -> None:
        fsyncs.append(fd)
        raise OSError(errno.EIO, "injected")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError):
        sink.finish()
    assert not is_open(fd)
    sink.close()  # nothing left to close
    assert fsyncs == [fd]  # and never a second fsync


class FailingOs:
    """Makes the ``nth`` call of one ``os`` function raise ``errno`` (for this test only)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str, nth: int, code: int) -> None:
        self.calls = 0
        real: Callable[..., Any] = getattr(os, name)

        def failing(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls == nth:
                raise OSError(code, os.strerror(code))
            return real(*args, **kwargs)

        monkeypatch.setattr(os, name, failing)


async def write_blob(store: LocalBlobStore, data: bytes) -> str:
    writer = await store.create()
    try:
        for pos in range(0, len(data), CHUNK):
            await writer.write(data[pos:pos + CHUNK])
        info = await writer.commit()
    except BaseException:
        await writer.abort()
        raise
    assert (info.size, info.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    return info.key


async def nothing_left(store: LocalBlobStore, before_fds: int) -> None:
    assert await store.pending() == []
    assert [s async for s in store.list()] == []
    assert fds() <= before_fds


#: (sink, os function, which call fails): a chunk's write, the last write (the tail), the temp
#: file's fsync, the rename, the directory fsync. Direct sinks write with pwrite(), buffered with
#: pwritev(); 10 chunks of 64 KiB + 123 bytes at 256 KiB per write is 3 writes.
STEPS = [(sink, name, nth) for sink, write in (("direct", "pwrite"), ("buffered", "pwritev"))
         for name, nth in ((write, 1), (write, 3), ("fsync", 1), ("rename", 1), ("fsync", 2))]


@pytest.mark.parametrize("code", [errno.EIO, errno.ENOSPC])
@pytest.mark.parametrize(("sink", "name", "nth"), STEPS)
async def test_every_step_fails_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        sink: str, name: str, nth: int, code: int) -> None:
    monkeypatch.setattr(sinks, "USE_DIRECT_IO", sink == "direct")
    store = LocalBlobStore(tmp_path / "blobs", chunk_bytes=CHUNK * 4)
    await write_blob(store, b"warm-up")  # staging folder and lease exist, pools made and gone
    for stat in [s async for s in store.list()]:
        await store.delete(stat.key)
    before = fds()
    data = os.urandom(CHUNK * 10 + 123)
    with monkeypatch.context() as patch:
        FailingOs(patch, name, nth, code)
        with pytest.raises(StorageError) as caught:
            await write_blob(store, data)
    assert type(caught.value) is (InsufficientStorage if code == errno.ENOSPC else StorageUnavailable)
    await nothing_left(store, before)
    key = await write_blob(store, data)  # the next write works
    assert b"".join([c async for c in store.open(key)]) == data
    await store.aclose()


async def test_a_full_disk_frees_everything_and_the_next_write_works(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", "8m") as root:
        store = LocalBlobStore(root / "blobs", chunk_bytes=CHUNK * 4)
        kept = await write_blob(store, b"kept" * 1000)
        before = fds()
        free_before = await store.free_bytes()
        with pytest.raises(InsufficientStorage) as caught:
            await write_blob(store, os.urandom(12 * 1024 * 1024))
        assert "disk is full" in caught.value.message
        assert await store.pending() == []
        assert [s.key async for s in store.list()] == [kept]
        assert fds() <= before
        assert await store.free_bytes() == free_before  # the temp file's space is back
        data = os.urandom(1024 * 1024)
        key = await write_blob(store, data)
        assert b"".join([c async for c in store.open(key)]) == data
        await store.aclose()


async def test_free_bytes_is_the_blob_folders_free_space(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", "8m") as root:
        store = LocalBlobStore(root / "blobs", chunk_bytes=CHUNK)
        free = await store.free_bytes()
        assert free is not None and 7 * 1024 * 1024 < free <= 8 * 1024 * 1024
        fill(root, leave_bytes=1024 * 1024)
        after = await store.free_bytes()
        assert after is not None and after <= 1024 * 1024
        await store.aclose()
