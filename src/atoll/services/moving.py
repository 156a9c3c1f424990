"""Copy every blob the metadata references from one blob store to another, streaming.

Each copy is checked against the metadata's size and SHA-256 (the destination writer's commit
returns what it stored); a bad copy is deleted again. Resumable: a blob already at the
destination with the right size is skipped (with ``verify``, it is read back and hashed first,
and copied again if it differs). Nothing is switched: the caller tells the operator what to set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread
from anyio.streams.memory import MemoryObjectReceiveStream
from sqlalchemy import Engine

from atoll.db import blobrefs
from atoll.db.blobrefs import BlobRef
from atoll.errors import StorageError
from atoll.models import BlobInfo
from atoll.storage.base import digest

if TYPE_CHECKING:
    from atoll.storage.base import BlobStore

#: Blobs copied at once (each holds at most a few chunks in memory).
COPY_CONCURRENCY = 4
#: Referenced blob keys read from the metadata per query.
REF_PAGE_KEYS = 500
#: Source blobs looked up in the metadata per query when counting orphans.
ORPHAN_BATCH_KEYS = 1000
#: Orphan keys kept for the report (all are counted).
MAX_ORPHANS_LISTED = 20
#: Files named per failure at most.
MAX_REFS_NAMED = 3


@dataclass(frozen=True)
class Failure:
    key: str
    reason: str
    refs: tuple[BlobRef, ...]

    def describe(self) -> str:
        names = ", ".join(f"base {r.base!r} {r.path}" for r in self.refs[:MAX_REFS_NAMED])
        more = len(self.refs) - MAX_REFS_NAMED
        if more > 0:
            names += f" and {more} more"
        return f"{self.key}: {self.reason} (used by {names})"


@dataclass
class MoveReport:
    #: Distinct blobs the metadata references, and their bytes.
    blobs: int = 0
    bytes_total: int = 0
    #: Copied by this run (including copies redone because the destination's differed).
    copied: int = 0
    bytes_copied: int = 0
    #: Already at the destination with the right size (and hash, with verify): not copied.
    already: int = 0
    #: Destination copies read back and hashed by this run, all matching.
    verified: int = 0
    failures: list[Failure] = field(default_factory=list)
    #: Source blobs no file references (not copied: ``atoll gc`` removes them).
    orphans: int = 0
    orphan_bytes: int = 0
    orphan_keys: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.copied + self.already + len(self.failures)

    @property
    def ok(self) -> bool:
        return not self.failures


Progress = Callable[[MoveReport], None]


async def _copy(source: BlobStore, target: BlobStore, key: str, size: int) -> BlobInfo:
    writer = await target.create(key, size_hint=size)
    try:
        async for chunk in source.open(key):
            await writer.write(chunk)
        return await writer.commit()
    except BaseException:
        with anyio.CancelScope(shield=True):
            await writer.abort()
        raise


class _Mover:
    def __init__(
        self,
        source: BlobStore,
        target: BlobStore,
        verify: bool,
        report: MoveReport,
        progress: Progress | None,
    ) -> None:
        self.source, self.target, self.verify = source, target, verify
        self.report, self.progress = report, progress

    def _fail(self, key: str, reason: str, refs: list[BlobRef]) -> None:
        self.report.failures.append(Failure(key, reason, tuple(refs)))

    async def _present(self, key: str, size: int, sha256: str) -> bool:
        """Is a good copy already at the destination?"""
        try:
            found = await self.target.stat(key)
        except FileNotFoundError:
            return False
        if found.size != size:
            return False
        if not self.verify:
            return True
        if await digest(self.target, key) != (size, sha256):
            return False
        self.report.verified += 1
        return True

    async def move(self, key: str, refs: list[BlobRef]) -> None:
        try:
            await self._move(key, refs)
        except (StorageError, OSError, ValueError) as exc:  # ValueError: a malformed key
            self._fail(key, f"{type(exc).__name__}: {exc}", refs)
        if self.progress is not None:
            self.progress(self.report)

    async def _move(self, key: str, refs: list[BlobRef]) -> None:
        expected = {(r.size, r.sha256) for r in refs}
        if len(expected) != 1:
            self._fail(key, "the files using it disagree on its size or SHA-256", refs)
            return
        size, sha256 = expected.pop()
        if await self._present(key, size, sha256):
            self.report.already += 1
            return
        try:
            at_source = await self.source.stat(key)
        except FileNotFoundError:
            self._fail(key, f"missing at the source ({self.source.url})", refs)
            return
        if at_source.size != size:
            self._fail(key, f"the source blob has {at_source.size} bytes, the metadata says {size}", refs)
            return
        info = await _copy(self.source, self.target, key, size)
        if (info.size, info.sha256) != (size, sha256):
            await self.target.delete(key)
            self._fail(
                key,
                f"SHA-256 mismatch: copied {info.sha256}, the metadata says {sha256} "
                "(the source blob is damaged); the copy was deleted",
                refs,
            )
            return
        if self.verify:
            if await digest(self.target, key) != (size, sha256):
                await self.target.delete(key)
                self._fail(key, "the copy read back from the destination differs; it was deleted", refs)
                return
            self.report.verified += 1
        self.report.copied += 1
        self.report.bytes_copied += size


async def _count_orphans(engine: Engine, source: BlobStore, report: MoveReport) -> None:
    batch: list[tuple[str, int]] = []

    async def flush() -> None:
        used = await anyio.to_thread.run_sync(_referenced, engine, [k for k, _ in batch])
        for key, size in batch:
            if key not in used:
                report.orphans += 1
                report.orphan_bytes += size
                if len(report.orphan_keys) < MAX_ORPHANS_LISTED:
                    report.orphan_keys.append(key)
        batch.clear()

    async for found in source.list():
        batch.append((found.key, found.size))
        if len(batch) >= ORPHAN_BATCH_KEYS:
            await flush()
    if batch:
        await flush()


def _referenced(engine: Engine, keys: list[str]) -> set[str]:
    with engine.connect() as conn:
        return blobrefs.referenced(conn, keys)


def _totals(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return blobrefs.totals(conn)


def _page(engine: Engine, after: str) -> dict[str, list[BlobRef]]:
    with engine.connect() as conn:
        return blobrefs.refs_after(conn, after, REF_PAGE_KEYS)


async def move_blobs(
    engine: Engine,
    source: BlobStore,
    target: BlobStore,
    *,
    verify: bool = False,
    progress: Progress | None = None,
    concurrency: int = COPY_CONCURRENCY,
) -> MoveReport:
    """Copy every referenced blob from ``source`` to ``target``; never raises for one blob's
    trouble (it is listed in ``failures``), only for the metadata database's."""
    report = MoveReport()
    report.blobs, report.bytes_total = await anyio.to_thread.run_sync(_totals, engine)
    await _count_orphans(engine, source, report)
    mover = _Mover(source, target, verify, report, progress)
    send, receive = anyio.create_memory_object_stream[tuple[str, list[BlobRef]]]()

    async def worker(jobs: MemoryObjectReceiveStream[tuple[str, list[BlobRef]]]) -> None:
        async with jobs:
            async for key, refs in jobs:
                await mover.move(key, refs)

    async with anyio.create_task_group() as tg:
        for _ in range(concurrency):
            tg.start_soon(worker, receive.clone())
        receive.close()
        async with send:
            after = ""
            while page := await anyio.to_thread.run_sync(_page, engine, after):
                for key, refs in page.items():
                    await send.send((key, refs))
                after = next(reversed(page))
    return report
