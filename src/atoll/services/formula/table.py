"""A table's formula columns together: checked in dependency order, computed per row, and
recomputed over the whole table (in batches) when a formula column appears or changes.

Formulas without ``today()``/``now()`` are **stored**: their value sits in the row's ``data``
(and ``row_keys``) like any cell, recomputed at every write of the row, so sorting, filters and
SQL see them. Formulas that read the clock (and formulas reading those) are **volatile**:
never stored, computed each time a row is read (``fill_volatile``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from atoll.db import rows as q
from atoll.services.formula.compiler import (
    Compiled,
    FormulaRejected,
    compile_formula,
    input_value,
    result_cell,
)
from atoll.services.formula.syntax import FormulaSyntaxError, Node, Ref, parse
from atoll.services.formula.values import Value

#: The cell a formula shows when it no longer compiles (a referenced column went away).
BROKEN = "#NAME?"


@dataclass(frozen=True)
class Entry:
    column: dict[str, Any]
    compiled: Compiled | None  # None: broken


def _refs(node: Node) -> Iterable[str]:
    if isinstance(node, Ref):
        yield node.name
    for child in getattr(node, "args", ()) or ():
        yield from _refs(child)
    for attr in ("operand", "left", "right"):
        child = getattr(node, attr, None)
        if child is not None:
            yield from _refs(child)


def referenced_names(column: dict[str, Any]) -> set[str]:
    """The names of the columns a formula column's formula reads (none when it does not parse)."""
    try:
        return set(_refs(parse(_formula_text(column))))
    except (FormulaSyntaxError, TypeError):
        return set()


def _formula_text(column: dict[str, Any]) -> Any:
    data = column.get("data")
    return data.get("formula") if isinstance(data, dict) else None


def compile_table(columns: list[dict[str, Any]], *, strict: bool) -> list[Entry]:
    """Every formula column of ``columns`` in an order where inputs come first.

    ``strict``: raise FormulaRejected for the first formula that cannot be evaluated (creation
    and change of a formula); else such a column is kept as broken (shows ``#NAME?``)."""
    by_name = {c["name"]: c for c in columns}
    formulas = [c for c in columns if c.get("type") == "formula"]
    deps: dict[str, set[str]] = {}
    for column in formulas:
        refs = referenced_names(column)
        deps[column["name"]] = {r for r in refs if by_name.get(r, {}).get("type") == "formula"}
    order: list[dict[str, Any]] = []
    done: set[str] = set()
    pending = list(formulas)
    while pending:
        ready = [c for c in pending if deps[c["name"]] <= done]
        if not ready:
            if strict:
                names = ", ".join(sorted(c["name"] for c in pending))
                raise FormulaRejected(f"formulas of columns {names} reference each other in a cycle")
            order.extend(pending)
            break
        for column in ready:
            order.append(column)
            done.add(column["name"])
        pending = [c for c in pending if c["name"] not in done]
    types: dict[str, str] = {}
    entries: list[Entry] = []
    for column in order:
        try:
            compiled = compile_formula(_formula_text(column), by_name, types)
        except FormulaRejected:
            if strict:
                raise
            entries.append(Entry(column, None))
            continue
        types[column["name"]] = compiled.result_type
        if any(
            e.compiled is None or e.compiled.volatile for e in entries if e.column["name"] in compiled.refs
        ):
            compiled = Compiled(compiled.tree, compiled.result_type, compiled.refs, True)
        entries.append(Entry(column, compiled))
    return entries


class Plan:
    """How to compute a table's formula cells."""

    def __init__(self, table: dict[str, Any]) -> None:
        self.by_name = {c["name"]: c for c in table["columns"]}
        self.entries = compile_table(table["columns"], strict=False)
        self.types = {e.column["name"]: e.compiled.result_type for e in self.entries if e.compiled}
        self.stored = [e for e in self.entries if e.compiled is None or not e.compiled.volatile]
        self.volatile = [e for e in self.entries if e.compiled is not None and e.compiled.volatile]

    def __bool__(self) -> bool:
        return bool(self.entries)

    def _compute(self, entries: list[Entry], data: dict[str, Any]) -> None:
        def lookup(name: str) -> Value:
            column = self.by_name[name]
            return input_value(column, data.get(column["key"]), self.types.get(name))

        for entry in entries:
            key = entry.column["key"]
            value = BROKEN if entry.compiled is None else result_cell(entry.compiled, lookup)
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value

    def apply(self, data: dict[str, Any]) -> None:
        """Set the stored formula cells of one row's ``data`` (in place); clock-dependent
        formula cells are never stored."""
        for entry in self.volatile:
            data.pop(entry.column["key"], None)
        self._compute(self.stored, data)

    def fill_volatile(self, rows: Iterable[q.StoredRow]) -> None:
        """Set the clock-dependent formula cells of rows about to be returned (in place)."""
        if self.volatile:
            for row in rows:
                self._compute(self.volatile, row.data)


def plan(table: dict[str, Any]) -> Plan:
    return Plan(table)


def is_volatile(table: dict[str, Any], column: dict[str, Any]) -> bool:
    """Whether ``column`` is a formula computed at read time (no stored value, no sort key)."""
    if column.get("type") != "formula":
        return False
    return any(e.column is column for e in Plan(table).volatile)


def recompute_table(conn: Connection, dtable_uuid: str, table: dict[str, Any]) -> int:
    """Recompute every stored formula cell of the table, BATCH_ROWS rows at a time (in the
    caller's write transaction), then the sort keys of the formula columns whose cells changed
    (one pass per column). Returns how many rows changed. ``mtime`` stays: a recomputation is
    not an edit."""
    from atoll.services import rowkeys  # rowkeys imports cells; keep this module light

    formulas = Plan(table)
    count = 0
    touched: set[str] = set()
    after: tuple[int, str] | None = None
    while True:
        batch = q.rows_after(conn, dtable_uuid, table["_id"], after, q.BATCH_ROWS)
        changed: list[q.StoredRow] = []
        for row in batch:
            data = dict(row.data)
            formulas.apply(data)
            if data != row.data:
                touched.update(k for k in data.keys() | row.data.keys() if data.get(k) != row.data.get(k))
                changed.append(q.StoredRow(row.row_id, row.table_id, row.seq, row.ctime, row.mtime,
                                           row.creator, row.last_modifier, data))  # fmt: skip
        q.update_rows(conn, dtable_uuid, changed)
        count += len(changed)
        if len(batch) < q.BATCH_ROWS:
            break
        after = (batch[-1].seq, batch[-1].row_id)
    for column in table["columns"]:
        if column["key"] in touched:
            rowkeys.refresh_column(conn, dtable_uuid, table, column)
    return count
