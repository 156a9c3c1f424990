"""Resumable upload sessions (``schema.upload_sessions``): one row per upload in progress.

Every change to a session that a request makes is guarded by its lease: a request takes the
lease (``acquire``), renews it while bytes arrive, and each update names the lease it holds, so
a request that lost its lease (it stalled past ``lease_until`` and another took over) changes
nothing. Times are seconds since the epoch (``time.time()`` of the process that writes them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, delete, or_, select, update

from atoll.db import schema

OPEN, COMPLETING, DONE, TERMINATED = "open", "completing", "done", "terminated"
LIVE_STATES = (OPEN, COMPLETING)


@dataclass(frozen=True)
class UploadSession:
    id_hash: str
    natural_key: str | None
    kind: str
    dtable_uuid: str
    dir_path: str
    name: str
    replace_existing: bool
    file_type: str
    attach: dict[str, Any] | None
    actor: str
    upload_metadata: str
    length: int
    received: int
    blob_key: str
    store_state: dict[str, Any]
    state: str
    result: dict[str, Any] | None
    lease_id: str | None
    lease_until: float
    created_at: str
    expires_at: float


def _session(row: Any) -> UploadSession:
    m = dict(row)
    for name in ("attach", "store_state", "result"):
        m[name] = json.loads(m[name]) if m[name] is not None else None
    return UploadSession(**m)


def _values(s: UploadSession) -> dict[str, Any]:
    values = dict(s.__dict__)
    for name in ("attach", "store_state", "result"):
        values[name] = json.dumps(values[name]) if values[name] is not None else None
    return values


T = schema.upload_sessions


def insert(conn: Connection, session: UploadSession) -> None:
    conn.execute(T.insert().values(**_values(session)))


def get(conn: Connection, id_hash: str) -> UploadSession | None:
    row = conn.execute(select(T).where(T.c.id_hash == id_hash)).mappings().first()
    return _session(row) if row is not None else None


def get_natural(conn: Connection, natural_key: str) -> UploadSession | None:
    row = conn.execute(select(T).where(T.c.natural_key == natural_key)).mappings().first()
    return _session(row) if row is not None else None


def delete_session(conn: Connection, id_hash: str) -> None:
    conn.execute(delete(T).where(T.c.id_hash == id_hash))


def acquire(conn: Connection, id_hash: str, lease_id: str, now: float, until: float,
            states: tuple[str, ...] = LIVE_STATES) -> bool:
    """Take the lease if nobody holds it (or the holder's lapsed)."""
    free = or_(T.c.lease_id.is_(None), T.c.lease_until < now)
    query = (update(T).where(T.c.id_hash == id_hash, T.c.state.in_(states), free)
             .values(lease_id=lease_id, lease_until=until))
    return conn.execute(query).rowcount == 1


def _held(id_hash: str, lease_id: str) -> Any:
    return and_(T.c.id_hash == id_hash, T.c.lease_id == lease_id)


def renew(conn: Connection, id_hash: str, lease_id: str, until: float) -> bool:
    return conn.execute(update(T).where(_held(id_hash, lease_id)).values(lease_until=until)).rowcount == 1


def record(conn: Connection, id_hash: str, lease_id: str, **values: Any) -> bool:
    """Update a session whose lease we hold (``received``, ``store_state``, ``state``...)."""
    for name in ("store_state", "result"):
        if name in values:
            values[name] = json.dumps(values[name])
    return conn.execute(update(T).where(_held(id_hash, lease_id)).values(**values)).rowcount == 1


def release(conn: Connection, id_hash: str, lease_id: str) -> None:
    conn.execute(update(T).where(_held(id_hash, lease_id)).values(lease_id=None, lease_until=0.0))


def expired(conn: Connection, now: float, limit: int) -> list[UploadSession]:
    query = select(T).where(T.c.expires_at < now).order_by(T.c.expires_at).limit(limit)
    return [_session(r) for r in conn.execute(query).mappings()]


def live_blob_keys(conn: Connection) -> set[str]:
    return set(conn.execute(select(T.c.blob_key).where(T.c.state.in_(LIVE_STATES))).scalars())


def all_blob_keys(conn: Connection) -> set[str]:
    return set(conn.execute(select(T.c.blob_key)).scalars())
