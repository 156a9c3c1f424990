"""The live-events table (``schema.live_events``): written inside a base's write transaction,
read by every server process's poller (``services.events``), pruned by age."""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, delete, func, insert, or_, select

from atoll.db.prepared import Prepared, RawTx
from atoll.db.schema import live_events as t


@dataclass(frozen=True)
class StoredEvent:
    id: int
    dtable_uuid: str
    event: str
    payload: str


#: Every write of a base adds one: prepared (``db.prepared``), not built and compiled per call.
_ADD = Prepared(insert(t).values(dtable_uuid=bindparam("dtable_uuid"), event=bindparam("event"),
                                 payload=bindparam("payload"), created_at=bindparam("created_at")))


def add(conn: Connection, dtable_uuid: str, event: str, payload: str) -> None:
    tx = RawTx(conn)
    try:
        tx.execute(_ADD, dtable_uuid=dtable_uuid, event=event, payload=payload, created_at=time.time())
    finally:
        tx.close()


def last_id(conn: Connection) -> int:
    """The newest event's id (0 when there is none): a new poller starts after it."""
    return int(conn.execute(select(func.coalesce(func.max(t.c.id), 0))).scalar_one())


def after(conn: Connection, last: int, missing: Collection[int], limit: int) -> list[StoredEvent]:
    """Events with an id above ``last``, or one of ``missing`` (ids skipped by an earlier read
    that a slower transaction may still commit), oldest first, at most ``limit``."""
    cond = t.c.id > last
    if missing:
        cond = or_(cond, t.c.id.in_(sorted(missing)))
    rows = conn.execute(
        select(t.c.id, t.c.dtable_uuid, t.c.event, t.c.payload).where(cond).order_by(t.c.id).limit(limit)
    )
    return [StoredEvent(int(r.id), r.dtable_uuid, r.event, r.payload) for r in rows]


def prune(conn: Connection, older_than: float) -> int:
    """Delete events made before ``older_than`` (a Unix time); return how many went."""
    return conn.execute(delete(t).where(t.c.created_at < older_than)).rowcount or 0
