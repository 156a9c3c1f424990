"""Queries of a base's asset usage (the quota's numbers)."""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, func, select, text

from atoll.db import schema


def used_bytes(conn: Connection, dtable_uuid: str) -> int:
    """The logical size of the base's assets: the sum of their sizes."""
    t = schema.assets
    query = select(func.coalesce(func.sum(t.c.size), 0)).where(t.c.dtable_uuid == dtable_uuid)
    return int(conn.execute(query).scalar_one())


def _lock_key(dtable_uuid: str) -> int:
    """A stable signed 64-bit number per base for PostgreSQL's advisory locks."""
    return int.from_bytes(
        hashlib.sha256(b"atoll-quota:" + dtable_uuid.encode()).digest()[:8], "big", signed=True
    )


def lock_usage(conn: Connection, dtable_uuid: str) -> None:
    """Serialise the quota checks of one base until the transaction ends (PostgreSQL: an
    advisory transaction lock; SQLite writers are serialised already)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(dtable_uuid)})
