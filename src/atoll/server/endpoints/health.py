"""Liveness and readiness for load balancers and orchestrators. No auth; never cached.

- ``GET /api/health``: the process answers HTTP. No I/O at all, so a slow database or blob
  store never gets a healthy process restarted.
- ``GET /api/ready``: this process can serve requests right now: a trivial query on the
  metadata database and the blob store's own check, run at once, each within
  ``CHECK_TIMEOUT_S``. 200 when both pass, else 503 naming the failing check with a short
  reason (an exception class name or "timed out"; never a message, URL or trace, which could
  hold credentials). Details go to the server log. ``space`` reports the free space
  (``free_bytes``, null where the store shows none, e.g. S3) and the ``min_free_bytes``
  reserve; its ``status`` is "low" — and the answer 503 — while uploads would be refused with
  507 because the free space is under the reserve.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable

import anyio
import anyio.to_thread
from sqlalchemy import Engine, text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from atoll.server.auth import context
from atoll.services import space
from atoll.wire.headers import NO_STORE

log = logging.getLogger("atoll")

#: Longest a readiness check may take before it counts as failed.
CHECK_TIMEOUT_S = 2.0
#: Database checks running in worker threads at once. A check that hangs keeps its thread
#: (abandoned, see ``_database``); this bound stops repeated probes from piling up threads
#: against a hung database: while it is reached, probes fail at once without a new thread.
DB_CHECK_THREADS = 2
OK = "ok"
STILL_RUNNING = "earlier checks still running"

LOW_SPACE = "low"

_db_check_slots = threading.BoundedSemaphore(DB_CHECK_THREADS)


class CheckStillRunning(Exception):
    pass


class LowSpace(Exception):
    pass


def ping_database(engine: Engine) -> None:
    """One round trip to the metadata database (blocking)."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1")).scalar_one()


async def _database(request: Request) -> None:
    if not _db_check_slots.acquire(blocking=False):
        raise CheckStillRunning
    engine = context(request).engine
    # Whoever takes ``claim`` first gives the slot back: the thread once the query returns, or
    # this task if it was cancelled before the thread started (the thread then does nothing).
    claim = threading.Lock()

    def ping() -> None:
        if not claim.acquire(blocking=False):
            return
        try:
            ping_database(engine)
        finally:
            _db_check_slots.release()

    # Not ctx.run_db: a worker thread cannot be cancelled, so without abandon_on_cancel the
    # timeout would wait for a hung connect. An abandoned thread finishes on its own.
    try:
        await anyio.to_thread.run_sync(ping, abandon_on_cancel=True)
    finally:
        if claim.acquire(blocking=False):
            _db_check_slots.release()


async def _storage(request: Request) -> None:
    await context(request).blobs.check()


async def _run(name: str, probe: Callable[[Request], Awaitable[None]], request: Request) -> str:
    try:
        with anyio.fail_after(CHECK_TIMEOUT_S):
            await probe(request)
    except LowSpace:
        log.warning("readiness: free space is under the reserve (min_free_bytes)")
        return LOW_SPACE
    except CheckStillRunning:
        log.warning("readiness: %s check skipped, %s", name, STILL_RUNNING)
        return STILL_RUNNING
    except TimeoutError:
        log.warning("readiness: %s check timed out after %g s", name, CHECK_TIMEOUT_S)
        return f"timed out after {CHECK_TIMEOUT_S:g} s"
    except Exception as exc:
        log.warning("readiness: %s check failed: %s", name, type(exc).__name__, exc_info=True)
        return f"failed: {type(exc).__name__}"
    return OK


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


async def ready(request: Request) -> Response:
    checks: dict[str, str] = {}
    free: list[int | None] = [None]

    async def run(name: str, probe: Callable[[Request], Awaitable[None]]) -> None:
        checks[name] = await _run(name, probe, request)

    async def _space(request: Request) -> None:
        low, free[0] = await space.below_reserve(context(request))
        if low:
            raise LowSpace

    async with anyio.create_task_group() as tg:
        tg.start_soon(run, "database", _database)
        tg.start_soon(run, "storage", _storage)
        tg.start_soon(run, "space", _space)
    ordered = {name: checks[name] for name in ("database", "storage")}
    reserve = context(request).settings.min_free_bytes
    body = {"checks": ordered,
            "space": {"status": checks["space"], "free_bytes": free[0], "min_free_bytes": reserve}}
    if all(result == OK for result in checks.values()):
        return JSONResponse({"status": "ready", **body}, headers=NO_STORE)
    return JSONResponse({"status": "unavailable", **body}, status_code=503, headers=NO_STORE)
