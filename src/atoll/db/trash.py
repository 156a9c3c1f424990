"""Queries for ``asset_trash``: deleted assets, kept until restored or purged by ``atoll gc``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, select

from atoll.db import schema
from atoll.db.assets import asset_of
from atoll.models import Asset


@dataclass(frozen=True)
class Trashed:
    """An asset in the trash: the asset as it was (its ``id`` is the trash entry's), when and by
    whom it was deleted."""

    asset: Asset
    deleted_at: float
    deleted_by: str

    @property
    def id(self) -> int:
        return self.asset.id


def trashed_of(row: Mapping[Any, Any]) -> Trashed:
    return Trashed(asset_of(row), float(row["deleted_at"]), row["deleted_by"])


def insert(conn: Connection, asset: Asset, deleted_at: float, deleted_by: str) -> int:
    values = {
        "dtable_uuid": asset.dtable_uuid,
        "dir_path": asset.dir_path,
        "name": asset.name,
        "blob_key": asset.blob_key,
        "size": asset.size,
        "sha256": asset.sha256,
        "mtime": asset.mtime.isoformat(),
        "uuid": asset.uuid,
        "deleted_at": deleted_at,
        "deleted_by": deleted_by,
    }
    pk = conn.execute(schema.asset_trash.insert().values(**values)).inserted_primary_key
    assert pk is not None
    return int(pk[0])


def get(conn: Connection, trash_id: int, *, lock: bool = False) -> Trashed | None:
    t = schema.asset_trash
    query = select(t).where(t.c.id == trash_id)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    return trashed_of(row) if row else None


def of_base(conn: Connection, dtable_uuid: str, trash_id: int) -> Trashed | None:
    found = get(conn, trash_id)
    return found if found is not None and found.asset.dtable_uuid == dtable_uuid else None


def at_path(conn: Connection, dtable_uuid: str, dir_path: str, name: str) -> list[Trashed]:
    """Trash entries once at this path, newest first."""
    t = schema.asset_trash
    query = (
        select(t)
        .where(t.c.dtable_uuid == dtable_uuid, t.c.dir_path == dir_path, t.c.name == name)
        .order_by(t.c.deleted_at.desc(), t.c.id.desc())
    )
    return [trashed_of(r) for r in conn.execute(query).mappings()]


def list_base(conn: Connection, dtable_uuid: str, after_id: int, limit: int) -> list[Trashed]:
    """A base's trash in id order (deletion order), ``limit`` entries past ``after_id``."""
    t = schema.asset_trash
    query = select(t).where(t.c.dtable_uuid == dtable_uuid, t.c.id > after_id).order_by(t.c.id).limit(limit)
    return [trashed_of(r) for r in conn.execute(query).mappings()]


def older_than(conn: Connection, cutoff: float, after_id: int, limit: int) -> list[Trashed]:
    """Entries of every base deleted before ``cutoff``, in id order, ``limit`` past ``after_id``."""
    t = schema.asset_trash
    query = select(t).where(t.c.deleted_at < cutoff, t.c.id > after_id).order_by(t.c.id).limit(limit)
    return [trashed_of(r) for r in conn.execute(query).mappings()]


def remove(conn: Connection, trash_id: int) -> bool:
    t = schema.asset_trash
    return conn.execute(delete(t).where(t.c.id == trash_id)).rowcount > 0


def blob_key_in_trash(conn: Connection, blob_key: str) -> bool:
    t = schema.asset_trash
    return conn.execute(select(t.c.id).where(t.c.blob_key == blob_key).limit(1)).first() is not None


def all_blob_keys(conn: Connection) -> set[str]:
    return set(conn.execute(select(schema.asset_trash.c.blob_key).distinct()).scalars())
