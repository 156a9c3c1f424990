"""Integrity check (fsck) and orphan-blob collection (gc) for the asset store.

An orphan is a blob no asset points at: what a crash between "bytes durable" and "metadata
commit" leaves, or a replaced blob whose deletion failed. Orphans are never visible; gc reaps
those older than a grace period (so an upload that is about to commit is never touched).
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field

from atoll.db import assets as q
from atoll.db.engine import read_tx
from atoll.services.context import Context

#: Orphans younger than this are left alone by default (an upload may be about to commit).
DEFAULT_GC_GRACE_S = 24 * 3600
HASH_CHUNK = 1 << 20


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


def _sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


async def fsck(ctx: Context, *, verify_hashes: bool = False) -> FsckReport:
    """Check that every asset's blob exists with its recorded size (and hash if asked)."""
    with read_tx(ctx.engine) as conn:
        assets = q.all_assets(conn)
    report = FsckReport(assets=len(assets))
    referenced = set()
    for asset in assets:
        referenced.add(asset.blob_key)
        label = f"{asset.dtable_uuid}:{asset.path}"
        local = ctx.blobs.local_path(asset.blob_key)
        try:
            size = await ctx.blobs.size(asset.blob_key)
        except FileNotFoundError:
            report.missing.append(label)
            continue
        if size != asset.size:
            report.bad_size.append(label)
        elif verify_hashes and local is not None and _sha256_of(str(local)) != asset.sha256:
            report.bad_hash.append(label)
    report.orphans = sorted(set(await ctx.blobs.keys()) - referenced)
    return report


async def gc(ctx: Context, *, grace_s: float = DEFAULT_GC_GRACE_S) -> list[str]:
    """Delete orphan blobs older than ``grace_s``; return their keys."""
    report = await fsck(ctx)
    now = time.time()
    reaped = []
    for key in report.orphans:
        local = ctx.blobs.local_path(key)
        if local is not None and now - os.stat(local).st_mtime < grace_s:
            continue
        with read_tx(ctx.engine) as conn:  # referenced meanwhile? then it is not an orphan
            if q.blob_key_in_use(conn, key):
                continue
        await ctx.blobs.delete(key)
        reaped.append(key)
    return reaped
