"""Queries on links between rows (``schema.row_links``).

A link (``link_id``) joins two tables; its pairs are stored one way only. ``Side`` says how a
link column of one table sees them:

- ``FORWARD``: the column's table is the stored ``table_id`` (the smaller table id); its rows are
  ``row_id`` and the linked rows ``other_row_id``;
- ``REVERSE``: the other way round (the column's table has the larger id);
- ``SELF``: a table linked to itself; a pair is stored once as (smaller, larger) row id and
  either row sees the other.

Every function here is an index lookup by ``(dtable_uuid, link_id, row_id)`` (primary key) or
``(dtable_uuid, link_id, other_row_id)`` (``ix_row_links_other``), in chunks of CHUNK ids.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import Connection, Select, and_, delete, func, or_, select, union_all

from atoll.db import schema

#: Row ids per IN (...) list.
CHUNK = 500
_ROW_FIELDS = (
    schema.rows.c.row_id,
    schema.rows.c.ctime,
    schema.rows.c.mtime,
    schema.rows.c.creator,
    schema.rows.c.last_modifier,
    schema.rows.c.data,
)


class Side(Enum):
    FORWARD = "forward"
    REVERSE = "reverse"
    SELF = "self"


def side_of(table_id: str, other_table_id: str) -> Side:
    """How a link column on ``table_id`` linking to ``other_table_id`` sees the stored pairs."""
    if table_id == other_table_id:
        return Side.SELF
    return Side.FORWARD if table_id < other_table_id else Side.REVERSE


def stored_pair(side: Side, row_id: str, other_row_id: str) -> tuple[str, str]:
    """(row_id, other_row_id) as stored, for a pair seen from a column on ``side``."""
    if side is Side.REVERSE:
        return other_row_id, row_id
    if side is Side.SELF:
        return (row_id, other_row_id) if row_id <= other_row_id else (other_row_id, row_id)
    return row_id, other_row_id


@dataclass(frozen=True)
class LinkedRow:
    """One linked row as a cell shows it: the row it belongs to (``source``), the linked row's
    id and its stored data (for the display value)."""

    source: str
    row_id: str
    ctime: str
    mtime: str
    creator: str
    last_modifier: str
    data: dict[str, Any]


def _chunks(ids: Iterable[str]) -> list[list[str]]:
    wanted = list(dict.fromkeys(ids))
    return [wanted[i : i + CHUNK] for i in range(0, len(wanted), CHUNK)]


def _pairs_of(dtable_uuid: str, link_id: str, side: Side, chunk: list[str]) -> Select[Any]:
    """(src, dst): each row of ``chunk`` with the rows it links to, seen from ``side``."""
    k = schema.row_links
    base = (k.c.dtable_uuid == dtable_uuid, k.c.link_id == link_id)
    forward = select(k.c.row_id.label("src"), k.c.other_row_id.label("dst")).where(
        *base, k.c.row_id.in_(chunk)
    )
    reverse = select(k.c.other_row_id.label("src"), k.c.row_id.label("dst")).where(
        *base, k.c.other_row_id.in_(chunk)
    )
    if side is Side.FORWARD:
        return forward
    if side is Side.REVERSE:
        return reverse
    # a pair (a, a) is found by both halves: keep it once
    return union_all(forward, reverse.where(k.c.row_id != k.c.other_row_id))  # type: ignore[return-value]


def linked_ids(
    conn: Connection, dtable_uuid: str, link_id: str, side: Side, row_ids: Iterable[str]
) -> dict[str, list[str]]:
    """For the SQL engine: ``{row_id: [linked row ids]}`` for the given rows of the table that
    sees the link from ``side``; rows without links are absent. All links, no cap."""
    out: dict[str, list[str]] = {}
    for chunk in _chunks(row_ids):
        for src, dst in conn.execute(_pairs_of(dtable_uuid, link_id, side, chunk)):
            out.setdefault(src, []).append(dst)
    return out


def linked_rows(
    conn: Connection,
    dtable_uuid: str,
    link_id: str,
    side: Side,
    row_ids: Iterable[str],
    *,
    offset: int,
    limit: int,
) -> dict[str, list[LinkedRow]]:
    """Per row of ``row_ids``: its linked rows in the other table's order, the ``offset``-th to
    the ``offset + limit``-th, with their data. One query per CHUNK rows (a window function
    numbers each row's links), so a page of rows costs one query per link column."""
    r = schema.rows
    out: dict[str, list[LinkedRow]] = {}
    for chunk in _chunks(row_ids):
        pairs = _pairs_of(dtable_uuid, link_id, side, chunk).subquery()
        number = func.row_number().over(partition_by=pairs.c.src, order_by=(r.c.seq, r.c.row_id))
        numbered = (
            select(pairs.c.src, *_ROW_FIELDS, number.label("n"))
            .select_from(pairs.join(r, and_(r.c.dtable_uuid == dtable_uuid, r.c.row_id == pairs.c.dst)))
            .subquery()
        )
        query = (
            select(numbered.c.src, *(numbered.c[c.name] for c in _ROW_FIELDS))
            .where(numbered.c.n > offset, numbered.c.n <= offset + limit)
            .order_by(numbered.c.src, numbered.c.n)
        )
        for src, row_id, ctime, mtime, creator, modifier, data in conn.execute(query):
            found = LinkedRow(src, row_id, ctime, mtime, creator, modifier, json.loads(data))
            out.setdefault(src, []).append(found)
    return out


def existing_pairs(
    conn: Connection, dtable_uuid: str, link_id: str, pairs: Iterable[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which of the stored-orientation ``pairs`` are stored."""
    k = schema.row_links
    wanted = set(pairs)
    by_row: dict[str, set[str]] = {}
    for row_id, other in wanted:
        by_row.setdefault(row_id, set()).add(other)
    found: set[tuple[str, str]] = set()
    for chunk in _chunks(by_row):
        query = select(k.c.row_id, k.c.other_row_id).where(
            k.c.dtable_uuid == dtable_uuid, k.c.link_id == link_id, k.c.row_id.in_(chunk)
        )
        for row_id, other in conn.execute(query):
            if (row_id, other) in wanted:
                found.add((row_id, other))
    return found


def insert_pairs(
    conn: Connection,
    dtable_uuid: str,
    link_id: str,
    table_id: str,
    other_table_id: str,
    pairs: Iterable[tuple[str, str]],
) -> int:
    """Store the stored-orientation ``pairs`` not yet stored; returns how many were new.
    ``table_id`` is the table of ``row_id`` (the smaller id)."""
    wanted = list(dict.fromkeys(pairs))
    stored = existing_pairs(conn, dtable_uuid, link_id, wanted)
    new = [p for p in wanted if p not in stored]
    params = [
        {
            "dtable_uuid": dtable_uuid,
            "link_id": link_id,
            "row_id": row_id,
            "other_row_id": other,
            "table_id": table_id,
            "other_table_id": other_table_id,
        }
        for row_id, other in new
    ]
    for i in range(0, len(params), CHUNK):
        conn.execute(schema.row_links.insert(), params[i : i + CHUNK])
    return len(new)


def delete_pairs(conn: Connection, dtable_uuid: str, link_id: str, pairs: Iterable[tuple[str, str]]) -> int:
    """Remove the stored-orientation ``pairs``; returns how many were stored."""
    k = schema.row_links
    found = existing_pairs(conn, dtable_uuid, link_id, pairs)
    by_row: dict[str, list[str]] = {}
    for row_id, other in found:
        by_row.setdefault(row_id, []).append(other)
    for row_id, others in by_row.items():
        for chunk in _chunks(others):
            conn.execute(
                delete(k).where(
                    k.c.dtable_uuid == dtable_uuid,
                    k.c.link_id == link_id,
                    k.c.row_id == row_id,
                    k.c.other_row_id.in_(chunk),
                )
            )
    return len(found)


def delete_for_rows(
    conn: Connection, dtable_uuid: str, link_ids: Iterable[str], row_ids: Iterable[str]
) -> None:
    """Every pair of these links that holds one of ``row_ids`` on either side."""
    k = schema.row_links
    for link_id in dict.fromkeys(link_ids):
        for chunk in _chunks(row_ids):
            base = (k.c.dtable_uuid == dtable_uuid, k.c.link_id == link_id)
            conn.execute(delete(k).where(*base, k.c.row_id.in_(chunk)))
            conn.execute(delete(k).where(*base, k.c.other_row_id.in_(chunk)))


def delete_seen_from(
    conn: Connection, dtable_uuid: str, link_id: str, side: Side, row_ids: Iterable[str]
) -> None:
    """Every link of ``row_ids`` (rows of the table that sees the link from ``side``)."""
    k = schema.row_links
    base = (k.c.dtable_uuid == dtable_uuid, k.c.link_id == link_id)
    for chunk in _chunks(row_ids):
        if side is Side.FORWARD:
            conn.execute(delete(k).where(*base, k.c.row_id.in_(chunk)))
        elif side is Side.REVERSE:
            conn.execute(delete(k).where(*base, k.c.other_row_id.in_(chunk)))
        else:
            conn.execute(delete(k).where(*base, or_(k.c.row_id.in_(chunk), k.c.other_row_id.in_(chunk))))


def delete_link(conn: Connection, dtable_uuid: str, link_id: str) -> None:
    """Every pair of one link (its columns went)."""
    k = schema.row_links
    conn.execute(delete(k).where(k.c.dtable_uuid == dtable_uuid, k.c.link_id == link_id))


def count_links(conn: Connection, dtable_uuid: str, link_id: str | None = None) -> int:
    """Stored pairs of a base (or of one link)."""
    k = schema.row_links
    query = select(func.count()).select_from(k).where(k.c.dtable_uuid == dtable_uuid)
    if link_id is not None:
        query = query.where(k.c.link_id == link_id)
    return int(conn.execute(query).scalar() or 0)
