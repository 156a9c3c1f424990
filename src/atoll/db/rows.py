"""Queries for a base's structure document (tables, columns, views) and its rows.

The structure of a base is one JSON document in ``dtable_docs`` with a version; every row is one
record in ``rows`` whose ``data`` is a JSON object keyed by column key. Rows are ordered by ``seq``
within their table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    RowMapping,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    func,
    intersect,
    or_,
    select,
    tuple_,
    union,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError

from atoll.db import schema

#: Version of a base that has never been written (SeaTable: 1 after creation).
INITIAL_DOC_VERSION = 1
#: Gap between the ``seq`` of consecutive appended rows, leaving room for inserts.
SEQ_STEP = 1024
#: Sort keys longer than this are split: the index holds the head, ``tail`` the rest.
ROW_KEY_HEAD_BYTES = 256
#: Rows read per query when a table is walked in order.
BATCH_ROWS = 1000


@dataclass
class StoredDoc:
    version: int
    doc: dict[str, Any]


@dataclass(frozen=True)
class StoredRow:
    row_id: str
    table_id: str
    seq: int
    ctime: str
    mtime: str
    creator: str
    last_modifier: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RowKey:
    """The sort key of one non-empty cell (see ``schema.row_keys``)."""

    row_id: str
    column_key: str
    seq: int
    kind: int
    num: float
    key: bytes

    @property
    def head(self) -> bytes:
        return self.key[:ROW_KEY_HEAD_BYTES]

    @property
    def tail(self) -> bytes | None:
        return self.key[ROW_KEY_HEAD_BYTES:] if len(self.key) >= ROW_KEY_HEAD_BYTES else None


def _row(r: RowMapping) -> StoredRow:
    return StoredRow(
        row_id=r["row_id"],
        table_id=r["table_id"],
        seq=int(r["seq"]),
        ctime=r["ctime"],
        mtime=r["mtime"],
        creator=r["creator"],
        last_modifier=r["last_modifier"],
        data=json.loads(r["data"]),
    )


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


# ---- the structure document ----------------------------------------------------------------


def load_doc(conn: Connection, dtable_uuid: str) -> StoredDoc:
    """The base's document; an empty one (not stored) for a base never written."""
    t = schema.dtable_docs
    query = select(t.c.version, t.c.doc).where(t.c.dtable_uuid == dtable_uuid)
    found = conn.execute(query).mappings().first()
    if found is None:
        return StoredDoc(INITIAL_DOC_VERSION, {"tables": []})
    return StoredDoc(int(found["version"]), json.loads(found["doc"]))


def lock_doc(conn: Connection, dtable_uuid: str) -> StoredDoc:
    """The base's document for a read-modify-write: created if missing, then locked.

    SQLite already holds the database write lock (BEGIN IMMEDIATE); on PostgreSQL the row lock
    (SELECT ... FOR UPDATE) serialises writers of one base. Creating the row first means two
    concurrent first writers both end up reading the committed document, never an empty copy.
    """
    t = schema.dtable_docs
    query = select(t.c.version, t.c.doc).where(t.c.dtable_uuid == dtable_uuid).with_for_update()
    found = conn.execute(query).mappings().first()
    if found is None:
        try:
            with conn.begin_nested():
                conn.execute(
                    t.insert().values(
                        dtable_uuid=dtable_uuid,
                        version=INITIAL_DOC_VERSION,
                        doc=dumps({"tables": []}),
                    )
                )
        except IntegrityError:  # created by a concurrent first write
            pass
        found = conn.execute(query).mappings().first()
        assert found is not None
    return StoredDoc(int(found["version"]), json.loads(found["doc"]))


def list_doc_ids(conn: Connection) -> list[str]:
    """Every base that has a structure document."""
    t = schema.dtable_docs
    return list(conn.execute(select(t.c.dtable_uuid).order_by(t.c.dtable_uuid)).scalars())


def save_doc(conn: Connection, dtable_uuid: str, stored: StoredDoc) -> None:
    """Write a document obtained from ``lock_doc`` with ``stored.version`` (the caller bumps it)."""
    t = schema.dtable_docs
    conn.execute(
        update(t).where(t.c.dtable_uuid == dtable_uuid).values(version=stored.version, doc=dumps(stored.doc))
    )


# ---- rows ----------------------------------------------------------------------------------


def _where_table(dtable_uuid: str, table_id: str) -> list[Any]:
    r = schema.rows
    return [r.c.dtable_uuid == dtable_uuid, r.c.table_id == table_id]


def get_row(conn: Connection, dtable_uuid: str, table_id: str, row_id: str) -> StoredRow | None:
    r = schema.rows
    query = select(r).where(*_where_table(dtable_uuid, table_id), r.c.row_id == row_id)
    found = conn.execute(query).mappings().first()
    return _row(found) if found else None


def get_rows(
    conn: Connection, dtable_uuid: str, table_id: str, row_ids: Iterable[str]
) -> dict[str, StoredRow]:
    r = schema.rows
    wanted = list(dict.fromkeys(row_ids))
    out: dict[str, StoredRow] = {}
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        query = select(r).where(*_where_table(dtable_uuid, table_id), r.c.row_id.in_(chunk))
        for found in conn.execute(query).mappings():
            row = _row(found)
            out[row.row_id] = row
    return out


