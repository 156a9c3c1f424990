"""Integrity check (fsck) and orphan-blob collection (gc) for the asset store.

An orphan is a blob no asset points at: what a crash between "bytes durable" and "metadata
commit" leaves, or a replaced blob whose deletion failed. Orphans are never visible; gc reaps
those older than a grace period (so an upload that is about to commit is never touched).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import Engine

from atoll.db import assets as q
from atoll.db.engine import read_tx
from atoll.models import Asset
from atoll.services import upload_gc
from atoll.services.context import Context
from atoll.services.thumbs import cleanup as thumbs
from atoll.storage.base import digest

#: Orphans younger than this are left alone by default (an upload may be about to commit).
DEFAULT_GC_GRACE_S = 24 * 3600


@dataclass
class FsckReport:
    assets: int = 0
    missing: list[str] = field(default_factory=list)  # asset paths whose blob is gone
    bad_size: list[str] = field(default_factory=list)
    bad_hash: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)  # blob keys no asset references

    @property
    def ok(self) -> bool:
        return not (self.missing or self.bad_size or self.bad_hash)


def _all_assets(engine: Engine) -> list[Asset]:
    with read_tx(engine) as conn:
        return q.all_assets(conn)


def _in_use(engine: Engine, key: str) -> bool:
    with read_tx(engine) as conn:
        return q.blob_key_in_use(conn, key)


async def fsck(ctx: Context, *, verify_hashes: bool = False) -> FsckReport:
    """Check that every asset's blob exists with its recorded size (and hash if asked)."""
    assets = await ctx.run_db(_all_assets, ctx.engine)
    report = FsckReport(assets=len(assets))
    stored = {stat.key: stat async for stat in ctx.blobs.list()}
    for asset in assets:
        label = f"{asset.dtable_uuid}:{asset.path}"
        stat = stored.get(asset.blob_key)
        if stat is None:
            report.missing.append(label)
        elif stat.size != asset.size:
            report.bad_size.append(label)
        elif verify_hashes and (await digest(ctx.blobs, asset.blob_key))[1] != asset.sha256:
            report.bad_hash.append(label)
    referenced = {asset.blob_key for asset in assets} | await ctx.run_db(thumbs.blob_keys, ctx.engine)
    report.orphans = sorted(set(stored) - referenced)
    return report


async def gc(ctx: Context, *, grace_s: float = DEFAULT_GC_GRACE_S) -> list[str]:
    """Delete orphan blobs committed more than ``grace_s`` ago; return their keys. Thumbnail
    blobs are in use while an asset holds their source's content; those of content no asset
    holds any more are deleted (and returned) at once. Also sweeps
    unfinished writes that no live writer owns any more, expired resumable uploads and partial
    bytes no upload session owns."""
    await upload_gc.reap_expired(ctx)
    await upload_gc.reap_orphans(ctx)
    in_progress = await upload_gc.live_keys(ctx)  # an upload being completed has its blob first
    await ctx.blobs.sweep(keep=in_progress)
    reaped = await thumbs.reap_orphans(ctx)  # thumbnails of content no asset holds any more
    referenced = {asset.blob_key for asset in await ctx.run_db(_all_assets, ctx.engine)} | in_progress
    referenced |= await ctx.run_db(thumbs.blob_keys, ctx.engine)
    now = time.time()
    async for stat in ctx.blobs.list():
        if stat.key in referenced or now - stat.mtime < grace_s:
            continue
        if await ctx.run_db(_in_use, ctx.engine, stat.key):  # referenced meanwhile
            continue
        if await ctx.run_db(thumbs.key_in_use, ctx.engine, stat.key):  # a thumbnail made meanwhile
            continue
        await ctx.blobs.delete(stat.key)
        reaped.append(stat.key)
    return reaped
