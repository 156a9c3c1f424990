"""The native write helper (storage/native.py, _durable.c) and the local store's use of it: a file
smaller than one chunk is written, synced, renamed and its folder synced in one call; every step
that fails reports its errno and step, closes what it opened, and the store then leaves nothing
behind; the Python path does the same when the helper is off.

The system-call faults this cannot provoke in process (a failing fsync of the file or folder) are
injected with strace into a live server: tests/reliability/test_io_errors.py."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
from pathlib import Path

import pytest

from atoll.errors import InsufficientStorage, StorageUnavailable
from atoll.storage import native
from atoll.storage.local import LocalBlobStore
from atoll.storage.native import DurableWrite, NativeWriteError, Step
from tests.reliability.faults import fill, tmpfs

pytestmark = pytest.mark.anyio
CHUNK = 64 * 1024


def fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def helper() -> DurableWrite:
    found = native.load()
    assert found is not None, "scripts/setup builds the helper wherever a C compiler is (cc)"
    return found


def test_the_helper_is_built_and_loaded_where_a_compiler_is() -> None:
    if shutil.which("cc") is None:
        pytest.skip("no C compiler: atoll runs the Python path")
    helper()


def test_a_helper_of_another_abi_or_none_is_not_used(tmp_path: Path) -> None:
    assert native.load(tmp_path / "missing.so") is None
    (tmp_path / "junk.so").write_bytes(b"not a library")
    assert native.load(tmp_path / "junk.so") is None


@pytest.mark.parametrize("known", [True, False])
def test_a_write_lands_whole_at_its_final_name(tmp_path: Path, known: bool) -> None:
    """Folders not known to be durable are made (or found) by the same call."""
    (tmp_path / "tmp").mkdir()
    final = tmp_path / "ab" / "cd" / "blob"
    if known:
        final.parent.mkdir(parents=True)
    data = os.urandom(5000)
    before = fds()
    helper()(tmp_path / "tmp" / "t.part", final, data, folders_known=known)
    assert final.read_bytes() == data
    assert not (tmp_path / "tmp" / "t.part").exists()
    assert stat.S_IMODE(final.stat().st_mode) == 0o640 & ~_umask()
    assert stat.S_IMODE(final.parent.stat().st_mode) == 0o777 & ~_umask()
    assert fds() == before


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


CASES = {  # what goes wrong: (errno, step)
    "temp exists": (errno.EEXIST, Step.OPEN),
    "no temp folder": (errno.ENOENT, Step.OPEN),
    "a file where a folder goes": (errno.ENOTDIR, Step.MKDIR),
    "final is a folder": (errno.EISDIR, Step.RENAME),
    "known folder removed": (errno.ENOENT, Step.RENAME),
}


@pytest.mark.parametrize("case", CASES)
def test_each_failure_names_its_step_and_closes_what_it_opened(tmp_path: Path, case: str) -> None:
    temp, final = tmp_path / "tmp" / "t.part", tmp_path / "ab" / "cd" / "blob"
    if case != "no temp folder":
        temp.parent.mkdir()
    if case == "temp exists":
        temp.write_bytes(b"someone else's")
    if case == "a file where a folder goes":
        final.parent.parent.write_bytes(b"")
    if case == "final is a folder":
        (final / "inside").mkdir(parents=True)
    before = fds()
    with pytest.raises(NativeWriteError) as caught:
        helper()(temp, final, b"data", folders_known=case in ("final is a folder", "known folder removed"))
    assert (caught.value.errno, caught.value.step) == CASES[case]
    assert not caught.value.renamed
    assert fds() == before
    if case == "temp exists":
        assert temp.read_bytes() == b"someone else's"  # never opened, never truncated
    elif case != "no temp folder":
        assert temp.read_bytes() == b"data"  # durable, still at the temp name: the caller removes it


def test_a_full_disk_fails_the_write_step(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", "1m") as root:
        fill(root, 0)
        before = fds()
        with pytest.raises(NativeWriteError) as caught:
            helper()(root / "t.part", root / "blob", os.urandom(64 * 1024), folders_known=True)
        assert (caught.value.errno, caught.value.step) == (errno.ENOSPC, Step.WRITE)
        assert fds() == before


class Spy:
    """Counts the helper's calls; ``fail_at`` makes a call leave the files as the helper does
    when that step's system call fails, and report it: before the rename the temp file holds the
    bytes; from the folder's open on, the file is at its final name."""

    def __init__(self, real: DurableWrite, fail_at: Step | None = None, code: int = errno.EIO) -> None:
        self.real, self.fail_at, self.code, self.calls = real, fail_at, code, 0

    def __call__(self, temp: Path, final: Path, data: bytes, *, folders_known: bool) -> None:
        self.calls += 1
        if self.fail_at is None:
            return self.real(temp, final, data, folders_known=folders_known)
        if self.fail_at <= Step.RENAME:
            temp.write_bytes(data)
        else:
            self.real(temp, final, data, folders_known=folders_known)
        raise NativeWriteError(self.code, self.fail_at, final)