def page_rows(conn: Connection, dtable_uuid: str, table_id: str, offset: int, limit: int) -> list[StoredRow]:
    r = schema.rows
    query = (
        select(r)
        .where(*_where_table(dtable_uuid, table_id))
        .order_by(r.c.seq, r.c.row_id)
        .offset(offset)
        .limit(limit)
    )
    return [_row(m) for m in conn.execute(query).mappings()]


def iter_rows(
    conn: Connection, dtable_uuid: str, table_id: str, *, where: ColumnElement[bool] | None = None
) -> Iterator[StoredRow]:
    """Every row of a table (or those matching ``where``) in order, read BATCH_ROWS at a time
    (seek on ``(seq, row_id)``), so that memory stays bounded and the caller may stop early."""
    after: tuple[int, str] | None = None
    while True:
        batch = rows_after(conn, dtable_uuid, table_id, after, BATCH_ROWS, where=where)
        yield from batch
        if len(batch) < BATCH_ROWS:
            return
        after = (batch[-1].seq, batch[-1].row_id)


def rows_after(
    conn: Connection,
    dtable_uuid: str,
    table_id: str,
    after: tuple[int, str] | None,
    limit: int,
    *,
    where: ColumnElement[bool] | None = None,
) -> list[StoredRow]:
    """Up to ``limit`` rows in table order past ``(seq, row_id)`` ``after`` (from the start
    when None), matching ``where`` if given."""
    r = schema.rows
    query = select(r).where(*_where_table(dtable_uuid, table_id))
    if where is not None:
        query = query.where(where)
    if after is not None:
        query = query.where(tuple_(r.c.seq, r.c.row_id) > tuple_(*after))
    return [_row(m) for m in conn.execute(query.order_by(r.c.seq, r.c.row_id).limit(limit)).mappings()]


def data_contains(needle: str) -> ColumnElement[bool]:
    """Rows whose stored JSON text contains ``needle`` (a superset for callers to check)."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return schema.rows.c.data.like(f"%{escaped}%", escape="\\")


def max_seq(conn: Connection, dtable_uuid: str, table_id: str) -> int:
    r = schema.rows
    found = conn.execute(select(func.max(r.c.seq)).where(*_where_table(dtable_uuid, table_id)))
    value = found.scalar()
    return int(value) if value is not None else 0


def next_seq_after(conn: Connection, dtable_uuid: str, table_id: str, seq: int) -> int | None:
    """The smallest ``seq`` greater than ``seq`` in the table, if any."""
    r = schema.rows
    query = select(func.min(r.c.seq)).where(*_where_table(dtable_uuid, table_id), r.c.seq > seq)
    value = conn.execute(query).scalar()
    return int(value) if value is not None else None


def renumber(conn: Connection, dtable_uuid: str, table_id: str) -> None:
    """Re-space the table's ``seq`` values by SEQ_STEP, keeping their order."""
    r = schema.rows
    query = select(r.c.row_id).where(*_where_table(dtable_uuid, table_id)).order_by(r.c.seq, r.c.row_id)
    ids = list(conn.execute(query).scalars())
    if not ids:
        return
    statement = (
        update(r)
        .where(r.c.dtable_uuid == dtable_uuid, r.c.row_id == bindparam("b_row_id"))
        .values(seq=bindparam("b_seq"))
    )
    params = [{"b_row_id": row_id, "b_seq": i * SEQ_STEP} for i, row_id in enumerate(ids, 1)]
    conn.execute(statement, params)
    k = schema.row_keys
    conn.execute(
        update(k)
        .where(k.c.dtable_uuid == dtable_uuid, k.c.table_id == table_id, k.c.row_id == bindparam("b_row_id"))
        .values(seq=bindparam("b_seq")),
        params,
    )


def insert_rows(conn: Connection, dtable_uuid: str, rows: list[StoredRow]) -> None:
    if not rows:
        return
    conn.execute(
        schema.rows.insert(),
        [
            {
                "dtable_uuid": dtable_uuid,
                "row_id": row.row_id,
                "table_id": row.table_id,
                "seq": row.seq,
                "data": dumps(row.data),
                "ctime": row.ctime,
                "mtime": row.mtime,
                "creator": row.creator,
                "last_modifier": row.last_modifier,
            }
            for row in rows
        ],
    )


def update_rows(conn: Connection, dtable_uuid: str, rows: list[StoredRow]) -> None:
    """Store new data, mtime and last modifier of ``rows`` (one executemany)."""
    if not rows:
        return
    r = schema.rows
    statement = (
        update(r)
        .where(r.c.dtable_uuid == dtable_uuid, r.c.row_id == bindparam("b_row_id"))
        .values(data=bindparam("b_data"), mtime=bindparam("b_mtime"), last_modifier=bindparam("b_by"))
    )
    conn.execute(
        statement,
        [
            {
                "b_row_id": row.row_id,
                "b_data": dumps(row.data),
                "b_mtime": row.mtime,
                "b_by": row.last_modifier,
            }
            for row in rows
        ],
    )


