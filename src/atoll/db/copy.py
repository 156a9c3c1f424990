"""Copy the metadata from one database to another (SQLite <-> PostgreSQL), resumably.

Tables go in dependency order (``schema.metadata.sorted_tables``), read as one streamed query
per table and written in batches, each batch its own transaction on the target. A re-run inserts
only rows whose primary key the target lacks; a target row with the same key must be identical.
``schema_version`` is not copied: the target reaches the same version through ``migrate``.

Rows are compared and digested in primary-key order with byte-wise collation on both engines
(PostgreSQL's default collation follows the locale; SQLite's is binary).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Engine,
    Row,
    String,
    Table,
    Text,
    and_,
    func,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError

from atoll.db import schema
from atoll.db.migrations import LATEST, current_version, migrate
from atoll.errors import AtollError

#: Rows read, looked up on the target and inserted per step (one target transaction each).
COPY_BATCH_ROWS = 1000
#: Rows fetched per round trip while digesting or scanning for foreign rows.
SCAN_BATCH_ROWS = 5000
#: Keys named in an error message at most.
MAX_KEYS_SHOWN = 5
#: Tables that describe the database itself rather than the installation's data.
NOT_COPIED = frozenset({schema.schema_version.name})

Progress = Callable[[str, int, int], None]
"""Called as (table, rows done so far, rows in the source table) after each batch."""


class CopyRefused(AtollError):
    """The copy cannot go ahead; nothing more was written."""


@dataclass(frozen=True)
class TableCopied:
    table: str
    source_rows: int
    inserted: int
    #: Rows the target already held, identical (from an earlier, interrupted run).
    already: int


@dataclass(frozen=True)
class TableCheck:
    table: str
    source_rows: int
    target_rows: int
    source_digest: str
    target_digest: str

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_digest == self.target_digest


def data_tables() -> list[Table]:
    """Every table holding installation data, parents before children."""
    return [t for t in schema.metadata.sorted_tables if t.name not in NOT_COPIED]


def prepare(source: Engine, target: Engine) -> tuple[int, int]:
    """Check the source is at the code's version and bring the target to it: an empty target
    gets the schema; one at another version is left untouched and refused. Return (version
    before, version after) of the target."""
    with source.connect() as conn:
        found = current_version(conn)
    if found != LATEST:
        raise CopyRefused(
            f"the source database is at schema version {found}, this atoll expects {LATEST}: "
            "run `atoll db upgrade` on it first"
        )
    with target.connect() as conn:
        before = current_version(conn)
    if before not in (0, LATEST):  # an earlier run of this command leaves it at LATEST
        raise CopyRefused(
            f"the target database already has a schema (version {before}; this atoll's is {LATEST}): "
            "it is not empty and not from an earlier run of this command. Use an empty database"
        )
    migrate(target)
    with target.connect() as conn:
        return before, current_version(conn)


def _pk(table: Table) -> list[Column[Any]]:
    return list(table.primary_key.columns)


def _ordered(table: Table, conn: Connection) -> list[ColumnElement[Any]]:
    """ORDER BY the primary key, comparing strings byte-wise on every engine."""
    pg = conn.dialect.name == "postgresql"
    return [c.collate("C") if pg and isinstance(c.type, String | Text) else c for c in _pk(table)]


def _key(table: Table, row: Row[Any]) -> tuple[Any, ...]:
    return tuple(getattr(row, c.name) for c in _pk(table))


def _stream(conn: Connection, table: Table, batch: int) -> Iterator[Sequence[Row[Any]]]:
    result = conn.execution_options(yield_per=batch).execute(
        select(table).order_by(*_ordered(table, conn))
    )
    yield from result.partitions(batch)


Key = tuple[Any, ...]


def _key_filter(table: Table, keys: Sequence[Key]) -> ColumnElement[bool]:
    """Rows whose every key column is among the batch's values: a superset of the batch's keys
    for composite keys (callers match exactly), but planned as index lookups on every engine,
    where a tuple IN of a thousand pairs is not on PostgreSQL."""
    return and_(*(c.in_(sorted({k[i] for k in keys})) for i, c in enumerate(_pk(table))))


def _existing(conn: Connection, table: Table, keys: Sequence[Key]) -> dict[Key, Row[Any]]:
    wanted = set(keys)
    found = conn.execute(select(table).where(_key_filter(table, keys)))
    return {key: row for row in found if (key := _key(table, row)) in wanted}


def _count(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _show(keys: Sequence[tuple[Any, ...]]) -> str:
    shown = ", ".join(repr(k[0] if len(k) == 1 else k) for k in keys[:MAX_KEYS_SHOWN])
    more = len(keys) - MAX_KEYS_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def check_not_foreign(source: Engine, target: Engine, *, batch: int = SCAN_BATCH_ROWS) -> None:
    """Refuse when the target holds rows the source lacks: it belongs to another installation
    (or the source lost data); copying into it would merge two installations."""
    with target.connect() as tconn, source.connect() as sconn:
        for table in data_tables():
            keys_q = select(*_pk(table)).order_by(*_ordered(table, tconn))
            result = tconn.execution_options(yield_per=batch).execute(keys_q)
            for part in result.partitions(batch):
                keys = [tuple(row) for row in part]
                query = select(*_pk(table)).where(_key_filter(table, keys))
                have = {tuple(r) for r in sconn.execute(query)}
                foreign = [k for k in keys if k not in have]
                if foreign:
                    raise CopyRefused(
                        f"the target database has rows the source lacks (table {table.name}: "
                        f"{_show(foreign)}); it looks like another installation's data. "
                        "Refusing to mix them: use an empty database as the target"
                    )


def copy_table(
    source: Connection, target: Engine, table: Table, *, batch: int = COPY_BATCH_ROWS,
    progress: Progress | None = None,
) -> TableCopied:
    """Copy one table. Rows already on the target (checked by ``check_not_foreign`` to all be
    in the source) are looked up only until each of them has been met: after that every batch
    is a plain insert, so a fresh copy never pays for lookups."""
    total = _count(source, table)
    with target.connect() as tconn:
        unmatched = _count(tconn, table)
    inserted = already = 0
    for part in _stream(source, table, batch):
        rows = {_key(table, row): row for row in part}
        try:
            with target.begin() as tconn:
                present = _existing(tconn, table, list(rows)) if unmatched else {}
                _refuse_differing(table, present, rows)
                missing = [row._asdict() for k, row in rows.items() if k not in present]
                if missing:
                    tconn.execute(table.insert(), missing)
        except IntegrityError as exc:
            raise CopyRefused(
                f"inserting into {table.name} on the target failed ({exc.orig}); is something "
                "else writing to the target? Stop it and run the command again"
            ) from None
        unmatched -= len(present)
        inserted += len(missing)
        already += len(present)
        if progress is not None:
            progress(table.name, inserted + already, total)
    return TableCopied(table.name, total, inserted, already)


def _refuse_differing(table: Table, present: dict[Key, Row[Any]], rows: dict[Key, Row[Any]]) -> None:
    differ = [k for k, row in present.items() if tuple(row) != tuple(rows[k])]
    if differ:
        raise CopyRefused(
            f"the target already has rows with the same key but other values (table "
            f"{table.name}: {_show(differ)}); it is not a copy of this source. Refusing "
            "to overwrite: use an empty database as the target"
        )


def copy_all(
    source: Engine, target: Engine, *, batch: int = COPY_BATCH_ROWS, progress: Progress | None = None,
) -> list[TableCopied]:
    """Copy every data table; return what each one took. Run ``prepare`` and
    ``check_not_foreign`` first, ``reset_sequences`` after."""
    done = []
    with source.connect() as sconn:
        for table in data_tables():
            done.append(copy_table(sconn, target, table, batch=batch, progress=progress))
    return done


def reset_sequences(target: Engine) -> list[str]:
    """PostgreSQL: move each serial column's sequence past the copied ids (explicit ids do not
    advance it, so the next insert would collide). Return the tables touched. SQLite needs
    nothing: an INTEGER PRIMARY KEY continues from max(rowid)."""
    if target.dialect.name != "postgresql":
        return []
    touched = []
    with target.begin() as conn:
        for table in schema.metadata.sorted_tables:
            column = table.autoincrement_column
            if column is None:
                continue
            seq = conn.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}
            ).scalar_one()
            if seq is None:
                continue
            top = conn.execute(select(func.max(column))).scalar_one()
            conn.execute(text("SELECT setval(:s, :v, false)"), {"s": seq, "v": int(top or 0) + 1})
            touched.append(table.name)
    return touched


def _value(value: Any) -> Any:
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)


def table_digest(conn: Connection, table: Table, *, batch: int = SCAN_BATCH_ROWS) -> tuple[int, str]:
    """(row count, SHA-256 over every row in primary-key order): equal on two engines exactly
    when they hold the same rows."""
    digest = hashlib.sha256()
    count = 0
    for part in _stream(conn, table, batch):
        for row in part:
            line = json.dumps([_value(v) for v in row], ensure_ascii=False, separators=(",", ":"))
            digest.update(line.encode())
            digest.update(b"\n")
            count += 1
    return count, digest.hexdigest()


def compare(source: Engine, target: Engine) -> list[TableCheck]:
    """Row counts and digests of every data table on both sides."""
    checks = []
    with source.connect() as sconn, target.connect() as tconn:
        for table in data_tables():
            s_rows, s_digest = table_digest(sconn, table)
            t_rows, t_digest = table_digest(tconn, table)
            checks.append(TableCheck(table.name, s_rows, t_rows, s_digest, t_digest))
    return checks