async def write_blob(store: LocalBlobStore, data: bytes, key: str | None = None) -> str:
    writer = await store.create(key)
    for pos in range(0, len(data), CHUNK // 2):
        await writer.write(data[pos:pos + CHUNK // 2])
    info = await writer.commit()
    assert (info.size, info.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    return info.key


async def read(store: LocalBlobStore, key: str) -> bytes:
    return b"".join([c async for c in store.open(key)])


@pytest.mark.parametrize("size", [0, 1, 4096, CHUNK - 1])
async def test_files_under_one_chunk_take_one_native_call(tmp_path: Path, size: int) -> None:
    store = LocalBlobStore(tmp_path / "blobs", chunk_bytes=CHUNK)
    spy = Spy(helper())
    store.durable_write = spy  # type: ignore[assignment]
    data = os.urandom(size)
    key = await write_blob(store, data)
    assert spy.calls == 1 and await read(store, key) == data
    assert await store.pending() == []
    await store.aclose()


async def test_bigger_files_and_a_store_without_the_helper_take_the_python_path(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs", chunk_bytes=CHUNK)
    spy = Spy(helper())
    store.durable_write = spy  # type: ignore[assignment]
    big = os.urandom(CHUNK * 2 + 7)
    assert await read(store, await write_blob(store, big)) == big
    assert spy.calls == 0
    plain = LocalBlobStore(tmp_path / "plain", chunk_bytes=CHUNK, native=False)
    assert plain.durable_write is None
    small = os.urandom(100)
    assert await read(plain, await write_blob(plain, small)) == small
    await store.aclose()
    await plain.aclose()


@pytest.mark.parametrize(("step", "code", "error"), [
    (Step.SYNC_DIR, errno.EIO, StorageUnavailable),
    (Step.OPEN_DIR, errno.ENOSPC, InsufficientStorage),
    (Step.CLOSE, errno.EIO, StorageUnavailable),
    (Step.RENAME, errno.EIO, StorageUnavailable),
])
async def test_a_failed_step_leaves_no_temp_file_and_no_blob(tmp_path: Path, step: Step, code: int,
                                                             error: type[Exception]) -> None:
    """Also after the rename: a blob at its final name whose folder was not synced is not
    committed, so the store removes it; the next write works."""
    store = LocalBlobStore(tmp_path / "blobs", chunk_bytes=CHUNK)
    await write_blob(store, b"warm-up")
    async for found in store.list():
        await store.delete(found.key)
    store.durable_write = Spy(helper(), fail_at=step, code=code)  # type: ignore[assignment]
    before = fds()
    with pytest.raises(error):
        await write_blob(store, os.urandom(1000))
    assert [s async for s in store.list()] == []
    assert await store.pending() == []
    assert not list((tmp_path / "blobs" / "tmp").rglob("*.part"))
    assert fds() <= before
    store.durable_write = helper()
    data = os.urandom(1000)
    assert await read(store, await write_blob(store, data)) == data
    await store.aclose()


@pytest.mark.parametrize("path", ["native", "python", "streamed"])
async def test_a_rename_into_a_removed_folder_makes_the_folder_again(tmp_path: Path, path: str) -> None:
    """On each write path: a fan-out folder this store remembers as durable was removed."""
    store = LocalBlobStore(tmp_path / "blobs", chunk_bytes=CHUNK, native=path == "native")
    data = os.urandom(CHUNK * 2 + 5) if path == "streamed" else b"second"
    first = await write_blob(store, b"first", key="ab" * 16)
    await store.delete(first)
    shutil.rmtree(tmp_path / "blobs" / "ab")  # remembered as existing, now gone
    second = await write_blob(store, data, key="ab" * 15 + "cd")
    assert await read(store, second) == data
    assert await store.pending() == []
    await store.aclose()
