"""Content-addressed blobs with reference counts (table ``blobs``; docs/storage.md).

The only two ways to change a blob's references, each inside the caller's transaction:

* ``add_ref(conn, key, sha256, size, now)``: one more reference to the content (sha256, size).
  If a blob of that content exists, its count grows and ITS key is returned: the caller points
  at it and deletes the bytes it wrote under ``key`` after the commit. Otherwise ``key`` is
  recorded with one reference and returned.
* ``drop_ref(conn, key)``: one reference less; True when that was the last one (the row is gone
  and the caller deletes the bytes after the commit).

Both are single atomic statements (an upsert; a conditional update and delete), so concurrent
writers in any number of processes keep the counts right on SQLite (writers are serialised) and
PostgreSQL (the unique (sha256, size) index arbitrates inserts; row locks order the updates).
Neither looks at ``assets``: anything that holds a blob (assets, a trash) calls them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, delete, literal_column, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import ColumnClause

from atoll.db import schema
from atoll.db.prepared import Prepared

_b = schema.blobs
_ONE: ColumnClause[int] = literal_column("1")  # inline: prepared statements bind only named parameters


def _upsert(insert: Any) -> Prepared:
    stmt = insert(_b).values(
        key=bindparam("key"), sha256=bindparam("sha256"), size=bindparam("size"), refs=_ONE,
        created_at=bindparam("now"),
    )  # fmt: skip
    stmt = stmt.on_conflict_do_update(
        index_elements=[_b.c.sha256, _b.c.size], set_={"refs": _b.c.refs + _ONE}
    )
    return Prepared(stmt.returning(_b.c.key))


_ADD = {"sqlite": _upsert(sqlite.insert), "postgresql": _upsert(postgresql.insert)}
_DROP = Prepared(
    update(_b).where(_b.c.key == bindparam("key")).values(refs=_b.c.refs - _ONE).returning(_b.c.refs)
)
_REMOVE = Prepared(delete(_b).where(_b.c.key == bindparam("key"), _b.c.refs <= literal_column("0")))


def add_ref(conn: Connection, key: str, sha256: str, size: int, now: str) -> str:
    """Reference the content (sha256, size), offered under ``key``; the key to point at."""
    cursor = _cursor(conn)
    try:
        values = {"key": key, "sha256": sha256, "size": size, "now": now}
        _ADD[conn.dialect.name].execute(cursor, conn.dialect, values)
        row = cursor.fetchone()
        assert row is not None
        return str(row[0])
    finally:
        cursor.close()


def drop_ref(conn: Connection, key: str) -> bool:
    """One reference less to blob ``key``; True when no reference is left (the row is deleted and
    the bytes may go once the transaction commits). An unknown key is False: bytes that no row
    accounts for are left to ``atoll gc``."""
    cursor = _cursor(conn)
    try:
        row = _DROP.execute(cursor, conn.dialect, {"key": key}).fetchone()
        if row is None or int(row[0]) > 0:
            return False
        _REMOVE.execute(cursor, conn.dialect, {"key": key})
        return True
    finally:
        cursor.close()


def _cursor(conn: Connection) -> Any:
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    return dbapi.cursor()
