"""Schema step 9: fill ``blobs`` from the ``assets`` that existed before deduplication.

Every (sha256, size) becomes one blob row, keyed by the smallest blob key of that content, with
one reference per asset; assets whose key differs are pointed at it. Two set-based statements,
so a large table is not read into memory. The other keys' bytes are no longer referenced:
``atoll fsck`` reports them as orphans and ``atoll gc`` reaps them.
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, func, insert, literal, select, update

from atoll.db import schema


def backfill(conn: Connection, now: str) -> None:
    a, b = schema.assets, schema.blobs
    grouped = select(
        func.min(a.c.blob_key), a.c.sha256, a.c.size, func.count(), literal(now)
    ).group_by(a.c.sha256, a.c.size)
    conn.execute(insert(b).from_select(["key", "sha256", "size", "refs", "created_at"], grouped))
    canonical = (
        select(b.c.key)
        .where(and_(b.c.sha256 == a.c.sha256, b.c.size == a.c.size))
        .scalar_subquery()
    )
    conn.execute(update(a).where(a.c.blob_key != canonical).values(blob_key=canonical))