def delete_rows(conn: Connection, dtable_uuid: str, table_id: str, row_ids: Iterable[str]) -> int:
    r = schema.rows
    wanted = list(dict.fromkeys(row_ids))
    count = 0
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        result = conn.execute(delete(r).where(*_where_table(dtable_uuid, table_id), r.c.row_id.in_(chunk)))
        count += result.rowcount
    delete_keys(conn, dtable_uuid, table_id, row_ids=wanted)
    return count


def delete_table_rows(conn: Connection, dtable_uuid: str, table_id: str) -> None:
    conn.execute(delete(schema.rows).where(*_where_table(dtable_uuid, table_id)))
    delete_keys(conn, dtable_uuid, table_id)


# ---- sort keys -----------------------------------------------------------------------------


def _where_keys(dtable_uuid: str, table_id: str) -> list[ColumnElement[bool]]:
    k = schema.row_keys
    return [k.c.dtable_uuid == dtable_uuid, k.c.table_id == table_id]


def insert_keys(conn: Connection, dtable_uuid: str, table_id: str, keys: Iterable[RowKey]) -> None:
    params = [
        {
            "dtable_uuid": dtable_uuid,
            "table_id": table_id,
            "row_id": key.row_id,
            "column_key": key.column_key,
            "seq": key.seq,
            "kind": key.kind,
            "num": key.num,
            "head": key.head,
            "tail": key.tail,
        }
        for key in keys
    ]
    for i in range(0, len(params), BATCH_ROWS):
        conn.execute(schema.row_keys.insert(), params[i : i + BATCH_ROWS])


def delete_keys(
    conn: Connection,
    dtable_uuid: str,
    table_id: str,
    *,
    row_ids: Iterable[str] | None = None,
    column_key: str | None = None,
) -> None:
    """The keys of a table, of some of its rows, or of one of its columns."""
    k = schema.row_keys
    where = _where_keys(dtable_uuid, table_id)
    if column_key is not None:
        where.append(k.c.column_key == column_key)
    if row_ids is None:
        conn.execute(delete(k).where(*where))
        return
    wanted = list(dict.fromkeys(row_ids))
    for i in range(0, len(wanted), 500):
        conn.execute(delete(k).where(*where, k.c.row_id.in_(wanted[i : i + 500])))


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
    where = [*_where_keys(dtable_uuid, table_id), k.c.column_key == column_key]
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
        with _index_ranges_only(conn):
            batch = conn.execute(query.order_by(found.c.seq, found.c.row_id).limit(BATCH_ROWS)).all()
        ids = [m.row_id for m in batch]
        rows = _rows_by_id(conn, dtable_uuid, ids)
        yield from (rows[i] for i in ids if i in rows)
        if len(batch) < BATCH_ROWS:
            return
        after = (int(batch[-1].seq), batch[-1].row_id)


@contextmanager
def _index_ranges_only(conn: Connection) -> Iterator[None]:
    """PostgreSQL: no sequential scans and no parallel workers for a query built of small index
    ranges. Its planner assumes ``column_key``, ``kind`` and ``num`` independent (other
    columns' keys all have num 0 and another kind), overestimates a range 20-fold and would scan
    the whole of row_keys, or start workers that cost more than the query."""
    if conn.dialect.name != "postgresql":
        yield
        return
    names = ("enable_seqscan", "max_parallel_workers_per_gather")
    before = conn.exec_driver_sql("SELECT " + ", ".join(f"current_setting('{n}')" for n in names)).one()
    _set_local(conn, names, ("off", "0"))
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


def _rows_by_id(conn: Connection, dtable_uuid: str, ids: list[str]) -> dict[str, StoredRow]:
    """Rows by primary key (the planner must not scan the table's seq index for them)."""
    r = schema.rows
    found: dict[str, StoredRow] = {}
    for i in range(0, len(ids), 500):
        query = select(r).where(r.c.dtable_uuid == dtable_uuid, r.c.row_id.in_(ids[i : i + 500]))
        found.update((m["row_id"], _row(m)) for m in conn.execute(query).mappings())
    return found


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
    where = [*_where_keys(dtable_uuid, table_id), k.c.column_key == column_key]
    query = (
        select(k.c.row_id, k.c.kind, k.c.num, k.c.head)
        .where(*where)
        .order_by(*_key_order(descending))
        .offset(offset)
        .limit(limit)
    )
    page = [(m.row_id, m.kind, m.num, bytes(m.head)) for m in conn.execute(query)]
    ids = _order_split_keys(conn, where, page, descending=descending, offset=offset)
    found = _rows_by_id(conn, dtable_uuid, ids)
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
        .where(*_where_table(dtable_uuid, table_id), missing_keys(column_key))
        .order_by(r.c.seq, r.c.row_id)
        .offset(offset)
        .limit(limit)
    )
    return [_row(m) for m in conn.execute(query).mappings()]
