"""Queries for a base's structure document (tables, columns, views) and its rows.

The structure of a base is one JSON document in ``dtable_docs`` with a version; every row is one
record in ``rows`` whose ``data`` is a JSON object keyed by column key. Rows are ordered by ``seq``
within their table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    RowMapping,
    bindparam,
    delete,
    func,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError

from atoll.db import asset_refs, schema

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


def row_of(r: RowMapping) -> StoredRow:
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


def where_table(dtable_uuid: str, table_id: str) -> list[Any]:
    r = schema.rows
    return [r.c.dtable_uuid == dtable_uuid, r.c.table_id == table_id]


def get_row(conn: Connection, dtable_uuid: str, table_id: str, row_id: str) -> StoredRow | None:
    r = schema.rows
    query = select(r).where(*where_table(dtable_uuid, table_id), r.c.row_id == row_id)
    found = conn.execute(query).mappings().first()
    return row_of(found) if found else None


def get_rows(
    conn: Connection, dtable_uuid: str, table_id: str, row_ids: Iterable[str]
) -> dict[str, StoredRow]:
    r = schema.rows
    wanted = list(dict.fromkeys(row_ids))
    out: dict[str, StoredRow] = {}
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        query = select(r).where(*where_table(dtable_uuid, table_id), r.c.row_id.in_(chunk))
        for found in conn.execute(query).mappings():
            row = row_of(found)
            out[row.row_id] = row
    return out


def page_rows(conn: Connection, dtable_uuid: str, table_id: str, offset: int, limit: int) -> list[StoredRow]:
    """A page in table order: the ids by OFFSET on the covering index ``ix_rows_table_order``
    (skipping index entries, not rows with their JSON), then the rows by primary key."""
    r = schema.rows
    query = (
        select(r.c.row_id)
        .where(*where_table(dtable_uuid, table_id))
        .order_by(r.c.seq, r.c.row_id)
        .offset(offset)
        .limit(limit)
    )
    ids = list(conn.execute(query).scalars())
    found = rows_by_id(conn, dtable_uuid, ids)
    return [found[i] for i in ids if i in found]


def rows_by_id(conn: Connection, dtable_uuid: str, ids: list[str]) -> dict[str, StoredRow]:
    """Rows by primary key (the planner must not scan the table's seq index for them)."""
    r = schema.rows
    found: dict[str, StoredRow] = {}
    for i in range(0, len(ids), 500):
        query = select(r).where(r.c.dtable_uuid == dtable_uuid, r.c.row_id.in_(ids[i : i + 500]))
        found.update((m["row_id"], row_of(m)) for m in conn.execute(query).mappings())
    return found




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
    query = select(r).where(*where_table(dtable_uuid, table_id))
    if where is not None:
        query = query.where(where)
    if after is not None:
        query = query.where(tuple_(r.c.seq, r.c.row_id) > tuple_(*after))
    return [row_of(m) for m in conn.execute(query.order_by(r.c.seq, r.c.row_id).limit(limit)).mappings()]


def data_contains(needle: str) -> ColumnElement[bool]:
    """Rows whose stored JSON text contains ``needle`` (a superset for callers to check)."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return schema.rows.c.data.like(f"%{escaped}%", escape="\\")


def max_seq(conn: Connection, dtable_uuid: str, table_id: str) -> int:
    r = schema.rows
    found = conn.execute(select(func.max(r.c.seq)).where(*where_table(dtable_uuid, table_id)))
    value = found.scalar()
    return int(value) if value is not None else 0


def next_seq_after(conn: Connection, dtable_uuid: str, table_id: str, seq: int) -> int | None:
    """The smallest ``seq`` greater than ``seq`` in the table, if any."""
    r = schema.rows
    query = select(func.min(r.c.seq)).where(*where_table(dtable_uuid, table_id), r.c.seq > seq)
    value = conn.execute(query).scalar()
    return int(value) if value is not None else None


def renumber(conn: Connection, dtable_uuid: str, table_id: str) -> None:
    """Re-space the table's ``seq`` values by SEQ_STEP, keeping their order."""
    r = schema.rows
    query = select(r.c.row_id).where(*where_table(dtable_uuid, table_id)).order_by(r.c.seq, r.c.row_id)
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
        result = conn.execute(delete(r).where(*where_table(dtable_uuid, table_id), r.c.row_id.in_(chunk)))
        count += result.rowcount
    delete_keys(conn, dtable_uuid, table_id, row_ids=wanted)
    asset_refs.delete_rows(conn, dtable_uuid, table_id, wanted)
    return count


def delete_table_rows(conn: Connection, dtable_uuid: str, table_id: str) -> None:
    conn.execute(delete(schema.rows).where(*where_table(dtable_uuid, table_id)))
    delete_keys(conn, dtable_uuid, table_id)
    asset_refs.delete_table(conn, dtable_uuid, table_id)


# ---- sort keys -----------------------------------------------------------------------------


def where_keys(dtable_uuid: str, table_id: str) -> list[ColumnElement[bool]]:
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
    where = where_keys(dtable_uuid, table_id)
    if column_key is not None:
        where.append(k.c.column_key == column_key)
    if row_ids is None:
        conn.execute(delete(k).where(*where))
        return
    wanted = list(dict.fromkeys(row_ids))
    for i in range(0, len(wanted), 500):
        conn.execute(delete(k).where(*where, k.c.row_id.in_(wanted[i : i + 500])))
