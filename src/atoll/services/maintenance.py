"""Orphan-blob collection (gc) for the asset store (the integrity check is ``services.fsck``).

An orphan is a blob no asset points at and no blob row (``db.blobs``) records: what a crash
between "bytes durable" and "metadata commit" leaves, a duplicate's fresh copy or a replaced
blob whose deletion failed. Orphans are never visible; gc reaps
those older than a grace period (so an upload that is about to commit is never touched).
"""

from __future__ import annotations

import time

from sqlalchemy import Engine

from atoll.db import assets as q
from atoll.db import blobcheck
from atoll.db.engine import read_tx
from atoll.models import Asset
from atoll.services import upload_gc
from atoll.services.context import Context

#: Orphans younger than this are left alone by default (an upload may be about to commit).
DEFAULT_GC_GRACE_S = 24 * 3600


def _all_assets(engine: Engine) -> list[Asset]:
    with read_tx(engine) as conn:
        return q.all_assets(conn)


def _in_use(engine: Engine, key: str) -> bool:
    with read_tx(engine) as conn:
        return q.blob_key_in_use(conn, key) or bool(blobcheck.known(conn, [key]))


async def gc(ctx: Context, *, grace_s: float = DEFAULT_GC_GRACE_S) -> list[str]:
    """Delete orphan blobs committed more than ``grace_s`` ago; return their keys. Also sweeps
    unfinished writes that no live writer owns any more, expired resumable uploads and partial
    bytes no upload session owns."""
    await upload_gc.reap_expired(ctx)
    await upload_gc.reap_orphans(ctx)
    in_progress = await upload_gc.live_keys(ctx)  # an upload being completed has its blob first
    await ctx.blobs.sweep(keep=in_progress)
    referenced = {asset.blob_key for asset in await ctx.run_db(_all_assets, ctx.engine)} | in_progress
    now = time.time()
    reaped = []
    async for stat in ctx.blobs.list():
        if stat.key in referenced or now - stat.mtime < grace_s:
            continue
        if await ctx.run_db(_in_use, ctx.engine, stat.key):  # referenced meanwhile
            continue
        await ctx.blobs.delete(stat.key)
        reaped.append(stat.key)
    return reaped
