"""Blobs on local disk: ``<root>/ab/cd/<32 hex>``; unfinished writes in ``<root>/tmp/<owner>/``.

Writes: pieces are gathered to ``chunk_bytes``, then written (``storage/sinks.py``: direct I/O
where possible) and hashed on two ordered worker threads; commit is fsync -> rename ->
fsync(dir).

Several processes may share one root. Each store instance stages its temp files in a folder of
its own, ``tmp/<owner>/``, and holds an exclusive ``flock`` on ``tmp/<owner>.lock`` for as long as
it lives. The kernel drops that lock when the process dies (even by SIGKILL), so ``sweep()``
removes exactly the folders whose owner is gone and never touches a live process's uploads.

Failures (full disk, I/O errors) on any step — open, write, fsync, rename, directory fsync —
surface as ``InsufficientStorage`` (ENOSPC, EDQUOT) or ``StorageUnavailable``; the writer then
closes its sink once, frees its staging buffer and removes its temp file (and the renamed blob
if only the directory fsync failed), so the space is back at once and the next upload works.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import shutil
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio.to_thread

from atoll.errors import StorageError
from atoll.models import BlobInfo
from atoll.storage.base import KEY_RE, BlobStat, Piece, check_key, new_key, os_error
from atoll.storage.local_partial import LINK_SUFFIX, PARTIAL_DIR, LocalPartials
from atoll.storage.native import DurableWrite, NativeWriteError, Step, load
from atoll.storage.partial import WithPartials
from atoll.storage.sinks import Sink, fsync_dir, open_sink

log = logging.getLogger(__name__)

TEMP_DIR = "tmp"
TEMP_SUFFIX = ".part"
#: Fan-out folders remembered as existing (65,536 at most exist; the set is cleared when full).
MAX_KNOWN_FOLDERS = 65_536
LOCK_SUFFIX = ".lock"
#: A completion's link (``local_partial.LINK_SUFFIX``) this much older than its last link or
#: rename (its inode's ctime) was left by a crash: ``sweep`` removes it. A completion takes
#: milliseconds between the link and the rename.
STALE_LINK_S = 3600
#: Chunks handed to the worker threads but not yet written and hashed: parsing the next chunk
#: overlaps with writing and hashing this one. Memory per upload is at most (this + 1) x chunk_bytes.
MAX_CHUNKS_IN_FLIGHT = 3


class LocalBlobWriter:
    """Streams one blob to a temp file. Full chunks go to two ordered worker threads, one writing
    and one hashing, so the event loop keeps parsing while both run (bounded in-flight).

    The temp file is created by the first write, on the writer thread: creating a file in the
    shared staging folder can wait for that folder's lock (other uploads rename out of it), which
    must not stall the event loop. A file smaller than one chunk is created, written, synced and
    renamed in the single worker-thread call of ``commit``."""

    def __init__(self, store: LocalBlobStore, key: str, temp: Path, size_hint: int | None) -> None:
        self.key = key
        self._store = store
        self._temp = temp
        self._size_hint = size_hint
        self._opened: Sink | None = None
        self._hash = hashlib.sha256()
        self._pieces: list[Piece] = []
        self._pending = 0  # bytes in self._pieces
        self._size = 0  # bytes handed to the writer thread
        self._written = 0  # of those, bytes the writer thread has written to the temp file
        self._closed = False  # committed or aborted: no more writes
        self._failed = False  # a write failed: later chunks are not written (the offset is unknown)
        self._renamed: Path | None = None  # the final path, once the temp file was renamed there
        self._pools: tuple[ThreadPoolExecutor, ThreadPoolExecutor] | None = None
        self._in_flight: deque[asyncio.Future[None]] = deque()

    def _sink(self) -> Sink:
        """The temp file's sink, created on first use (always on a worker thread)."""
        if self._opened is None:
            self._opened = open_sink(self._temp, self._store.chunk_bytes, size_hint=self._size_hint)
        return self._opened

    def _hash_sync(self, pieces: list[Piece]) -> None:
        for piece in pieces:
            self._hash.update(piece)

    def _write_sync(self, pieces: list[Piece]) -> None:
        if self._failed:
            raise StorageError("an earlier write of this blob failed")
        try:
            self._sink().write(pieces)
        except BaseException:
            self._failed = True
            raise
        self._written += sum(len(p) for p in pieces)

    def unwritten_bytes(self) -> int:
        return self._pending + self._size - self._written

    async def write(self, data: Piece) -> None:
        if self._closed:
            raise StorageError("write after commit or abort")
        if not data:
            return
        self._pieces.append(data)
        self._pending += len(data)
        if self._pending < self._store.chunk_bytes:
            return
        pieces, self._pieces, self._pending = self._pieces, [], 0
        self._size += sum(len(p) for p in pieces)
        if self._pools is None:  # made on the first full chunk; small files never need them
            self._pools = (
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="atoll-write"),
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="atoll-hash"),
            )
        writer, hasher = self._pools
        self._in_flight.append(asyncio.wrap_future(writer.submit(self._write_sync, pieces)))
        self._in_flight.append(asyncio.wrap_future(hasher.submit(self._hash_sync, pieces)))
        try:
            while self._in_flight and (
                len(self._in_flight) > 2 * MAX_CHUNKS_IN_FLIGHT or self._in_flight[0].done()
            ):
                await self._in_flight.popleft()
        except OSError as exc:
            raise os_error(exc, "writing a file") from exc

    async def _drain(self, *, raise_errors: bool) -> None:
        while self._in_flight:
            future = self._in_flight.popleft()
            try:
                await future
            except BaseException:
                if raise_errors:
                    raise
        if self._pools is not None:
            for pool in self._pools:
                pool.shutdown(wait=True)
            self._pools = None

    def _commit_sync(self) -> BlobInfo:
        final = self._store.path_for(self.key)
        durable = self._store.durable_write
        if self._opened is None and durable is not None:  # nothing written yet: all of it is here
            self._commit_whole(durable, final)
        else:
            self._commit_streamed(final)
        self._store.remember_parent(final)
        self._closed = True
        return BlobInfo(key=self.key, size=self._size, sha256=self._hash.hexdigest())

    def _take_pieces(self) -> list[Piece]:
        pieces, self._pieces = self._pieces, []
        self._size += self._pending
        self._pending = 0
        self._hash_sync(pieces)
        return pieces

    def _commit_streamed(self, final: Path) -> None:
        """Write what is left, fsync, rename, fsync the folders."""
        if self._pieces:
            self._write_sync(self._take_pieces())
        self._sink().finish()  # closes the fd whatever happens; a failed fsync is never retried
        to_sync = self._store.ensure_parent(final)
        try:
            os.rename(self._temp, final)
        except FileNotFoundError:
            self._rename_into_remade_folders(final)
            return
        self._renamed_to(final, to_sync)

    def _rename_into_remade_folders(self, final: Path) -> None:
        """A remembered folder was removed behind our back: make it again, then rename the
        (durable) temp file into it."""
        self._store.forget_folders()
        to_sync = self._store.ensure_parent(final)
        os.rename(self._temp, final)
        self._renamed_to(final, to_sync)

    def _renamed_to(self, final: Path, to_sync: list[Path]) -> None:
        self._renamed = final
        fsync_dir(final.parent)
        for folder in to_sync:
            fsync_dir(folder)

    def _commit_whole(self, durable: DurableWrite, final: Path) -> None:
        """A file smaller than one chunk, in one native call (``storage/native.py``)."""
        pieces = self._take_pieces()
        data = pieces[0] if len(pieces) == 1 and type(pieces[0]) is bytes else b"".join(pieces)
        try:
            durable(self._temp, final, data, folders_known=self._store.knows_parent(final))
        except NativeWriteError as exc:
            if exc.renamed:
                self._renamed = final
            if exc.step != Step.RENAME or exc.errno != errno.ENOENT:
                raise
            self._rename_into_remade_folders(final)
            return
        self._renamed = final

    async def commit(self) -> BlobInfo:
        if self._closed:
            raise StorageError("commit after commit or abort")
        try:
            await self._drain(raise_errors=True)
            return await anyio.to_thread.run_sync(self._commit_sync)
        except OSError as exc:
            await self.abort()
            raise os_error(exc, "storing a file") from exc
        except BaseException:
            await self.abort()
            raise

    def _abort_sync(self) -> None:
        if self._opened is not None:
            self._opened.close()  # idempotent and never raises: the fd is released exactly once
        leftovers = [self._temp] if self._renamed is None else [self._renamed]
        for path in leftovers:  # a blob renamed but not durable is not committed: remove it
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError as exc:  # the sweep (temp) or gc (orphan blob) reaps it later
                log.warning("could not remove %s after a failed write: %s", path.name, exc)

    async def abort(self) -> None:
        if self._closed:
            return
        self._closed = True
        # Shielded: abort runs on cancellation paths and must finish.
        with anyio.CancelScope(shield=True):
            await self._drain(raise_errors=False)
            await anyio.to_thread.run_sync(self._abort_sync)


