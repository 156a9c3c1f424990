"""Narrowing a query on ``rows`` through the cells' sort keys (``row_keys``).

A :data:`Narrow` describes a SUPERSET of the rows a condition can match, in terms of keys: the
rows with a key of one column in a number range, among some numbers, equal to some text keys, or
any key at all (a non-empty cell); and conjunctions / disjunctions of those, read from the keys'
index ``ix_row_keys_asc``. The original condition is kept next to the narrowing and still
decides: the keys only spare the database the rows that can not match.

:func:`table_where` reads the candidates' ids first (each key range stops after
MAX_CANDIDATES + 1 entries) and, when narrowing pays, gives conditions that fetch just those rows
by primary key. Both planners then do the obvious thing whatever their statistics: a PostgreSQL
table filled in bulk and not yet analysed otherwise gets a nested loop over the whole table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, String, any_, func, literal, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY

from atoll.db import schema
from atoll.db.rowkeys import index_ranges_only
from atoll.db.rows import RowKey, where_keys, where_table


@dataclass(frozen=True)
class Keys:
    """Rows whose cell in ``column_key`` has a key passing the test: kind 0 with ``low <= num
    <= high`` (either bound may be None), kind 0 with ``num`` in ``nums``, kind 1 equal to one
    of ``texts`` (whole encoded keys); no test at all: any key."""

    column_key: str
    low: float | None = None
    high: float | None = None
    nums: tuple[float, ...] | None = None
    texts: tuple[bytes, ...] | None = None


@dataclass(frozen=True)
class Both:
    """Rows in every part."""

    parts: tuple[Narrow, ...]


@dataclass(frozen=True)
class Either:
    """Rows in some part."""

    parts: tuple[Narrow, ...]


Narrow = Keys | Both | Either


def both(a: Narrow | None, b: Narrow | None) -> Narrow | None:
    """A superset of ``a AND b``: either side alone is one already."""
    if a is None or b is None:
        return a if b is None else b
    return Both((*_flat(a, Both), *_flat(b, Both)))


def either(a: Narrow | None, b: Narrow | None) -> Narrow | None:
    """A superset of ``a OR b``: only when both sides have one."""
    if a is None or b is None:
        return None
    return Either((*_flat(a, Either), *_flat(b, Either)))


def _flat(n: Narrow, kind: type[Both] | type[Either]) -> tuple[Narrow, ...]:
    return n.parts if isinstance(n, kind) else (n,)


def _selects(keys: Keys, dtable_uuid: str, table_id: str) -> list[Select[Any]]:
    """``row_id`` of the rows passing ``keys``: one index range of ix_row_keys_asc each."""
    k = schema.row_keys
    pick = select(k.c.row_id).where(*where_keys(dtable_uuid, table_id), k.c.column_key == keys.column_key)
    out: list[Select[Any]] = []
    if keys.low is not None or keys.high is not None:
        test = [k.c.kind == 0]
        if keys.low is not None:
            test.append(k.c.num >= keys.low)
        if keys.high is not None:
            test.append(k.c.num <= keys.high)
        out.append(pick.where(*test))
    if keys.nums is not None:
        out.extend(pick.where(k.c.kind == 0, k.c.num == n) for n in sorted(set(keys.nums)))
    if keys.texts is not None:
        for text in sorted(set(keys.texts)):
            split = RowKey("", keys.column_key, 0, 1, 0.0, text)
            tail = k.c.tail.is_(None) if split.tail is None else k.c.tail == split.tail
            out.append(pick.where(k.c.kind == 1, k.c.num == 0, k.c.head == split.head, tail))
    if keys.low is None and keys.high is None and keys.nums is None and keys.texts is None:
        out.append(pick)
    return out


#: The most candidate rows a narrowing may name; a condition with more reads the table as it
#: would without keys (the database scans it in table order).
MAX_CANDIDATES = 10_000
#: A query that evaluates every match (sorted, grouped, or a page past them all) is narrowed
#: only when the table holds at least this many rows per candidate: reading a candidate by its
#: primary key costs a few rows of a scan in table order.
ROWS_PER_CANDIDATE = 4
#: A page in table order (``LIMIT page`` with no ORDER BY) stops scanning once it is full: about
#: ``page * rows / candidates`` rows. It is narrowed only when that is more than this many
#: times the candidates, i.e. when the table holds at least ``PAGE_SCAN_FACTOR * c**2 / page`` rows.
PAGE_SCAN_FACTOR = 4
#: A page in table order counts at most this many candidates per row of the page (LIMIT +
#: OFFSET) to decide: more would rarely pay (the table would need 4 * (8 * page)**2 / page =
#: 256 * page rows), and an unselective condition then costs little more than without keys.
PAGE_CANDIDATES = 8
#: The most index entries the table-size check of one query may count (a larger bound: no narrowing).
MAX_COUNTED_ROWS = 1_000_000


def _ids(conn: Connection, keys: Keys, dtable_uuid: str, table_id: str, budget: int) -> set[str] | None:
    """The row ids ``keys`` admits, or None when there are more than ``budget`` (counted in the
    index first: an unselective condition costs a count of ``budget + 1`` entries, no more)."""
    selects = _selects(keys, dtable_uuid, table_id)
    if not selects:
        return set()
    query = selects[0] if len(selects) == 1 else select(union_all(*selects).subquery().c.row_id)
    some = query.limit(budget + 1).subquery()
    if int(conn.execute(select(func.count()).select_from(some)).scalar_one()) > budget:
        return None
    return set(conn.execute(query).scalars())


def candidates(conn: Connection, n: Narrow, dtable_uuid: str, table_id: str, budget: int) -> set[str] | None:
    """The ids of the rows ``n`` admits (a superset of the matches), or None when that would be
    more than ``budget``. Each key range read stops after ``budget + 1`` entries."""
    if isinstance(n, Keys):
        return _ids(conn, n, dtable_uuid, table_id, budget)
    parts = [candidates(conn, p, dtable_uuid, table_id, budget) for p in n.parts]
    if isinstance(n, Both):
        known = [p for p in parts if p is not None]
        return set.intersection(*known) if known else None
    out: set[str] = set()
    for part in parts:
        if part is None:
            return None
        out |= part
        if len(out) > budget:
            return None
    return out


def _holds_at_least(conn: Connection, dtable_uuid: str, table_id: str, count: int) -> bool:
    """Whether the table has ``count`` rows or more (reads at most that many index entries)."""
    if count <= 0:
        return True
    r = schema.rows
    some = select(r.c.row_id).where(*where_table(dtable_uuid, table_id)).limit(count).subquery()
    return int(conn.execute(select(func.count()).select_from(some)).scalar_one()) >= count


def table_where(
    conn: Connection, n: Narrow, dtable_uuid: str, table_id: str, *, page: int | None
) -> list[ColumnElement[bool]] | None:
    """Conditions on ``rows`` that pick the table's rows ``n`` admits by primary key (in place
    of ``where_table``), or None when narrowing would not pay (see the constants above).
    ``page``: LIMIT + OFFSET of a query in table order that stops when the page is full; None
    when the query evaluates every match."""
    budget = MAX_CANDIDATES if page is None else min(MAX_CANDIDATES, PAGE_CANDIDATES * max(page, 1))
    # index ranges only (PostgreSQL): keys and the table-order index, never a scan of every base
    with index_ranges_only(conn):
        found = candidates(conn, n, dtable_uuid, table_id, budget)
        if found is None:
            return None
        c = len(found)
        bound = ROWS_PER_CANDIDATE * c
        if page is not None:
            bound = max(bound, -(-PAGE_SCAN_FACTOR * c * c // max(page, 1)))
        if bound > MAX_COUNTED_ROWS or not _holds_at_least(conn, dtable_uuid, table_id, bound):
            return None
    r = schema.rows
    # table_id through an expression: the database then finds the rows by primary key
    # (dtable_uuid, row_id), not by scanning the table-order index and testing each row
    table_only: ColumnElement[bool] = r.c.table_id.concat("") == table_id
    return [r.c.dtable_uuid == dtable_uuid, table_only, _one_of(conn, r.c.row_id, sorted(found))]


def _one_of(conn: Connection, column: ColumnElement[Any], ids: list[str]) -> ColumnElement[bool]:
    """``column IN ids`` with the ids as one bound parameter (a JSON array on SQLite, an array on
    PostgreSQL) rather than one parameter each."""
    if conn.dialect.name == "postgresql":
        return column == any_(literal(ids, ARRAY(String)))
    each = func.json_each(literal(json.dumps(ids))).table_valued("value")
    return column.in_(select(each.c.value))
