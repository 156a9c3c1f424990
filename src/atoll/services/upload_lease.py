"""A request's exclusive right to write one resumable upload session (``db/uploads.py``).

The lease is taken with a conditional update (free, or its holder's time ran out), renewed while
bytes arrive (a third of the way through), and named by every update the request makes, so a
request that stalled past its lease and was taken over changes nothing afterwards.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from atoll.db import uploads as q
from atoll.db.engine import write_tx
from atoll.errors import Conflict, Locked
from atoll.services.context import Context

#: Renew the lease when this fraction of it is left.
LEASE_RENEW_FRACTION = 2 / 3
TAKEN_OVER = "This upload was taken over by another request; check its offset and resume."


class Lease:
    """A request's exclusive right to write one session, renewed while bytes arrive."""

    def __init__(self, ctx: Context, id_hash: str) -> None:
        self.ctx = ctx
        self.id_hash = id_hash
        self.id = secrets.token_hex(16)
        self.span = float(ctx.settings.upload_lease_s)
        self.renew_at = 0.0

    async def take(self, states: tuple[str, ...] = q.LIVE_STATES) -> None:
        started = time.monotonic()
        now = time.time()
        if not await self.ctx.run_db(self._acquire, now, now + self.span, states):
            raise Locked("Another request is writing this upload; try again in a moment.")
        self.renew_at = started + self.span * (1 - LEASE_RENEW_FRACTION)

    def _acquire(self, now: float, until: float, states: tuple[str, ...]) -> bool:
        with write_tx(self.ctx.engine) as conn:
            return q.acquire(conn, self.id_hash, self.id, now, until, states)

    async def keep(self) -> None:
        """Renew when due; a lease lost meanwhile (we stalled past it) stops the request."""
        if time.monotonic() < self.renew_at:
            return
        started = time.monotonic()
        if not await self.ctx.run_db(self._renew, time.time() + self.span):
            raise Conflict(TAKEN_OVER)
        self.renew_at = started + self.span * (1 - LEASE_RENEW_FRACTION)

    def _renew(self, until: float) -> bool:
        with write_tx(self.ctx.engine) as conn:
            return q.renew(conn, self.id_hash, self.id, until)

    async def record(self, **values: Any) -> None:
        if not await self.ctx.run_db(self._record, values):
            raise Conflict(TAKEN_OVER)

    def _record(self, values: dict[str, Any]) -> bool:
        with write_tx(self.ctx.engine) as conn:
            return q.record(conn, self.id_hash, self.id, **values)

    async def release(self) -> None:
        await self.ctx.run_db(self._release)

    def _release(self) -> None:
        with write_tx(self.ctx.engine) as conn:
            q.release(conn, self.id_hash, self.id)
