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

from sqlalchemy import Connection, RowMapping, bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from atoll.db import schema

#: Version of a base that has never been written (SeaTable: 1 after creation).
INITIAL_DOC_VERSION = 1
#: Gap between the ``seq`` of consecutive appended rows, leaving room for inserts.
SEQ_STEP = 1024


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


def _dumps(value: Any) -> str:
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
                        doc=_dumps({"tables": []}),
                    )
                )
        except IntegrityError:  # created by a concurrent first write
            pass
        found = conn.execute(query).mappings().first()
        assert found is not None
    return StoredDoc(int(found["version"]), json.loads(found["doc"]))


def save_doc(conn: Connection, dtable_uuid: str, stored: StoredDoc) -> None:
    """Write a document obtained from ``lock_doc`` with ``stored.version`` (the caller bumps it)."""
    t = schema.dtable_docs
    conn.execute(
        update(t).where(t.c.dtable_uuid == dtable_uuid).values(version=stored.version, doc=_dumps(stored.doc))
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


def iter_rows(conn: Connection, dtable_uuid: str, table_id: str) -> Iterator[StoredRow]:
    """Every row of a table in order (for sorting, filtering and column clean-up)."""
    r = schema.rows
    query = select(r).where(*_where_table(dtable_uuid, table_id)).order_by(r.c.seq, r.c.row_id)
    for m in conn.execute(query).mappings():
        yield _row(m)


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
    conn.execute(statement, [{"b_row_id": row_id, "b_seq": i * SEQ_STEP} for i, row_id in enumerate(ids, 1)])


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
                "data": _dumps(row.data),
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
                "b_data": _dumps(row.data),
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
    return count


def delete_table_rows(conn: Connection, dtable_uuid: str, table_id: str) -> None:
    conn.execute(delete(schema.rows).where(*_where_table(dtable_uuid, table_id)))
