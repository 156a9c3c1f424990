"""Which SQL WHERE and view filter conditions the cells' sort keys can narrow (``db.narrowing``).

Every row write keeps ``row_keys`` in step with the row (``services.rowkeys``): a key per
non-empty cell, the sort key of the value the client sees -- kind 0 with ``num`` for a number
(also a boolean), kind 1 with the encoded text for a string. A condition the database
evaluates over a cell's JSON (``db.cellsql``) is narrowed only where the keys describe that
value exactly:

- number, rate, duration and number formula columns: the SQL value is the stored JSON number,
  whose key is kind 0 with that number as a float. ``=``, ``<``, ``<=``, ``>``, ``>=``,
  ``BETWEEN`` and ``IN`` against constants narrow to a range (always with inclusive bounds:
  float rounding of a large integer keeps ``<=`` but not ``<``) or a set of numbers;
- text, long-text, email, url, date, auto-number, string/date formula and single-select columns
  (select: only when every option has a string id, unique, and a non-empty string name, so that
  the name SQL compares is the one the key holds): ``=`` and ``IN`` against non-empty constants
  narrow to those exact text keys;
- those columns: ``IS NOT NULL`` / "is not empty" narrows to the rows with a key.

Under AND any narrowed part narrows; under OR only when every part does; NOT never. Links,
lookups, clock-dependent formulas, checkboxes, lists and system fields are never narrowed.
The original condition is always evaluated too, so narrowing can never change an answer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection

from atoll.db import narrowing as n
from atoll.db.rows import where_table
from atoll.services.cells import Columns
from atoll.services.rowkeys import _text_key

NUMBER_TYPES = frozenset({"number", "rate", "duration"})
TEXT_TYPES = frozenset({"text", "long-text", "email", "url", "date", "auto-number"})
#: Formula result types whose stored value is compared as a number / as text.
_FORMULA_KINDS = {"number": "number", "string": "text", "date": "text"}

#: Whether narrowing is on (tests turn it off to compare answers with and without).
ENABLED = True


def table_where(
    conn: Connection, narrow: n.Narrow | None, dtable_uuid: str, table_id: str, *, page: int | None
) -> list[ColumnElement[bool]]:
    """The conditions picking the table's rows: narrowed to the candidates of ``narrow`` when
    that pays (``db.narrowing.table_where``), else the whole table. ``page``: LIMIT + OFFSET of
    a query in table order (None: sorted or grouped, every match is evaluated)."""
    if narrow is not None and ENABLED:
        found = n.table_where(conn, narrow, dtable_uuid, table_id, page=page)
        if found is not None:
            return found
    return where_table(dtable_uuid, table_id)


def kind(column: dict[str, Any] | None) -> str | None:
    """``number`` / ``text`` when the keys of ``column`` describe its SQL value exactly, else None."""
    if column is None:
        return None
    ctype = column.get("type")
    if ctype in NUMBER_TYPES:
        return "number"
    if ctype in TEXT_TYPES:
        return "text"
    if ctype == "single-select":
        return "text" if _plain_options(column) else None
    if ctype == "formula":
        data = column.get("data")
        result = data.get("result_type") if isinstance(data, dict) else None
        return _FORMULA_KINDS.get(str(result or "string"))
    return None


def _plain_options(column: dict[str, Any]) -> bool:
    data = column.get("data")
    options = (data.get("options") if isinstance(data, dict) else None) or []
    if not isinstance(options, list):
        return False
    ids = [o.get("id") if isinstance(o, dict) else None for o in options]
    names = [o.get("name") if isinstance(o, dict) else None for o in options]
    return (
        all(isinstance(i, str) for i in ids)
        and len(set(ids)) == len(ids)
        and all(isinstance(x, str) and x != "" for x in names)
    )


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def compare(column: dict[str, Any] | None, op: str, value: Any) -> n.Narrow | None:
    """``cell <op> value`` (``op``: ``=``, ``<``, ``<=``, ``>``, ``>=``; ``value`` already
    coerced to the column's kind)."""
    what = kind(column)
    if column is None or what is None:
        return None
    if what == "number":
        number = _finite(value)
        if number is None:
            return None
        low = number if op in ("=", ">", ">=") else None
        high = number if op in ("=", "<", "<=") else None
        return n.Keys(column["key"], low=low, high=high)
    if op != "=" or not isinstance(value, str) or value == "":
        return None
    return n.Keys(column["key"], texts=(_text_key(value, joined=False),))


def between(column: dict[str, Any] | None, low: Any, high: Any) -> n.Narrow | None:
    if kind(column) != "number" or column is None:
        return None
    a, b = _finite(low), _finite(high)
    if a is None or b is None:
        return None
    return n.Keys(column["key"], low=a, high=b)


def one_of(column: dict[str, Any] | None, values: Sequence[Any]) -> n.Narrow | None:
    """``cell IN (values)`` (coerced to the column's kind)."""
    what = kind(column)
    if column is None or what is None or not values:
        return None
    if what == "number":
        numbers = [_finite(v) for v in values]
        if any(x is None for x in numbers):
            return None
        return n.Keys(column["key"], nums=tuple(x for x in numbers if x is not None))
    if not all(isinstance(v, str) and v != "" for v in values):
        return None
    return n.Keys(column["key"], texts=tuple(_text_key(v, joined=False) for v in values))


def not_empty(column: dict[str, Any] | None) -> n.Narrow | None:
    """``cell IS NOT NULL``: the cell has a key."""
    if column is None or kind(column) is None:
        return None
    return n.Keys(column["key"])


# ---- view filters ----------------------------------------------------------------------------

_VIEW_NUMBER_OPS = {"=": "=", "is": "=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def _view_term_number(term: Any) -> float | None:
    if isinstance(term, bool) or term is None:
        return None
    try:
        return _finite(float(str(term).strip()))
    except ValueError:
        return None


def _empty_term(term: Any) -> bool:
    return term is None or term == "" or term == []


def view_filter(column: dict[str, Any], f: dict[str, Any]) -> n.Narrow | None:
    """A superset of the rows one view filter (``services.sql.viewfilters``) keeps."""
    predicate = str(f.get("filter_predicate"))
    term = f.get("filter_term")
    what = kind(column)
    if what is None:
        return None
    if predicate == "is not empty":
        return not_empty(column)
    ctype = column.get("type")
    if ctype == "date" or (ctype == "formula" and (column.get("data") or {}).get("result_type") == "date"):
        return None  # compared by day and modifiers
    if _empty_term(term):
        return None  # an empty term does not filter
    if what == "number":
        op = _VIEW_NUMBER_OPS.get(predicate)
        number = _view_term_number(term)
        return None if op is None or number is None else compare(column, op, number)
    if ctype == "single-select":
        if predicate not in ("is", "is any of"):
            return None
        data = column.get("data") or {}
        by_id = {str(o.get("id")): str(o.get("name")) for o in data.get("options") or []}
        terms = term if isinstance(term, list) else [term]
        return one_of(column, [by_id.get(str(t), str(t)) for t in terms])
    if predicate != "is":
        return None
    return compare(column, "=", str(term))


def view_filters(columns: Columns, filters: Sequence[dict[str, Any]], conjunction: object) -> n.Narrow | None:
    """A superset of the rows a view's filters keep (``filter_conjunction`` ``Or``: every filter
    must narrow). Filters naming no column narrow nothing (the view's own condition refuses them)."""
    found: list[n.Narrow | None] = []
    for f in filters:
        ref = f.get("column_key") if f.get("column_key") is not None else f.get("column_name")
        column = columns.by_key.get(ref) if isinstance(ref, str) and f.get("column_key") is not None else None
        column = column or columns.find(ref)
        found.append(None if column is None else view_filter(column, f))
    if not found:
        return None
    out = found[0]
    for part in found[1:]:
        out = n.either(out, part) if conjunction == "Or" else n.both(out, part)
    return out
