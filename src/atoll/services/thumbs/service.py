"""The thumbnail use case: who may see it, the cache, and making one on a miss.

A thumbnail is keyed by its source's content (SHA-256 and size) and edge length, so copies of a
file share it and a replaced file gets a new one. It is served only while an asset of the
caller's base holds that content: a thumbnail of deleted data is never shown.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from atoll.config import Settings
from atoll.db import thumbnails as q
from atoll.db.engine import write_tx
from atoll.db.thumbnails import CachedThumb
from atoll.errors import (
    AtollError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    Unprocessable,
    UnsupportedMediaType,
)
from atoll.models import Asset, Principal
from atoll.services import access
from atoll.services.assets import find_asset
from atoll.services.context import Context
from atoll.services.thumbs import render
from atoll.services.thumbs.pool import WorkerCrashed, WorkerTimeout, pool_for
from atoll.timeutil import utcnow
from atoll.wire import paths

log = logging.getLogger("atoll.thumbnails")

#: The edge length when the request names none (SeaTable's default).
DEFAULT_SIZE = 256
#: Bytes per read when a thumbnail is copied into the blob store.
COPY_CHUNK_BYTES = 256 * 1024


@dataclass(frozen=True)
class ThumbAnswer:
    asset: Asset
    etag: str
    #: None: the client's copy (If-None-Match) is current.
    thumb: CachedThumb | None


def allowed_sizes(settings: Settings) -> tuple[int, ...]:
    """The edge lengths of ``thumbnail_sizes`` (a comma-separated list)."""
    out = []
    for part in settings.thumbnail_sizes.split(","):
        if part.strip():
            out.append(int(part))
    return tuple(sorted(set(out))) or (DEFAULT_SIZE,)


def parse_size(raw: str | None, settings: Settings) -> int:
    """``?size=``: one of the allowed sizes, the default when absent; 400 otherwise."""
    sizes = allowed_sizes(settings)
    if raw is None or raw == "":
        return DEFAULT_SIZE if DEFAULT_SIZE in sizes else sizes[len(sizes) // 2]
    choices = ", ".join(str(s) for s in sizes)
    if not raw.isdigit() or int(raw) not in sizes:
        raise InvalidInput(f"size must be one of {choices}, not {raw[:20]!r}.")
    return int(raw)


def etag(asset: Asset, size: int) -> str:
    return f'"thumb{render.RENDER_VERSION}-{size}-{asset.sha256}"'


def etag_matches(if_none_match: str | None, tag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in candidates or tag in candidates


async def thumbnail(
    ctx: Context,
    principal: Principal,
    *,
    workspace_id: int,
    dtable_uuid: str,
    path: str,
    size: int,
    if_none_match: str | None = None,
) -> ThumbAnswer:
    """The thumbnail of the asset at ``/workspace/<wid>/asset/<uuid>/<path>``, made on first use.
    The token must be of that base and workspace, as for the asset URL itself."""
    access.require_base(principal, dtable_uuid)
    if workspace_id != principal.dtable.workspace_id:
        raise PermissionDenied("Permission denied.")
    asset = await find_asset(ctx, principal.dtable.uuid, paths.rel_path(path, "path"))
    if asset is None:
        raise NotFound("Asset file does not exist.")
    tag = etag(asset, size)
    if etag_matches(if_none_match, tag):
        return ThumbAnswer(asset, tag, None)
    return ThumbAnswer(asset, tag, await ensure(ctx, asset, size))


async def ensure(ctx: Context, asset: Asset, size: int) -> CachedThumb:
    """The cached thumbnail of ``asset`` at ``size``; made, stored and recorded on a miss."""
    cached = await ctx.lookup(q.FIND, sha256=asset.sha256, src_size=asset.size, thumb_size=size)
    if cached is not None:
        return cached
    limit = ctx.settings.thumbnail_max_source_bytes
    if asset.size > limit:
        raise PayloadTooLarge(f"The file is too large for a thumbnail: the limit is {limit} bytes.")
    with tempfile.TemporaryDirectory(prefix="atoll-thumb-") as tmp:
        media, produced = await _make(ctx, asset, size, Path(tmp))
        made = await _store(ctx, produced, media)
    kept = await ctx.run_db(_record, ctx.engine, asset.sha256, asset.size, size, made)
    if kept.blob_key != made.blob_key:  # another process made it at the same time
        await ctx.blobs.delete(made.blob_key)
    return kept


async def _make(ctx: Context, asset: Asset, size: int, tmp: Path) -> tuple[str, Path]:
    """Render in a worker; return (media type, the thumbnail's file)."""
    source = ctx.blobs.local_path(asset.blob_key)
    if source is None or not source.exists():
        source = await _fetch(ctx, asset, tmp / "source")
    out = tmp / "thumb"
    s = ctx.settings
    pool = pool_for(s.thumbnail_workers, s.thumbnail_memory_bytes)
    try:
        media, _ = await pool.run(
            s.thumbnail_timeout_ms / 1000, render.render, str(source), str(out), size, s.thumbnail_max_pixels
        )
    except render.RenderError as exc:
        raise _error_of(exc) from None
    except FileNotFoundError:  # replaced or deleted meanwhile
        raise NotFound("Asset file does not exist.") from None
    except WorkerTimeout:
        raise Unprocessable(
            f"The file took too long to decode (limit {s.thumbnail_timeout_ms} ms): no thumbnail."
        ) from None
    except WorkerCrashed:
        raise Unprocessable("The file could not be decoded (the decoder failed): no thumbnail.") from None
    return media, out


def _error_of(exc: render.RenderError) -> AtollError:
    if exc.kind == render.UNSUPPORTED:
        return UnsupportedMediaType(exc.message)
    if exc.kind == render.TOO_BIG:
        return PayloadTooLarge(exc.message)
    return Unprocessable(exc.message)


async def _fetch(ctx: Context, asset: Asset, dst: Path) -> Path:
    """Stream a blob from a store without local files (S3) into ``dst``."""
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        async for chunk in ctx.blobs.open(asset.blob_key):
            await asyncio.to_thread(_write_all, fd, chunk)
    except FileNotFoundError:
        raise NotFound("Asset file does not exist.") from None
    finally:
        os.close(fd)
    return dst


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


async def _store(ctx: Context, produced: Path, media: str) -> CachedThumb:
    """Copy the rendered file into the blob store, chunk by chunk."""
    writer = await ctx.blobs.create(size_hint=produced.stat().st_size)
    try:
        with produced.open("rb") as f:
            while chunk := f.read(COPY_CHUNK_BYTES):
                await writer.write(chunk)
        info = await writer.commit()
    except BaseException:
        await writer.abort()
        raise
    return CachedThumb(writer.key, media, info.size)


def _record(engine: Engine, sha256: str, src_size: int, size: int, thumb: CachedThumb) -> CachedThumb:
    with write_tx(engine) as conn:
        return q.add(conn, sha256, src_size, size, thumb, utcnow().isoformat())


async def forget(ctx: Context, asset: Asset, size: int) -> None:
    """Drop a cache entry whose blob is gone (the next request makes it anew)."""
    await ctx.run_db(_forget, ctx.engine, asset.sha256, asset.size, size)


def _forget(engine: Engine, sha256: str, src_size: int, size: int) -> None:
    with write_tx(engine) as conn:
        q.remove(conn, sha256, src_size, size)
