"""The SQL expression of a cell or system field of ``rows``, per column type and dialect.

Cells live in ``rows.data``, JSON text keyed by column key. This module turns one column into a
typed SQLAlchemy expression the database evaluates (SQLite ``json_extract``, PostgreSQL
``jsonb`` operators), so that SQL queries and view filters filter, group and sort in the
database. Column keys, option ids and names are always bound parameters, never SQL text.

Kinds: ``number`` (a float/int or NULL), ``text`` (a string or NULL; single-select shows the
option name), ``bool`` (1 or 0; an unset checkbox is 0). Columns of other types (lists,
objects, links) have no comparable value here: ``typed`` raises ``Unsupported`` for them; only
their emptiness (``is_empty``) can be tested.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from atoll.db import schema

NUMBER_TYPES = frozenset({"number", "rate", "duration"})
TEXT_TYPES = frozenset({"text", "long-text", "email", "url", "date", "auto-number", "single-select"})
BOOL_TYPES = frozenset({"checkbox"})
#: Column types that show a system field of the row, and the ``rows`` column holding it.
SYSTEM_TYPES = {"ctime": "ctime", "mtime": "mtime", "creator": "creator", "last-modifier": "last_modifier"}
#: SQL names of the system fields (``_id`` ...) and their ``rows`` column.
SYSTEM_NAMES = {
    "_id": "row_id",
    "_ctime": "ctime",
    "_mtime": "mtime",
    "_creator": "creator",
    "_last_modifier": "last_modifier",
}


class Unsupported(Exception):
    """A column whose cells the database cannot compare (the message names it)."""


@dataclass(frozen=True)
class Typed:
    expr: ColumnElement[Any]
    kind: str  # "number" | "text" | "bool"
    #: The table column whose stored cell this is (None: a system field or a computed value).
    column: dict[str, Any] | None = field(default=None, compare=False, hash=False)


def kind_of(column: dict[str, Any]) -> str | None:
    ctype = str(column.get("type"))
    if ctype in NUMBER_TYPES:
        return "number"
    if ctype in TEXT_TYPES or ctype in SYSTEM_TYPES:
        return "text"
    if ctype in BOOL_TYPES:
        return "bool"
    if ctype == "formula":
        result = str((column.get("data") or {}).get("result_type") or "string")
        return {"number": "number", "bool": "bool", "string": "text", "date": "text"}.get(result)
    return None


class CellSql:
    """Expressions over ``schema.rows`` for one dialect (``sqlite`` or ``postgresql``)."""

    def __init__(self, dialect: str) -> None:
        self.pg = dialect == "postgresql"

    # raw JSON access ---------------------------------------------------------------------

    def _jsonb(self, key: str) -> Any:
        return cast(schema.rows.c.data, JSONB)[key]

    def _path(self, key: str) -> str:
        return '$."' + key.replace('"', '\\"') + '"'

    def json_type(self, key: str) -> ColumnElement[Any]:
        """``null`` (absent too), ``text``/``string``, ``integer``/``real``/``number``, ``array``..."""
        if self.pg:
            return func.coalesce(func.jsonb_typeof(self._jsonb(key)), "null")
        return func.coalesce(func.json_type(schema.rows.c.data, self._path(key)), "null")

    def text(self, key: str) -> ColumnElement[Any]:
        if self.pg:
            return case(
                (func.jsonb_typeof(self._jsonb(key)) == "string", self._jsonb(key).astext), else_=None
            )
        path = self._path(key)
        return case((func.json_type(schema.rows.c.data, path) == "text",
                     func.json_extract(schema.rows.c.data, path)), else_=None)  # fmt: skip

    def number(self, key: str) -> ColumnElement[Any]:
        if self.pg:
            return case(
                (func.jsonb_typeof(self._jsonb(key)) == "number", cast(self._jsonb(key).astext, Float)),
                else_=None,
            )
        path = self._path(key)
        return case(
            (func.json_type(schema.rows.c.data, path).in_(["integer", "real"]),
             func.json_extract(schema.rows.c.data, path)),
            else_=None,
        )  # fmt: skip

    def boolean(self, key: str) -> ColumnElement[Any]:
        """1 for true, else 0: an unset checkbox is unchecked (an integer on both backends)."""
        if self.pg:
            j = self._jsonb(key)
            checked = and_(func.jsonb_typeof(j) == "boolean", j.astext == "true")
            return case((checked, literal(1)), else_=literal(0))
        return case((self.json_type(key) == "true", literal(1)), else_=literal(0))

    # typed cells -------------------------------------------------------------------------

    def typed(self, column: dict[str, Any]) -> Typed:
        """The value the client sees, as the database compares it."""
        ctype = str(column.get("type"))
        if ctype in SYSTEM_TYPES:
            return Typed(schema.rows.c[SYSTEM_TYPES[ctype]], "text")
        kind = kind_of(column)
        key = str(column["key"])
        if kind == "number":
            return Typed(self.number(key), "number", column)
        if kind == "bool":
            return Typed(self.boolean(key), "bool", column)
        if kind == "text":
            raw = self.text(key)
            if ctype == "single-select":
                names = {
                    str(o.get("id")): str(o.get("name"))
                    for o in (column.get("data") or {}).get("options") or []
                    if o.get("id") is not None
                }
                if names:
                    return Typed(case(names, value=raw, else_=raw), "text", column)
            return Typed(raw, "text", column)
        raise Unsupported(f"column {column.get('name')} ({ctype}) can not be compared in SQL")

    def system(self, name: str) -> Typed:
        return Typed(schema.rows.c[SYSTEM_NAMES[name]], "text")

    def is_empty(self, column: dict[str, Any]) -> ColumnElement[bool]:
        """The cell is unset, ``""`` or ``[]`` (system fields are never empty)."""
        ctype = str(column.get("type"))
        if ctype in SYSTEM_TYPES:
            return false()
        key = str(column["key"])
        t = self.json_type(key)
        if self.pg:
            j = self._jsonb(key)
            return or_(t == "null", and_(t == "string", j.astext == ""),
                       and_(t == "array", func.jsonb_array_length(j) == 0))  # fmt: skip
        path = self._path(key)
        return or_(
            t == "null",
            and_(t == "text", func.json_extract(schema.rows.c.data, path) == ""),
            and_(t == "array", func.json_array_length(schema.rows.c.data, path) == 0),
        )

    def array_has(self, column: dict[str, Any], values: list[str]) -> ColumnElement[bool]:
        """A list cell (multiple-select ids, collaborators) holds one of ``values`` (bound)."""
        key = str(column["key"])
        if self.pg:
            has = and_(
                func.jsonb_typeof(self._jsonb(key)) == "array",
                self._jsonb(key).has_any(cast(values, ARRAY(String))),
            )
            return func.coalesce(has, false())  # an absent cell holds nothing (never NULL)
        each = func.json_each(schema.rows.c.data, self._path(key)).table_valued("value")
        return exists(select(literal(1)).select_from(each).where(each.c.value.in_(values)))

    def sortable(self, typed: Typed) -> ColumnElement[Any]:
        """Text in code point order on both backends (PostgreSQL's database collation may differ)."""
        if typed.kind == "text" and self.pg:
            return typed.expr.collate("C")
        return typed.expr
