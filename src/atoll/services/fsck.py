"""``atoll fsck``: check the blob store against the metadata (docs/storage.md, "fsck").

For every blob row (``db.blobs``), page by page (keyset, so memory stays flat):

* its bytes exist (else **missing**), have the recorded size (else **bad size**) and, with
  ``verify_hashes``, the recorded SHA-256 (else **bad hash**; the bytes are re-read, streaming);
* its reference count equals its holders (the assets pointing at it): else a **refcount**
  mismatch; every asset records the same size and SHA-256 as its blob (else **metadata**).

Asset keys without a blob row (**unrecorded**) are checked the same way. Then the store is
listed and every key the metadata does not account for (and no upload in progress owns) is an
**orphan**: reported, reaped by ``atoll gc`` after its grace period.

``repair`` fixes only metadata, and only what is safe: a refcount is re-counted and set under
the row's lock (a row no one holds is deleted, its bytes become an orphan for gc); an
unrecorded key gets its row when no other key holds that content. It never deletes or rewrites
bytes, and never removes an asset: a missing or corrupt blob stays reported until the operator
restores it from a backup.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from atoll.db import blobcheck as q
from atoll.db.engine import write_tx
from atoll.services import upload_gc
from atoll.services.context import Context
from atoll.storage.base import digest
from atoll.timeutil import utcnow

#: Blob rows (and listed store keys) handled per metadata query.
FSCK_PAGE = 500


@dataclass
class FsckReport:
    #: Files (asset rows) whose blobs were checked.
    assets: int = 0
    blobs: int = 0
    missing: list[str] = field(default_factory=list)  # "key base:path": bytes gone
    bad_size: list[str] = field(default_factory=list)
    bad_hash: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)  # stored keys no metadata accounts for
    refcounts: list[str] = field(default_factory=list)  # "key: recorded N, held by M"
    unrecorded: list[str] = field(default_factory=list)  # asset keys without a blob row
    metadata: list[str] = field(default_factory=list)  # assets disagreeing with their blob row
    repaired: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No damaged bytes and no metadata inconsistency left (orphans are gc's business)."""
        return not (self.missing or self.bad_size or self.bad_hash or self.metadata or self.unfixed)

    @property
    def unfixed(self) -> list[str]:
        fixed = {line.split(" ", 1)[0] for line in self.repaired}
        return [x for x in self.refcounts + self.unrecorded if x.split(":", 1)[0] not in fixed]


@dataclass(frozen=True)
class _Page:
    rows: list[q.BlobRow]
    holders: dict[str, int]
    labels: dict[str, str]
    mismatched: list[tuple[str, str]]


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """One consistent view for a page's several queries (REPEATABLE READ on PostgreSQL)."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def _page(engine: Engine, after: str, recorded: bool) -> _Page:
    with _snapshot(engine) as conn:
        rows = (q.rows_after if recorded else q.unrecorded_after)(conn, after, FSCK_PAGE)
        keys = [r.key for r in rows]
        if not keys:
            return _Page([], {}, {}, [])
        mismatched = q.mismatched_assets(conn, keys) if recorded else []
        return _Page(rows, q.holder_counts(conn, keys), q.labels(conn, keys), mismatched)


def _known(engine: Engine, keys: list[str]) -> set[str]:
    with _snapshot(engine) as conn:
        return q.known(conn, keys)


def _fix_refs(engine: Engine, key: str) -> tuple[int, int] | None:
    with write_tx(engine) as conn:
        return q.fix_refs(conn, key)


def _record(engine: Engine, row: q.BlobRow) -> bool:
    try:
        with write_tx(engine) as conn:
            return q.record(conn, row, utcnow().isoformat())
    except IntegrityError:  # the content got its row meanwhile
        return False


async def _check_bytes(ctx: Context, row: q.BlobRow, label: str, verify: bool, report: FsckReport) -> None:
    shown = f"{row.key} {label}".rstrip()
    try:
        stat = await ctx.blobs.stat(row.key)
    except FileNotFoundError:
        report.missing.append(shown)
        return
    if stat.size != row.size:
        report.bad_size.append(shown)
        return
    if not verify:
        return
    try:
        size, sha = await digest(ctx.blobs, row.key)
    except FileNotFoundError:  # deleted while we read it
        report.missing.append(shown)
        return
    if size != row.size:
        report.bad_size.append(shown)
    elif sha != row.sha256:
        report.bad_hash.append(shown)


async def _rows(ctx: Context, verify: bool, repair: bool, report: FsckReport) -> None:
    after = ""
    while True:
        page = await ctx.run_db(_page, ctx.engine, after, True)
        if not page.rows:
            return
        report.metadata.extend(f"{key}: {label}" for key, label in page.mismatched)
        for row in page.rows:
            report.blobs += 1
            held = page.holders[row.key]
            report.assets += held
            if held != row.refs:
                report.refcounts.append(f"{row.key}: recorded {row.refs}, held by {held}")
                if repair and (fixed := await ctx.run_db(_fix_refs, ctx.engine, row.key)) is not None:
                    report.repaired.append(f"{row.key} refs {fixed[0]} -> {fixed[1]}")
            await _check_bytes(ctx, row, page.labels.get(row.key, ""), verify, report)
        after = page.rows[-1].key


async def _unrecorded(ctx: Context, verify: bool, repair: bool, report: FsckReport) -> None:
    after = ""
    while True:
        page = await ctx.run_db(_page, ctx.engine, after, False)
        if not page.rows:
            return
        for row in page.rows:
            report.blobs += 1
            report.assets += row.refs
            report.unrecorded.append(f"{row.key}: held by {row.refs} file(s), no blob row")
            if repair and await ctx.run_db(_record, ctx.engine, row):
                report.repaired.append(f"{row.key} recorded with {row.refs} reference(s)")
            await _check_bytes(ctx, row, page.labels.get(row.key, ""), verify, report)
        after = page.rows[-1].key


async def _orphans(ctx: Context, report: FsckReport) -> None:
    in_progress = await upload_gc.live_keys(ctx)
    batch: list[str] = []

    async def flush() -> None:
        known = await ctx.run_db(_known, ctx.engine, batch)
        report.orphans.extend(k for k in batch if k not in known and k not in in_progress)
        batch.clear()

    async for stat in ctx.blobs.list():
        batch.append(stat.key)
        if len(batch) >= FSCK_PAGE:
            await flush()
    if batch:
        await flush()
    report.orphans.sort()


async def fsck(ctx: Context, *, verify_hashes: bool = False, repair: bool = False) -> FsckReport:
    """Check every blob the metadata records (bytes, size, SHA-256 with ``verify_hashes``,
    reference counts) and list orphans; ``repair`` fixes what is safe (see the module doc)."""
    report = FsckReport()
    await _rows(ctx, verify_hashes, repair, report)
    await _unrecorded(ctx, verify_hashes, repair, report)
    await _orphans(ctx, report)
    return report