def _try_lock(path: Path) -> int | None:
    """An exclusive flock on ``path`` (created if missing), or None if another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


class LocalBlobStore(WithPartials):
    def __init__(self, root: Path, *, chunk_bytes: int, native: bool = True) -> None:
        self.root = root.resolve()
        #: The native helper for files smaller than one chunk (None: the Python path).
        self.durable_write: DurableWrite | None = load() if native else None
        self.url = self.root.as_uri()
        self.chunk_bytes = chunk_bytes
        self._owner = new_key()
        self._lease: int | None = None
        self._known_folders: set[Path] = set()
        (self.root / TEMP_DIR).mkdir(parents=True, exist_ok=True)
        self._partials: LocalPartials = LocalPartials(self)

    @property
    def staging(self) -> Path:
        """This instance's temp folder, made (with its lease) on the first write."""
        folder = self.root / TEMP_DIR / self._owner
        if self._lease is None:
            # Locked under a hidden name first, so a sweeper never sees the lease unlocked.
            hidden = folder.with_name("." + self._owner)
            self._lease = _try_lock(hidden)
            assert self._lease is not None, "a fresh owner id is never locked"
            os.rename(hidden, folder.with_name(self._owner + LOCK_SUFFIX))
            folder.mkdir(exist_ok=True)
        return folder

    def path_for(self, key: str) -> Path:
        check_key(key)
        return self.root / key[:2] / key[2:4] / key

    def ensure_parent(self, final: Path) -> list[Path]:
        """Make ``final``'s two fan-out folders unless they are known to be durable; return the
        folders to fsync after the rename besides ``final``'s own (the two above it then: a
        folder that exists may have been made by a write that has not synced its entry yet).
        Folders known durable are remembered (nothing removes fan-out folders), so the common
        case costs no system call."""
        if self.knows_parent(final):
            return []
        upper = final.parent.parent
        for folder in (upper, final.parent):
            with contextlib.suppress(FileExistsError):
                folder.mkdir()
        return [upper, upper.parent]

    def knows_parent(self, final: Path) -> bool:
        """``final``'s folders were made and synced by this store."""
        return final.parent in self._known_folders

    def forget_folders(self) -> None:
        self._known_folders.clear()

    def remember_parent(self, final: Path) -> None:
        """``final``'s folder is durable (its entry fsynced): later blobs need not create it."""
        if len(self._known_folders) >= MAX_KNOWN_FOLDERS:
            self._known_folders.clear()
        self._known_folders.add(final.parent)

    def _create_sync(self, key: str, size_hint: int | None) -> LocalBlobWriter:
        temp = self.staging / (new_key() + TEMP_SUFFIX)
        return LocalBlobWriter(self, key, temp, size_hint)

    async def create(self, key: str | None = None, *, size_hint: int | None = None) -> LocalBlobWriter:
        key = check_key(key) if key is not None else new_key()
        try:
            return self._create_sync(key, size_hint)
        except OSError as exc:
            raise os_error(exc, "creating a file") from exc

    async def free_bytes(self) -> int | None:
        """Free bytes for unprivileged writers on the blob folder's filesystem (statvfs: a
        syscall that answers from the superblock, called on the event loop)."""
        try:
            st = os.statvfs(self.root)
        except OSError as exc:
            raise os_error(exc, "reading the free space") from exc
        return st.f_bavail * st.f_frsize

    async def open(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        path = self.path_for(key)
        fd = await anyio.to_thread.run_sync(os.open, path, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            pos = start
            while end is None or pos < end:
                want = self.chunk_bytes if end is None else min(self.chunk_bytes, end - pos)
                data = await anyio.to_thread.run_sync(os.pread, fd, want, pos)
                if not data:
                    break
                pos += len(data)
                yield data
        finally:
            os.close(fd)

    def local_path(self, key: str) -> Path | None:
        return self.path_for(key)

    async def stat(self, key: str) -> BlobStat:
        st = await anyio.to_thread.run_sync(os.stat, self.path_for(key))
        return BlobStat(key=key, size=st.st_size, mtime=st.st_mtime)

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await anyio.to_thread.run_sync(os.unlink, self.path_for(key))

    async def presign(self, key: str, *, disposition: str, media_type: str, expires_s: int) -> str | None:
        return None

    async def check(self) -> None:
        def probe() -> None:
            if not os.access(self.root / TEMP_DIR, os.W_OK):
                raise StorageError(f"blob folder {self.root} is not writable")

        await anyio.to_thread.run_sync(probe)

    async def aclose(self) -> None:
        if self._lease is not None:
            os.close(self._lease)
            self._lease = None

    # ------------------------------------------------------------ unfinished writes

    def _pending_sync(self) -> list[str]:
        out = []
        for folder in (self.root / TEMP_DIR).iterdir():
            if folder.is_dir():
                out += [str(p.relative_to(self.root)) for p in folder.iterdir()]
        return sorted(out)

    async def pending(self) -> builtins.list[str]:
        return await anyio.to_thread.run_sync(self._pending_sync)

    def _sweep_sync(self) -> int:
        count = 0
        temp = self.root / TEMP_DIR
        for entry in temp.iterdir():
            owner = entry.name.removesuffix(LOCK_SUFFIX)
            if owner == self._owner or entry.name.startswith(".") or not (
                entry.is_dir() or entry.name.endswith(LOCK_SUFFIX)
            ):
                continue
            lock = _try_lock(temp / (owner + LOCK_SUFFIX))
            if lock is None:
                continue  # its owner is alive
            try:
                folder = temp / owner
                if folder.is_dir():
                    count += sum(1 for _ in folder.iterdir())
                    shutil.rmtree(folder, ignore_errors=True)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp / (owner + LOCK_SUFFIX))
            finally:
                os.close(lock)
        return count

    async def sweep(self, keep: frozenset[str] = frozenset()) -> int:
        """Temp files of dead processes (resumable uploads live elsewhere: ``partial/``) and
        completion links a crash left beside the blobs."""
        return await anyio.to_thread.run_sync(self._sweep_sync) + await anyio.to_thread.run_sync(
            self._sweep_links
        )

    def _sweep_links(self) -> int:
        count, now = 0, time.time()
        for folder in self._blob_folders():
            for entry in os.scandir(folder):
                if not (entry.name.startswith(".") and entry.name.endswith(LINK_SUFFIX)):
                    continue
                with contextlib.suppress(FileNotFoundError):
                    if now - entry.stat(follow_symlinks=False).st_ctime >= STALE_LINK_S:
                        os.unlink(entry.path)
                        count += 1
        return count

    def _blob_folders(self) -> Iterator[str]:
        """The fan-out folders that hold blobs (``ab/cd/``)."""
        for first in os.scandir(self.root):
            if first.name in (TEMP_DIR, PARTIAL_DIR) or not first.is_dir(follow_symlinks=False):
                continue
            for second in os.scandir(first.path):
                if second.is_dir(follow_symlinks=False):
                    yield second.path

    # ------------------------------------------------------------ resumable uploads

    async def partial_keys(self) -> builtins.list[str]:
        return await anyio.to_thread.run_sync(self._partials.keys)

    # ------------------------------------------------------------ listing

    def _list_sync(self) -> list[BlobStat]:
        out: list[BlobStat] = []
        for folder in self._blob_folders():
            for entry in os.scandir(folder):
                if KEY_RE.match(entry.name):
                    st = entry.stat(follow_symlinks=False)
                    out.append(BlobStat(key=entry.name, size=st.st_size, mtime=st.st_mtime))
        return out

    async def list(self) -> AsyncIterator[BlobStat]:
        for stat in await anyio.to_thread.run_sync(self._list_sync):
            yield stat
