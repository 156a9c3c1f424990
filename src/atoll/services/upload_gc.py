"""Cleaning up after resumable uploads: expired sessions, and bytes that no session owns.

Run by every server process in the background (``upload_reap_interval_s``) and by ``atoll gc``.
"""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy import Engine

from atoll.db import uploads as q
from atoll.db.engine import read_tx
from atoll.errors import Locked
from atoll.services.context import Context
from atoll.services.resumable import discard

log = logging.getLogger("atoll.resumable")

#: Expired sessions reaped per pass.
REAP_BATCH = 100


def _expired(engine: Engine, now: float) -> list[q.UploadSession]:
    with read_tx(engine) as conn:
        return q.expired(conn, now, REAP_BATCH)


async def reap_expired(ctx: Context, *, now: float | None = None) -> int:
    """Remove expired sessions and their bytes (any process may run this; the lease keeps two
    reapers, or a reaper and a late writer, apart). Returns how many went."""
    count = 0
    for session in await ctx.run_db(_expired, ctx.engine, now or time.time()):
        try:
            await discard(ctx, session)
        except Locked:
            continue
        count += 1
    return count


def _session_keys(engine: Engine) -> set[str]:
    with read_tx(engine) as conn:
        return q.all_blob_keys(conn)


async def reap_orphans(ctx: Context) -> int:
    """Partial bytes that no session owns (a crash between a session's removal and its bytes').
    The store is listed before the sessions are read: a session's row exists before its bytes."""
    in_store = await ctx.blobs.partial_keys()
    owned = await ctx.run_db(_session_keys, ctx.engine)
    orphans = [key for key in in_store if key not in owned]
    for key in orphans:
        await ctx.blobs.discard_partial(key, {})
    return len(orphans)


def _live_keys(engine: Engine) -> set[str]:
    with read_tx(engine) as conn:
        return q.live_blob_keys(conn)


async def live_keys(ctx: Context) -> frozenset[str]:
    """Blob keys of uploads in progress (a sweep of unfinished writes must leave them)."""
    return frozenset(await ctx.run_db(_live_keys, ctx.engine))


async def reap_periodically(ctx: Context, interval_s: float) -> None:
    """The server's background reaper: one pass every ``interval_s`` (errors are logged; the
    next pass tries again)."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            reaped = await reap_expired(ctx)
        except Exception as exc:  # a database or store hiccup must not end the loop
            log.warning("reaping expired uploads failed (will retry): %s", exc)
            continue
        if reaped:
            log.info("reaped %d expired resumable upload(s)", reaped)
