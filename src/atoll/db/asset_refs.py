"""Queries for ``asset_refs``: which rows' file and image cells point at which asset.

The rows of one table are written together with their references, in the caller's transaction
(``services/asset_refs.py`` computes the targets from the cells).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, select

from atoll.db import schema

#: Row ids per ``IN (...)`` list.
CHUNK = 500


@dataclass(frozen=True)
class AssetRef:
    """One cell that points at an asset (``target``: see ``schema.asset_refs``)."""

    table_id: str
    row_id: str
    column_key: str
    target: str


def insert(conn: Connection, dtable_uuid: str, refs: Iterable[AssetRef]) -> None:
    values = [
        {"dtable_uuid": dtable_uuid, "table_id": r.table_id, "row_id": r.row_id,
         "column_key": r.column_key, "target": r.target}
        for r in dict.fromkeys(refs)
    ]  # fmt: skip
    for i in range(0, len(values), CHUNK):
        conn.execute(schema.asset_refs.insert(), values[i : i + CHUNK])


def delete_rows(conn: Connection, dtable_uuid: str, table_id: str, row_ids: Iterable[str]) -> None:
    t = schema.asset_refs
    wanted = list(dict.fromkeys(row_ids))
    for i in range(0, len(wanted), CHUNK):
        conn.execute(
            delete(t).where(
                t.c.dtable_uuid == dtable_uuid,
                t.c.table_id == table_id,
                t.c.row_id.in_(wanted[i : i + CHUNK]),
            )
        )


def delete_table(conn: Connection, dtable_uuid: str, table_id: str, *, column_key: str | None = None) -> None:
    """The references of a whole table, or of one of its columns."""
    t = schema.asset_refs
    where = [t.c.dtable_uuid == dtable_uuid, t.c.table_id == table_id]
    if column_key is not None:
        where.append(t.c.column_key == column_key)
    conn.execute(delete(t).where(*where))


def refs_to(conn: Connection, dtable_uuid: str, targets: Sequence[str], limit: int) -> list[AssetRef]:
    """Up to ``limit`` cells that point at any of ``targets``, in a stable order."""
    t = schema.asset_refs
    query = (
        select(t.c.table_id, t.c.row_id, t.c.column_key, t.c.target)
        .where(t.c.dtable_uuid == dtable_uuid, t.c.target.in_(list(targets)))
        .order_by(t.c.table_id, t.c.row_id, t.c.column_key, t.c.target)
        .limit(limit)
    )
    return [AssetRef(*row) for row in conn.execute(query)]


def is_referenced(conn: Connection, dtable_uuid: str, targets: Sequence[str]) -> bool:
    t = schema.asset_refs
    query = select(t.c.row_id).where(t.c.dtable_uuid == dtable_uuid, t.c.target.in_(list(targets))).limit(1)
    return conn.execute(query).first() is not None


def count_refs(conn: Connection, dtable_uuid: str, targets: Sequence[str]) -> int:
    t = schema.asset_refs
    query = select(func.count()).where(t.c.dtable_uuid == dtable_uuid, t.c.target.in_(list(targets)))
    return int(conn.execute(query).scalar() or 0)
