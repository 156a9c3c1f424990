"""Queries that copy one base's metadata into a new base (``services.accounts_copy``), inside the
caller's transaction.

Folders and links are copied by the database itself (``INSERT ... SELECT``); assets are read in
id order ``limit`` at a time, because each copy needs a new uuid.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, insert, literal, select

from atoll.db import schema
from atoll.db.assets import asset_of
from atoll.models import Asset


def copy_asset_dirs(conn: Connection, src_uuid: str, dst_uuid: str, created_at: str) -> None:
    d = schema.asset_dirs
    rows = select(literal(dst_uuid), d.c.path, literal(created_at)).where(d.c.dtable_uuid == src_uuid)
    conn.execute(insert(d).from_select(["dtable_uuid", "path", "created_at"], rows))


def copy_row_links(conn: Connection, src_uuid: str, dst_uuid: str) -> None:
    t = schema.row_links
    names = ["link_id", "row_id", "other_row_id", "table_id", "other_table_id"]
    rows = select(literal(dst_uuid), *(t.c[n] for n in names)).where(t.c.dtable_uuid == src_uuid)
    conn.execute(insert(t).from_select(["dtable_uuid", *names], rows))


def assets_after(conn: Connection, dtable_uuid: str, after_id: int, limit: int) -> list[Asset]:
    """Up to ``limit`` assets of a base with an id greater than ``after_id``, in id order."""
    a = schema.assets
    query = select(a).where(a.c.dtable_uuid == dtable_uuid, a.c.id > after_id).order_by(a.c.id).limit(limit)
    return [asset_of(r) for r in conn.execute(query).mappings()]


def insert_assets(conn: Connection, assets: Iterable[Asset]) -> None:
    values = [
        {
            "dtable_uuid": x.dtable_uuid,
            "dir_path": x.dir_path,
            "name": x.name,
            "blob_key": x.blob_key,
            "size": x.size,
            "sha256": x.sha256,
            "mtime": x.mtime.isoformat(),
            "uuid": x.uuid,
        }
        for x in assets
    ]
    if values:
        conn.execute(schema.assets.insert(), values)


def asset_uuids_of(conn: Connection, dtable_uuid: str, uuids: Iterable[str]) -> set[str]:
    """Which of ``uuids`` name assets of the base."""
    wanted = sorted(set(uuids))
    a = schema.assets
    found: set[str] = set()
    for i in range(0, len(wanted), 500):
        query = select(a.c.uuid).where(a.c.dtable_uuid == dtable_uuid, a.c.uuid.in_(wanted[i : i + 500]))
        found.update(conn.execute(query).scalars())
    return found
