"""Sorting rows by a column and the simple filters of ``filtered-rows/``.

Values are compared as the client sees them (select option names, stored dates). Empty cells
(null, "", []) sort last in both directions; text compares case-insensitively.

Supported predicates: ``is``, ``is not``, ``contains``, ``does not contain``, ``is empty``,
``is not empty``, ``=``, ``≠``/``!=``, ``<``, ``<=``, ``>``, ``>=``, ``is any of``,
``is none of``, ``has any of``, ``has all of``, ``has none of``, ``is before``, ``is after``,
``is on or before``, ``is on or after``. Others are refused with 400.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from atoll.db.rows import StoredRow
from atoll.errors import InvalidInput, NotFound
from atoll.services.cells import Columns
from atoll.wire.rows import cell_value


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, (int, float)):
        return (0, float(value))
    if isinstance(value, str):
        return (1, (value.casefold(), value))
    if isinstance(value, list):
        return (1, (", ".join(str(v) for v in value).casefold(), ""))
    return (2, json.dumps(value, sort_keys=True, default=str))


def sort_rows(rows: Sequence[StoredRow], column: dict[str, Any], *, descending: bool) -> list[StoredRow]:
    """Rows ordered by ``column``; ties keep table order; empty cells last."""
    keyed = [(cell_value(column, r, gateway=False), r) for r in rows]
    full = [(v, r) for v, r in keyed if not is_empty(v)]
    blank = [r for v, r in keyed if is_empty(v)]
    full.sort(key=lambda pair: sort_key(pair[0]), reverse=descending)
    return [r for _, r in full] + blank


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _compare(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def check(value: Any, term: Any) -> bool:
        a, b = _number(value), _number(term)
        if a is not None and b is not None:
            return op(a, b)
        if is_empty(value):
            return False
        return op(_text(value), _text(term))

    return check


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _is(value: Any, term: Any) -> bool:
    if isinstance(value, bool) or isinstance(term, bool):
        return bool(value) == bool(term)
    a, b = _number(value), _number(term)
    if a is not None and b is not None:
        return a == b
    return _text(value) == _text(term)


_PREDICATES: dict[str, Callable[[Any, Any], bool]] = {
    "is": _is,
    "is not": lambda v, t: not _is(v, t),
    "=": _is,
    "≠": lambda v, t: not _is(v, t),
    "!=": lambda v, t: not _is(v, t),
    "contains": lambda v, t: _text(t).casefold() in _text(v).casefold(),
    "does not contain": lambda v, t: _text(t).casefold() not in _text(v).casefold(),
    "is empty": lambda v, t: is_empty(v),
    "is not empty": lambda v, t: not is_empty(v),
    "<": _compare(lambda a, b: a < b),
    "<=": _compare(lambda a, b: a <= b),
    ">": _compare(lambda a, b: a > b),
    ">=": _compare(lambda a, b: a >= b),
    "is before": _compare(lambda a, b: a < b),
    "is after": _compare(lambda a, b: a > b),
    "is on or before": _compare(lambda a, b: a <= b),
    "is on or after": _compare(lambda a, b: a >= b),
    "is any of": lambda v, t: any(x in _as_list(t) for x in _as_list(v)),
    "is none of": lambda v, t: not any(x in _as_list(t) for x in _as_list(v)),
    "has any of": lambda v, t: any(x in _as_list(v) for x in _as_list(t)),
    "has all of": lambda v, t: all(x in _as_list(v) for x in _as_list(t)),
    "has none of": lambda v, t: not any(x in _as_list(v) for x in _as_list(t)),
}


def check_filters(columns: Columns, filters: Sequence[dict[str, Any]]) -> None:
    """404 for an unknown column, 400 for an unsupported predicate."""
    for f in filters:
        if columns.find(f.get("column_name")) is None:
            raise NotFound(f"column {f.get('column_name')} not found")
        if str(f.get("filter_predicate")) not in _PREDICATES:
            raise InvalidInput(f"filter_predicate {f.get('filter_predicate')} is not supported.")


def row_matches(row: StoredRow, columns: Columns, filters: Sequence[dict[str, Any]], *, any_of: bool) -> bool:
    results = []
    for f in filters:
        column = columns.find(f.get("column_name"))
        predicate = _PREDICATES.get(str(f.get("filter_predicate")))
        if column is None or predicate is None:
            raise InvalidInput(f"filter_predicate {f.get('filter_predicate')} is not supported.")
        results.append(predicate(cell_value(column, row, gateway=False), f.get("filter_term")))
    if not results:
        return True
    return any(results) if any_of else all(results)
