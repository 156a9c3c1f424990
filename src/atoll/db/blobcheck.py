"""Read and repair queries of ``atoll fsck`` over ``blobs`` and its holders (docs/storage.md).

Everything is paged by key (keyset), so a check never holds every blob in memory. A blob's
holders are what keeps a reference: the ``assets`` rows and the ``asset_trash`` entries that
point at it (a trashed file keeps its reference until ``atoll gc`` purges it; ``_holders`` is
the one place that knows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, union, union_all, update

from atoll.db import schema

_a, _b, _t = schema.assets, schema.blobs, schema.asset_trash
#: Every holder of a blob reference: files, and files in the trash.
_holders = union_all(
    select(_a.c.blob_key, _a.c.sha256, _a.c.size),
    select(_t.c.blob_key, _t.c.sha256, _t.c.size),
).subquery("holders")


@dataclass(frozen=True)
class BlobRow:
    key: str
    sha256: str
    size: int
    #: The recorded reference count (for an asset key without a row: how many assets hold it).
    refs: int


def rows_after(conn: Connection, after: str, limit: int) -> list[BlobRow]:
    """The next ``limit`` blob rows with a key greater than ``after``, by key."""
    query = select(_b.c.key, _b.c.sha256, _b.c.size, _b.c.refs).where(_b.c.key > after)
    found = conn.execute(query.order_by(_b.c.key).limit(limit))
    return [BlobRow(k, s, int(n), int(r)) for k, s, n, r in found]


def unrecorded_after(conn: Connection, after: str, limit: int) -> list[BlobRow]:
    """Blob keys that holders point at but ``blobs`` has no row for (refs: how many holders)."""
    h = _holders
    query = (
        select(h.c.blob_key, func.min(h.c.sha256), func.min(h.c.size), func.count())
        .outerjoin(_b, _b.c.key == h.c.blob_key)
        .where(_b.c.key.is_(None), h.c.blob_key > after)
        .group_by(h.c.blob_key).order_by(h.c.blob_key).limit(limit)
    )  # fmt: skip
    return [BlobRow(k, s, int(n), int(c)) for k, s, n, c in conn.execute(query)]


def holder_counts(conn: Connection, keys: Sequence[str]) -> dict[str, int]:
    """How many references each of ``keys`` should have (0 for none)."""
    counts = dict.fromkeys(keys, 0)
    for holder in (_a, _t):  # each on its blob_key index
        query = (select(holder.c.blob_key, func.count()).where(holder.c.blob_key.in_(keys))
                 .group_by(holder.c.blob_key))
        for key, count in conn.execute(query):
            counts[key] += int(count)
    return counts


def mismatched_assets(conn: Connection, keys: Sequence[str]) -> list[tuple[str, str]]:
    """(key, "base:path") of assets whose recorded size or SHA-256 differs from their blob row's."""
    query = (
        select(_a.c.blob_key, _a.c.dtable_uuid, _a.c.dir_path, _a.c.name)
        .join(_b, _b.c.key == _a.c.blob_key)
        .where(_a.c.blob_key.in_(keys), or_(_a.c.sha256 != _b.c.sha256, _a.c.size != _b.c.size))
        .order_by(_a.c.id)
    )
    return [(k, f"{u}:{d.rstrip('/')}/{n}") for k, u, d, n in conn.execute(query)]


def labels(conn: Connection, keys: Sequence[str]) -> dict[str, str]:
    """One file per key that points at it, as ``base:path`` (for messages); keys of no file absent."""
    first = select(func.min(_a.c.id)).where(_a.c.blob_key.in_(keys)).group_by(_a.c.blob_key)
    query = select(_a.c.blob_key, _a.c.dtable_uuid, _a.c.dir_path, _a.c.name).where(_a.c.id.in_(first))
    return {k: f"{u}:{d.rstrip('/')}/{n}" for k, u, d, n in conn.execute(query)}


def known(conn: Connection, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` the metadata accounts for (a blob row, an asset, a trash entry or a
    cached thumbnail)."""
    th = schema.thumbnails
    query = union(
        select(_b.c.key).where(_b.c.key.in_(keys)),
        select(_a.c.blob_key).where(_a.c.blob_key.in_(keys)),
        select(_t.c.blob_key).where(_t.c.blob_key.in_(keys)),
        select(th.c.blob_key).where(th.c.blob_key.in_(keys)),
    )
    return set(conn.execute(query).scalars())


# ---- repairs: each runs in its own write transaction, re-counting under the row's lock --------


def fix_refs(conn: Connection, key: str) -> tuple[int, int] | None:
    """Set the row's count to its holders' (deleting a row no one holds: its bytes become an
    orphan for ``atoll gc``). (recorded, now) when it changed, else None."""
    found = conn.execute(select(_b.c.refs).where(_b.c.key == key).with_for_update()).first()
    if found is None:
        return None
    recorded, wanted = int(found[0]), holder_counts(conn, [key])[key]
    if recorded == wanted:
        return None
    if wanted == 0:
        conn.execute(delete(_b).where(_b.c.key == key))
    else:
        conn.execute(update(_b).where(_b.c.key == key).values(refs=wanted))
    return recorded, wanted


def record(conn: Connection, row: BlobRow, now: str) -> bool:
    """Give an asset key without a row its row (refs: its holders now); False when another key
    already holds that content (left as it is, reported) or the row exists by now."""
    same = and_(_b.c.sha256 == row.sha256, _b.c.size == row.size)
    taken = conn.execute(select(_b.c.key).where(or_(_b.c.key == row.key, same))).first()
    refs = holder_counts(conn, [row.key])[row.key]
    if taken is not None or refs == 0:
        return False
    conn.execute(insert(_b).values(key=row.key, sha256=row.sha256, size=row.size, refs=refs, created_at=now))
    return True
