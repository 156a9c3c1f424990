"""Cached thumbnails (table ``thumbnails``): source content and edge length -> thumbnail blob."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.exc import IntegrityError

from atoll.db import schema
from atoll.db.prepared import Lookup


@dataclass(frozen=True)
class CachedThumb:
    blob_key: str
    media_type: str
    bytes: int


_t = schema.thumbnails
#: The cache lookup of every thumbnail request (``db.lookups``: inline on SQLite).
FIND = Lookup[CachedThumb](
    select(_t.c.blob_key, _t.c.media_type, _t.c.bytes).where(
        _t.c.sha256 == bindparam("sha256"),
        _t.c.src_size == bindparam("src_size"),
        _t.c.thumb_size == bindparam("thumb_size"),
    ),
    lambda row: CachedThumb(row["blob_key"], row["media_type"], int(row["bytes"])),
)


def find(conn: Connection, sha256: str, src_size: int, thumb_size: int) -> CachedThumb | None:
    t = schema.thumbnails
    row = conn.execute(
        select(t.c.blob_key, t.c.media_type, t.c.bytes).where(
            t.c.sha256 == sha256, t.c.src_size == src_size, t.c.thumb_size == thumb_size
        )
    ).first()
    return None if row is None else CachedThumb(row.blob_key, row.media_type, int(row.bytes))


def add(
    conn: Connection, sha256: str, src_size: int, thumb_size: int, thumb: CachedThumb, created_at: str
) -> CachedThumb:
    """Record a thumbnail; when another process recorded one first, keep and return theirs."""
    try:
        with conn.begin_nested():
            conn.execute(schema.thumbnails.insert().values(
                sha256=sha256, src_size=src_size, thumb_size=thumb_size, blob_key=thumb.blob_key,
                media_type=thumb.media_type, bytes=thumb.bytes, created_at=created_at,
            ))
    except IntegrityError:
        found = find(conn, sha256, src_size, thumb_size)
        assert found is not None
        return found
    return thumb


def all_keys(conn: Connection) -> set[str]:
    """Every thumbnail blob key (gc and fsck count them as in use)."""
    return set(conn.execute(select(schema.thumbnails.c.blob_key)).scalars())


def key_in_use(conn: Connection, blob_key: str) -> bool:
    t = schema.thumbnails
    return conn.execute(select(t.c.blob_key).where(t.c.blob_key == blob_key).limit(1)).first() is not None


def remove(conn: Connection, sha256: str, src_size: int, thumb_size: int) -> None:
    t = schema.thumbnails
    conn.execute(t.delete().where(
        t.c.sha256 == sha256, t.c.src_size == src_size, t.c.thumb_size == thumb_size))


def orphans(conn: Connection) -> list[tuple[str, int, int, str]]:
    """(sha256, src_size, thumb_size, blob_key) of thumbnails whose content no asset holds any more."""
    t, a = schema.thumbnails, schema.assets
    held = select(a.c.id).where(a.c.sha256 == t.c.sha256, a.c.size == t.c.src_size).exists()
    found = conn.execute(select(t.c.sha256, t.c.src_size, t.c.thumb_size, t.c.blob_key).where(~held))
    return [(sha, int(src), int(px), key) for sha, src, px, key in found]
