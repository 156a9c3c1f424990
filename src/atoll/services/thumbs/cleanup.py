"""Which blobs thumbnails hold (gc and fsck count them as in use), and reaping the thumbnails of
content that no asset holds any more (``atoll gc``)."""

from __future__ import annotations

from sqlalchemy import Engine

from atoll.db import thumbnails as q
from atoll.db.engine import read_tx, write_tx
from atoll.services.context import Context


def blob_keys(engine: Engine) -> set[str]:
    with read_tx(engine) as conn:
        return q.all_keys(conn)


def key_in_use(engine: Engine, key: str) -> bool:
    with read_tx(engine) as conn:
        return q.key_in_use(conn, key)


def _drop_orphans(engine: Engine) -> list[str]:
    with write_tx(engine) as conn:
        found = q.orphans(conn)
        for sha256, src_size, thumb_size, _ in found:
            q.remove(conn, sha256, src_size, thumb_size)
    return [key for *_, key in found]


async def reap_orphans(ctx: Context) -> list[str]:
    """Forget thumbnails of content no asset holds (a deleted file's thumbnail is not kept) and
    delete their blobs; return the blob keys."""
    keys = await ctx.run_db(_drop_orphans, ctx.engine)
    for key in keys:
        await ctx.blobs.delete(key)
    return keys
