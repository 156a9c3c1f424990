"""``atoll gc``: purging the trash and collecting orphan blobs (the integrity check is
``services.fsck``).

An orphan is a blob no asset and no trash entry points at and no blob row (``db.blobs``)
records: what a crash between "bytes durable" and "metadata commit" leaves, a duplicate's fresh
copy or a replaced blob whose deletion failed. Orphans are never visible; gc reaps those older
than a grace period (so an upload that is about to commit is never touched).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import Engine

from atoll.db import assets as q
from atoll.db import blobcheck
from atoll.db import thumbnails as thumb_q
from atoll.db import trash as trash_q
from atoll.db.engine import read_tx
from atoll.db.trash import Trashed
from atoll.services import trash, upload_gc
from atoll.services.context import Context
from atoll.services.thumbs import cleanup as thumbs

#: Orphans younger than this are left alone by default (an upload may be about to commit).
DEFAULT_GC_GRACE_S = 24 * 3600


def _in_use(engine: Engine, key: str) -> bool:
    with read_tx(engine) as conn:
        return q.blob_key_in_use(conn, key) or bool(blobcheck.known(conn, [key]))


@dataclass
class GcReport:
    """What ``collect`` removed (or, with ``dry_run``, would remove)."""

    dry_run: bool
    #: Trash entries purged (older than the retention, no row references them).
    purged: list[Trashed] = field(default_factory=list)
    #: Trash entries past the retention kept because a row still references them.
    kept_referenced: list[Trashed] = field(default_factory=list)
    #: Orphan blob keys removed (no asset, no trash entry, no upload in flight; older than the grace).
    orphans: list[str] = field(default_factory=list)
    #: Cached thumbnails removed because no asset holds their source content any more.
    thumbnails: list[str] = field(default_factory=list)


def _all_used_keys(engine: Engine) -> set[str]:
    """Blob keys an asset, a trash entry or a cached thumbnail points at."""
    with read_tx(engine) as conn:
        return ({asset.blob_key for asset in q.all_assets(conn)} | trash_q.all_blob_keys(conn)
                | thumb_q.all_keys(conn))


async def collect(
    ctx: Context,
    *,
    grace_s: float = DEFAULT_GC_GRACE_S,
    retention_s: float | None = None,
    dry_run: bool = False,
) -> GcReport:
    """``atoll gc``: purge trash entries older than the retention (``trash_retention_s``) that no
    row references, then delete orphan blobs committed more than ``grace_s`` ago. Also sweeps
    unfinished writes that no live writer owns any more, expired resumable uploads and partial
    bytes no upload session owns. ``dry_run``: list what would go, change nothing."""
    retention = ctx.settings.trash_retention_s if retention_s is None else retention_s
    report = GcReport(dry_run=dry_run)
    purged = await trash.purge(ctx, retention_s=retention, dry_run=dry_run)
    report.purged, report.kept_referenced = purged.purged, purged.referenced
    if dry_run:
        in_progress = await upload_gc.live_keys(ctx)
        referenced = await ctx.run_db(_all_used_keys, ctx.engine) | in_progress
        going = {e.asset.blob_key for e in purged.purged}
        now = time.time()
        async for stat in ctx.blobs.list():
            if stat.key not in referenced and stat.key not in going and now - stat.mtime >= grace_s:
                report.orphans.append(stat.key)
        return report
    await upload_gc.reap_expired(ctx)
    await upload_gc.reap_orphans(ctx)
    in_progress = await upload_gc.live_keys(ctx)  # an upload being completed has its blob first
    await ctx.blobs.sweep(keep=in_progress)
    report.thumbnails = await thumbs.reap_orphans(ctx)  # of content no asset holds any more
    referenced = await ctx.run_db(_all_used_keys, ctx.engine) | in_progress
    now = time.time()
    async for stat in ctx.blobs.list():
        if stat.key in referenced or now - stat.mtime < grace_s:
            continue
        if await ctx.run_db(_in_use, ctx.engine, stat.key):  # referenced meanwhile
            continue
        if stat.key in await upload_gc.live_keys(ctx):  # an upload began completing meanwhile
            continue
        await ctx.blobs.delete(stat.key)
        report.orphans.append(stat.key)
    return report


async def gc(ctx: Context, *, grace_s: float = DEFAULT_GC_GRACE_S) -> list[str]:
    """``collect`` with the configured trash retention; the blob keys it deleted (orphans and
    thumbnails of content no asset holds any more)."""
    report = await collect(ctx, grace_s=grace_s)
    return report.thumbnails + report.orphans
