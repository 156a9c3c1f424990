"""Prepared statements: a SQLAlchemy Core statement compiled once per dialect and run on a raw
DBAPI cursor, for the hot paths where SQLAlchemy's per-call work (building, compiling, result
wrapping: ~100 µs) costs more than the query itself (~10 µs on SQLite).

The statement is still written with Core against ``db.schema``, so the schema stays the one
source. ``RawTx`` runs them inside a transaction a SQLAlchemy ``Connection`` has begun (same
DBAPI connection, same transaction), so hot and ordinary statements can mix in one commit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

T = TypeVar("T")


@dataclass(frozen=True)
class Compiled:
    sql: str
    #: Parameter names in placeholder order (qmark style); empty for named styles (psycopg).
    positions: tuple[str, ...]


class Prepared:
    """One statement; ``execute`` binds ``values`` by name."""

    def __init__(self, stmt: ClauseElement) -> None:
        self.stmt = stmt
        self._compiled: dict[str, Compiled] = {}

    def compiled(self, dialect: Dialect) -> Compiled:
        done = self._compiled.get(dialect.name)
        if done is None:
            c = cast(SQLCompiler, self.stmt.compile(dialect=dialect))
            done = Compiled(c.string, tuple(c.positiontup or ()))
            self._compiled[dialect.name] = done
        return done

    def execute(self, cursor: Any, dialect: Dialect, values: Mapping[str, Any]) -> Any:
        c = self.compiled(dialect)
        cursor.execute(c.sql, [values[n] for n in c.positions] if c.positions else dict(values))
        return cursor


class Lookup(Prepared, Generic[T]):
    """A SELECT of at most one row, turned into ``T`` by ``convert``."""

    def __init__(self, stmt: ClauseElement, convert: Callable[[Mapping[Any, Any]], T]) -> None:
        super().__init__(stmt)
        self.convert = convert

    def first(self, cursor: Any, dialect: Dialect, values: Mapping[str, Any]) -> T | None:
        row = self.execute(cursor, dialect, values).fetchone()
        if row is None:
            return None
        return self.convert({d[0]: v for d, v in zip(cursor.description, row, strict=True)})


class RawTx:
    """Prepared statements inside the transaction ``conn`` has begun."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        self._cursor = dbapi.cursor()

    def first(self, lookup: Lookup[T], **values: Any) -> T | None:
        return lookup.first(self._cursor, self.dialect, values)

    def execute(self, prepared: Prepared, **values: Any) -> int:
        """Run a write; the number of rows it changed."""
        return int(prepared.execute(self._cursor, self.dialect, values).rowcount)

    def returning(self, prepared: Prepared, **values: Any) -> Any:
        """Run an INSERT ... RETURNING of one column; the value it returned."""
        row = prepared.execute(self._cursor, self.dialect, values).fetchone()
        assert row is not None
        return row[0]

    def close(self) -> None:
        self._cursor.close()
