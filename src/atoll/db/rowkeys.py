"""Reading rows through their sort keys (``row_keys``): sorted pages and filter candidates.

``db.rows`` keeps the keys in step with every row write; this module only reads them. The order
is Python's sort of the values the client sees, with ties in table order in both directions
(see docs/architecture.md, "Rows").
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Select,
    and_,
    exists,
    func,
    intersect,
    or_,
    select,
    tuple_,
    union,
    union_all,
)

from atoll.db import schema
from atoll.db.rows import (
    BATCH_ROWS,
    ROW_KEY_HEAD_BYTES,
    RowKey,
    StoredRow,
    row_of,
    rows_by_id,
    where_keys,
    where_table,
)


@dataclass(frozen=True)
class KeyTest:
    """Which keys a cell of one column may have: any of the parts (kind 0 ``num <op> value``,
    kind 0 ``num`` in ``nums``, any key of kind ``kind_from`` or more, exactly one of ``keys``)."""

    num: tuple[str, float] | None = None
    nums: tuple[float, ...] = ()
    kind_from: int | None = None
    keys: tuple[bytes, ...] = ()


_NUM_OPS = {
    "<": lambda c, v: c < v,
    "<=": lambda c, v: c <= v,
    ">": lambda c, v: c > v,
    ">=": lambda c, v: c >= v,
    "==": lambda c, v: c == v,
}


def _keys_passing(
    dtable_uuid: str, table_id: str, column_key: str, test: KeyTest | None
) -> list[Select[Any]]:
    """``(seq, row_id)`` of the rows whose key in ``column_key`` passes ``test`` (any key when
    None): one index range of ix_row_keys_asc per part; the parts are disjoint."""
    k = schema.row_keys
    where = [*where_keys(dtable_uuid, table_id), k.c.column_key == column_key]
    pick = select(k.c.seq, k.c.row_id)
    if test is None:
        return [pick.where(*where)]
    selects = []
    nums = test.nums
    if test.num is not None:
        op, value = test.num
        selects.append(pick.where(*where, k.c.kind == 0, _NUM_OPS[op](k.c.num, value)))
        nums = tuple(n for n in nums if not _NUM_OPS[op](n, value))  # disjoint parts: UNION ALL
    if nums:
        selects.append(pick.where(*where, k.c.kind == 0, k.c.num.in_(nums)))
    if test.kind_from is not None:
        selects.append(pick.where(*where, k.c.kind >= test.kind_from))
    for key in test.keys:
        split = RowKey("", column_key, 0, 1, 0.0, key)
        same = [k.c.kind == 1, k.c.num == 0, k.c.head == split.head]
        same.append(k.c.tail.is_(None) if split.tail is None else k.c.tail == split.tail)
        selects.append(pick.where(*where, *same))
    return selects


def iter_keyed(
    conn: Connection,
    dtable_uuid: str,
    table_id: str,
    tests: list[tuple[str, KeyTest | None]],
    *,
    any_of: bool,
    after: tuple[int, str] | None = None,
) -> Iterator[StoredRow]:
    """The rows, in table order (past ``(seq, row_id)`` ``after``), whose keys pass every
    (``any_of``: some) ``(column_key, test)``, read BATCH_ROWS at a time. The database picks
    them from the keys' index and sorts only those; rows are then fetched by primary key."""
    per_column = [_keys_passing(dtable_uuid, table_id, column_key, test) for column_key, test in tests]
    sets = [parts[0] if len(parts) == 1 else _as_select(union_all(*parts)) for parts in per_column]
    if len(sets) == 1:
        found = sets[0].subquery()
    else:
        found = (union(*sets) if any_of else intersect(*sets)).subquery()
    while True:
        query = select(found.c.seq, found.c.row_id)
        if after is not None:
            query = query.where(tuple_(found.c.seq, found.c.row_id) > tuple_(*after))
        with index_ranges_only(conn):
            batch = conn.execute(query.order_by(found.c.seq, found.c.row_id).limit(BATCH_ROWS)).all()
        ids = [m.row_id for m in batch]
        rows = rows_by_id(conn, dtable_uuid, ids)
        yield from (rows[i] for i in ids if i in rows)
        if len(batch) < BATCH_ROWS:
            return
        after = (int(batch[-1].seq), batch[-1].row_id)


@contextmanager
def index_ranges_only(conn: Connection) -> Iterator[None]:
    """PostgreSQL: no sequential scans and no parallel workers for a query built of small index
    ranges. Its planner assumes ``column_key``, ``kind`` and ``num`` independent (other
    columns' keys all have num 0 and another kind), overestimates a range 20-fold and would scan
    the whole of row_keys, or start workers that cost more than the query."""
    if conn.dialect.name != "postgresql":
        yield
        return
    names = ("enable_seqscan", "max_parallel_workers_per_gather")
    # one round trip: the settings as they were, then the new ones (a select list is evaluated
    # left to right)
    reads = ", ".join(f"current_setting('{n}')" for n in names)
    sets = ", ".join(f"set_config('{n}', '{v}', true)" for n, v in zip(names, ("off", "0"), strict=True))
    before = conn.exec_driver_sql(f"SELECT {reads}, {sets}").one()[: len(names)]
    try:
        yield
    finally:
        _set_local(conn, names, tuple(before))


