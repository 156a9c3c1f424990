"""Queries for a base's asset tree: folders and files."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from atoll.db import schema
from atoll.db.prepared import Lookup, Prepared, RawTx
from atoll.models import Asset
from atoll.timeutil import parse_iso


def asset_of(row: Mapping[Any, Any]) -> Asset:
    return Asset(
        id=row["id"],
        dtable_uuid=row["dtable_uuid"],
        dir_path=row["dir_path"],
        name=row["name"],
        blob_key=row["blob_key"],
        size=row["size"],
        sha256=row["sha256"],
        mtime=parse_iso(row["mtime"]),
        uuid=row["uuid"],
    )


def dir_exists(conn: Connection, dtable_uuid: str, path: str) -> bool:
    t = schema.asset_dirs
    query = select(t.c.id).where(t.c.dtable_uuid == dtable_uuid, t.c.path == path)
    return conn.execute(query).first() is not None


def ensure_dirs(conn: Connection, dtable_uuid: str, path: str, created_at: str) -> None:
    """Create ``path`` and every ancestor (``/a/b`` -> ``/``, ``/a``, ``/a/b``): one query when
    they all exist, the common case."""
    parts = [p for p in path.split("/") if p]
    chain = ["/"] + ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]
    t = schema.asset_dirs
    have = set(
        conn.execute(select(t.c.path).where(t.c.dtable_uuid == dtable_uuid, t.c.path.in_(chain))).scalars()
    )
    for one in chain:
        if one in have:
            continue
        try:
            with conn.begin_nested():
                conn.execute(t.insert().values(dtable_uuid=dtable_uuid, path=one, created_at=created_at))
        except IntegrityError:  # created concurrently: fine
            pass


def lock_dir(conn: Connection, dtable_uuid: str, path: str) -> None:
    """Hold the folder's row until the transaction ends, so concurrent commits into one folder
    (from any process) choose names one after another. SQLite writers are serialised already."""
    t = schema.asset_dirs
    query = select(t.c.id).where(t.c.dtable_uuid == dtable_uuid, t.c.path == path).with_for_update()
    conn.execute(query)


def list_dir(conn: Connection, dtable_uuid: str, path: str) -> tuple[list[str], list[Asset]]:
    """Direct sub-folder names and files of ``path``, each sorted by name."""
    d = schema.asset_dirs
    prefix = path.rstrip("/") + "/"
    sub = conn.execute(
        select(d.c.path).where(d.c.dtable_uuid == dtable_uuid, d.c.path.startswith(prefix, autoescape=True))
    ).scalars()
    names = sorted({p[len(prefix):] for p in sub if p != prefix and "/" not in p[len(prefix):]})
    a = schema.assets
    files = conn.execute(
        select(a).where(a.c.dtable_uuid == dtable_uuid, a.c.dir_path == path).order_by(a.c.name)
    ).mappings()
    return names, [asset_of(r) for r in files]


def get_asset(conn: Connection, dtable_uuid: str, dir_path: str, name: str) -> Asset | None:
    a = schema.assets
    row = (
        conn.execute(
            select(a).where(a.c.dtable_uuid == dtable_uuid, a.c.dir_path == dir_path, a.c.name == name)
        )
        .mappings()
        .first()
    )
    return asset_of(row) if row else None


def names_in_dir(conn: Connection, dtable_uuid: str, dir_path: str, like_prefix: str) -> set[str]:
    """Names in ``dir_path`` that start with ``like_prefix`` (for conflict renaming)."""
    a = schema.assets
    query = select(a.c.name).where(
        a.c.dtable_uuid == dtable_uuid,
        a.c.dir_path == dir_path,
        a.c.name.startswith(like_prefix, autoescape=True),
    )
    return set(conn.execute(query).scalars())


def insert_asset(conn: Connection, asset: Asset) -> int:
    values = {
        "dtable_uuid": asset.dtable_uuid,
        "dir_path": asset.dir_path,
        "name": asset.name,
        "blob_key": asset.blob_key,
        "size": asset.size,
        "sha256": asset.sha256,
        "mtime": asset.mtime.isoformat(),
        "uuid": asset.uuid,
    }
    pk = conn.execute(schema.assets.insert().values(**values)).inserted_primary_key
    assert pk is not None
    return int(pk[0])


def replace_blob(conn: Connection, asset_id: int, blob_key: str, size: int, sha256: str, mtime: str) -> None:
    a = schema.assets
    conn.execute(
        update(a).where(a.c.id == asset_id).values(blob_key=blob_key, size=size, sha256=sha256, mtime=mtime)
    )


def delete_asset(conn: Connection, asset_id: int) -> None:
    conn.execute(delete(schema.assets).where(schema.assets.c.id == asset_id))


def blob_key_in_use(conn: Connection, blob_key: str) -> bool:
    """Whether an asset, or an asset in the trash (schema step 8), still points at the bytes."""
    a, t = schema.assets, schema.asset_trash
    if conn.execute(select(a.c.id).where(a.c.blob_key == blob_key).limit(1)).first() is not None:
        return True
    return conn.execute(select(t.c.id).where(t.c.blob_key == blob_key).limit(1)).first() is not None


def all_assets(conn: Connection) -> list[Asset]:
    return [asset_of(r) for r in conn.execute(select(schema.assets)).mappings()]


# ---- the upload commit's statements, prepared (db.prepared): they run for every uploaded file --

_a, _d = schema.assets, schema.asset_dirs

_DIR_ID = select(_d.c.id).where(_d.c.dtable_uuid == bindparam("dtable_uuid"), _d.c.path == bindparam("path"))

#: A folder of a base's asset tree, by path (its id).
DIR = Lookup[int](_DIR_ID, lambda row: int(row["id"]))
#: The same, locking the folder's row until the transaction ends (PostgreSQL; SQLite writers are
#: serialised already and ignore FOR UPDATE).
LOCK_DIR = Lookup[int](_DIR_ID.with_for_update(), lambda row: int(row["id"]))
#: An asset by base, folder and name.
GET_ASSET = Lookup[Asset](
    select(_a).where(
        _a.c.dtable_uuid == bindparam("dtable_uuid"),
        _a.c.dir_path == bindparam("dir_path"),
        _a.c.name == bindparam("name"),
    ),
    asset_of,
)
INSERT_ASSET = Prepared(
    insert(_a).values(
        dtable_uuid=bindparam("v_dtable_uuid"), dir_path=bindparam("v_dir_path"), name=bindparam("v_name"),
        blob_key=bindparam("v_blob_key"), size=bindparam("v_size"), sha256=bindparam("v_sha256"),
        mtime=bindparam("v_mtime"), uuid=bindparam("v_uuid"),
    ).returning(_a.c.id)
)  # fmt: skip
REPLACE_BLOB = Prepared(
    update(_a).where(_a.c.id == bindparam("v_id")).values(
        blob_key=bindparam("v_blob_key"), size=bindparam("v_size"), sha256=bindparam("v_sha256"),
        mtime=bindparam("v_mtime"),
    )
)  # fmt: skip


def lock_dir_fast(tx: RawTx, dtable_uuid: str, path: str) -> bool:
    """Lock the folder's row (see ``lock_dir``); False when the folder does not exist yet."""
    return tx.first(LOCK_DIR, dtable_uuid=dtable_uuid, path=path) is not None


def get_asset_fast(tx: RawTx, dtable_uuid: str, dir_path: str, name: str) -> Asset | None:
    return tx.first(GET_ASSET, dtable_uuid=dtable_uuid, dir_path=dir_path, name=name)


def insert_asset_fast(tx: RawTx, asset: Asset) -> int:
    return int(tx.returning(
        INSERT_ASSET, v_dtable_uuid=asset.dtable_uuid, v_dir_path=asset.dir_path, v_name=asset.name,
        v_blob_key=asset.blob_key, v_size=asset.size, v_sha256=asset.sha256,
        v_mtime=asset.mtime.isoformat(), v_uuid=asset.uuid,
    ))  # fmt: skip


def replace_blob_fast(tx: RawTx, asset_id: int, blob_key: str, size: int, sha256: str, mtime: str) -> None:
    tx.execute(REPLACE_BLOB, v_id=asset_id, v_blob_key=blob_key, v_size=size, v_sha256=sha256, v_mtime=mtime)