def _set_local(conn: Connection, names: tuple[str, ...], values: tuple[str, ...]) -> None:
    """PostgreSQL settings for the rest of this transaction."""
    sets = ", ".join(f"set_config('{n}', %(v{i})s, true)" for i, n in enumerate(names))
    conn.exec_driver_sql("SELECT " + sets, {f"v{i}": v for i, v in enumerate(values)})


def _as_select(compound: CompoundSelect[Any]) -> Select[Any]:
    """A compound select as a plain one (SQLite takes no parenthesised compound in a compound)."""
    inner = compound.subquery()
    return select(inner.c.seq, inner.c.row_id)


def missing_keys(column_key: str) -> ColumnElement[bool]:
    """Rows (a ``rows`` clause) whose cell in ``column_key`` has no key: an empty cell."""
    r, k = schema.rows, schema.row_keys
    keyed = exists().where(
        k.c.dtable_uuid == r.c.dtable_uuid,
        k.c.table_id == r.c.table_id,
        k.c.row_id == r.c.row_id,
        k.c.column_key == column_key,
    )
    return ~keyed


def _key_order(descending: bool) -> list[ColumnElement[Any]]:
    k = schema.row_keys
    if descending:
        return [k.c.kind.desc(), k.c.num.desc(), k.c.head.desc(), k.c.seq, k.c.row_id]
    return [k.c.kind, k.c.num, k.c.head, k.c.seq, k.c.row_id]


def sorted_page(
    conn: Connection,
    dtable_uuid: str,
    table_id: str,
    column_key: str,
    *,
    descending: bool,
    offset: int,
    limit: int,
) -> list[StoredRow]:
    """A page of the table sorted by the keys of ``column_key``: keyed rows by key (ties in
    table order, in both directions), then the rows without a key in table order. The
    database sorts (index ix_row_keys_asc/desc) and pages; nothing reads the whole table."""
    k = schema.row_keys
    where = [*where_keys(dtable_uuid, table_id), k.c.column_key == column_key]
    query = (
        select(k.c.row_id, k.c.kind, k.c.num, k.c.head)
        .where(*where)
        .order_by(*_key_order(descending))
        .offset(offset)
        .limit(limit)
    )
    page = [(m.row_id, m.kind, m.num, bytes(m.head)) for m in conn.execute(query)]
    ids = _order_split_keys(conn, where, page, descending=descending, offset=offset)
    found = rows_by_id(conn, dtable_uuid, ids)
    out = [found[i] for i in ids if i in found]
    if len(page) < limit:
        keyed = offset + len(page)
        if not page:
            keyed = int(conn.execute(select(func.count()).select_from(k).where(*where)).scalar_one())
        out.extend(
            _unkeyed(conn, dtable_uuid, table_id, column_key, max(0, offset - keyed), limit - len(page))
        )
    return out


def _order_split_keys(
    conn: Connection,
    where: list[ColumnElement[bool]],
    page: list[tuple[str, int, float, bytes]],
    *,
    descending: bool,
    offset: int,
) -> list[str]:
    """Row ids of ``page`` in exact key order. The database ordered split keys (head of
    ROW_KEY_HEAD_BYTES, the rest in ``tail``) by their head only; each run of equal heads is
    re-ordered by tail here (ties by table order). Such runs are contiguous in any order, and
    heads of split keys are never equal to whole keys (which are shorter)."""
    k = schema.row_keys
    ids = [p[0] for p in page]
    at = 0
    while at < len(page):
        _, kind, num, head = page[at]
        end = at
        while end < len(page) and page[end][1:] == (kind, num, head):
            end += 1
        if len(head) >= ROW_KEY_HEAD_BYTES:
            group = and_(k.c.kind == kind, k.c.num == num, k.c.head == head)
            found = conn.execute(select(k.c.row_id, k.c.seq, k.c.tail).where(*where, group)).all()
            members = sorted(found, key=lambda m: (int(m.seq), m.row_id))
            members.sort(key=lambda m: bytes(m.tail or b""), reverse=descending)
            start = offset + at
            if at == 0:
                before = or_(
                    _ahead(k.c.kind, kind, descending),
                    and_(k.c.kind == kind, _ahead(k.c.num, num, descending)),
                    and_(k.c.kind == kind, k.c.num == num, _ahead(k.c.head, head, descending)),
                )
                start = int(
                    conn.execute(select(func.count()).select_from(k).where(*where, before)).scalar_one()
                )
            for i in range(at, end):
                ids[i] = members[offset + i - start].row_id
        at = end
    return ids


def _ahead(column: ColumnElement[Any], value: Any, descending: bool) -> ColumnElement[bool]:
    found: ColumnElement[bool] = column > value if descending else column < value
    return found


def _unkeyed(
    conn: Connection, dtable_uuid: str, table_id: str, column_key: str, offset: int, limit: int
) -> list[StoredRow]:
    r = schema.rows
    query = (
        select(r)
        .where(*where_table(dtable_uuid, table_id), missing_keys(column_key))
        .order_by(r.c.seq, r.c.row_id)
        .offset(offset)
        .limit(limit)
    )
    return [row_of(m) for m in conn.execute(query).mappings()]
