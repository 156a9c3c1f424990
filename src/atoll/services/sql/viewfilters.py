"""A view's filters and sorts as SQL over ``rows`` (the same cell expressions as SQL's WHERE).

Filters are SeaTable's ``{column_key | column_name, filter_predicate, filter_term,
filter_term_modifier}`` joined by ``filter_conjunction`` (``And``/``Or``). A value predicate with
an empty term (``null``, ``""``, ``[]``) does not narrow, as in SeaTable's view editor. Negations
(``is not``, ``does not contain``, ``is none of``, ``has none of``) keep empty cells.

Predicates served, by column kind (docs/sql.md, "Views"):

- text, long-text, email, url, auto-number, text formulas: is, is not, contains, does not contain;
- number, rate, duration, number formulas: =, ≠, <, <=, >, >= (also spelled is / is not);
- date, ctime, mtime: is, is not, is before, is after, is on or before, is on or after, with
  ``filter_term_modifier`` exact_date, today, tomorrow, yesterday, one_week_ago,
  one_week_from_now, one_month_ago, one_month_from_now, number_of_days_ago,
  number_of_days_from_now (the term is then the number of days);
- checkbox: is (true/false; an unset cell is false);
- single-select: is, is not, is any of, is none of (terms are option ids or names);
- multiple-select: has any of, has all of, has none of (option ids or names);
- every column: is empty, is not empty.

Anything else is refused with a 400 naming the predicate and the column: a view is never shown
unfiltered.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, not_, or_, true

from atoll.db.cellsql import CellSql, Typed, Unsupported
from atoll.errors import InvalidInput, NotFound
from atoll.services.cells import Columns

DATE_TYPES = frozenset({"date", "ctime", "mtime"})
_DATE_COMPARE = {"is before": "<", "is after": ">", "is on or before": "<=", "is on or after": ">="}
_NUMBER_COMPARE = {"=": "==", "is": "==", "≠": "!=", "!=": "!=", "is not": "!=",
                   "<": "<", "<=": "<=", ">": ">", ">=": ">="}  # fmt: skip
_OPS: dict[str, Any] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_MODIFIER_DAYS = {"today": 0, "tomorrow": 1, "yesterday": -1, "one_week_ago": -7, "one_week_from_now": 7,
                  "one_month_ago": -30, "one_month_from_now": 30}  # fmt: skip


def _empty_term(term: Any) -> bool:
    return term is None or term == "" or term == []


def _label(column: dict[str, Any]) -> str:
    return f"column {column.get('name')} ({column.get('type')})"


def _refuse(predicate: Any, column: dict[str, Any]) -> InvalidInput:
    return InvalidInput(f"filter_predicate {predicate} is not supported for {_label(column)}.")


def find_filter_column(columns: Columns, f: dict[str, Any]) -> dict[str, Any]:
    ref = f.get("column_key") if f.get("column_key") is not None else f.get("column_name")
    column = columns.by_key.get(ref) if isinstance(ref, str) and f.get("column_key") is not None else None
    column = column or columns.find(ref)
    if column is None:
        raise NotFound(f"column {ref} not found")
    return column


def _options(column: dict[str, Any]) -> list[dict[str, Any]]:
    return list((column.get("data") or {}).get("options") or [])


def option_names(column: dict[str, Any], terms: list[Any]) -> list[str]:
    """Terms (option ids or names) as the names cells show."""
    by_id = {str(o.get("id")): str(o.get("name")) for o in _options(column)}
    return [by_id.get(str(t), str(t)) for t in terms]


def _option_ids(column: dict[str, Any], terms: list[Any]) -> list[str]:
    """Terms (option ids or names) as the ids cells store."""
    ids = {str(o.get("id")) for o in _options(column)}
    by_name: dict[str, list[str]] = {}
    for o in _options(column):
        by_name.setdefault(str(o.get("name")), []).append(str(o.get("id")))
    out: list[str] = []
    for t in terms:
        out.extend([str(t)] if str(t) in ids else by_name.get(str(t), [str(t)]))
    return out


def _as_list(term: Any) -> list[Any]:
    return term if isinstance(term, list) else [term]


def _day(f: dict[str, Any], column: dict[str, Any]) -> str:
    modifier = f.get("filter_term_modifier") or "exact_date"
    term = f.get("filter_term")
    today = date.today()
    if modifier == "exact_date":
        text = str(term).strip()[:10]
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise InvalidInput(f"filter_term {term!r} is not a date (YYYY-MM-DD).") from None
    if modifier in _MODIFIER_DAYS:
        return (today + timedelta(days=_MODIFIER_DAYS[modifier])).isoformat()
    if modifier in ("number_of_days_ago", "number_of_days_from_now"):
        if isinstance(term, bool) or not isinstance(term, (int, str)) or not str(term).strip().isdigit():
            raise InvalidInput(f"filter_term {term!r} must be a number of days.")
        days = min(int(str(term)), 100_000)
        return (today + timedelta(days=-days if modifier == "number_of_days_ago" else days)).isoformat()
    raise InvalidInput(f"filter_term_modifier {modifier} is not supported for {_label(column)}.")


def filter_condition(cells: CellSql, columns: Columns, f: dict[str, Any]) -> ColumnElement[bool]:
    column = find_filter_column(columns, f)
    predicate = str(f.get("filter_predicate"))
    term = f.get("filter_term")
    if any(isinstance(t, str) and "\x00" in t for t in _as_list(term)):
        raise InvalidInput(f"filter_term of {_label(column)} holds a NUL character.")  # no cell can
    if predicate == "is empty":
        return cells.is_empty(column)
    if predicate == "is not empty":
        return not_(cells.is_empty(column))
    ctype = str(column.get("type"))
    if ctype == "multiple-select":
        if predicate not in ("has any of", "has all of", "has none of"):
            raise _refuse(predicate, column)
        if _empty_term(term):
            return true()
        ids = _option_ids(column, _as_list(term))
        if predicate == "has any of":
            return cells.array_has(column, ids)
        if predicate == "has none of":
            return not_(cells.array_has(column, ids))
        return and_(*(cells.array_has(column, [i]) for i in ids))
    try:
        typed = cells.typed(column)
    except Unsupported:
        raise _refuse(predicate, column) from None
    if ctype in DATE_TYPES or (
        ctype == "formula" and (column.get("data") or {}).get("result_type") == "date"
    ):
        return _date_condition(cells, typed, column, f, predicate)
    if ctype == "single-select":
        if predicate in ("is", "is not", "is any of", "is none of"):
            if _empty_term(term):
                return true()
            names = option_names(column, _as_list(term))
            hit = typed.expr.in_([literal(n) for n in names])
            return hit if predicate in ("is", "is any of") else or_(typed.expr.is_(None), not_(hit))
        raise _refuse(predicate, column)
    if typed.kind == "bool":
        if predicate not in ("is", "="):
            raise _refuse(predicate, column)
        if _empty_term(term):
            return true()
        wanted = 1 if term is True or str(term).lower() in ("true", "1") else 0
        return typed.expr == wanted
    if typed.kind == "number":
        if predicate not in _NUMBER_COMPARE:
            raise _refuse(predicate, column)
        if _empty_term(term):
            return true()
        number = _number(term, column)
        op = _NUMBER_COMPARE[predicate]
        out = _OPS[op](typed.expr, literal(number))
        return or_(typed.expr.is_(None), out) if op == "!=" else out
    # text
    if _empty_term(term):
        if predicate in ("is", "is not", "contains", "does not contain"):
            return true()
        raise _refuse(predicate, column)
    text = str(term)
    if predicate == "is":
        return typed.expr == literal(text)
    if predicate == "is not":
        return or_(typed.expr.is_(None), typed.expr != literal(text))
    if predicate in ("contains", "does not contain"):
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        hit = func.lower(typed.expr).like(func.lower(literal(f"%{escaped}%")), escape="\\")
        return hit if predicate == "contains" else or_(typed.expr.is_(None), not_(hit))
    raise _refuse(predicate, column)


def _number(term: Any, column: dict[str, Any]) -> float:
    if isinstance(term, bool):
        raise InvalidInput(f"filter_term {term!r} is not a number (column {column.get('name')}).")
    try:
        number = float(str(term).strip())
    except ValueError:
        raise InvalidInput(f"filter_term {term!r} is not a number (column {column.get('name')}).") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise InvalidInput(f"filter_term {term!r} is not a number (column {column.get('name')}).")
    return number


def _date_condition(cells: CellSql, typed: Typed, column: dict[str, Any], f: dict[str, Any],
                    predicate: str) -> ColumnElement[bool]:  # fmt: skip
    modifier = f.get("filter_term_modifier") or "exact_date"
    if modifier == "exact_date" and _empty_term(f.get("filter_term")):
        if predicate in ("is", "is not", *_DATE_COMPARE):
            return true()
        raise _refuse(predicate, column)
    day_of = func.substr(typed.expr, 1, 10)
    dated = typed.expr != literal("")  # an empty cell ("") has no day: it is before nothing
    if predicate in ("is", "is not"):
        hit = and_(dated, day_of == literal(_day(f, column)))
        return hit if predicate == "is" else or_(typed.expr.is_(None), not_(hit))
    if predicate in _DATE_COMPARE:
        compare = _OPS[_DATE_COMPARE[predicate]]
        out: ColumnElement[bool] = and_(dated, compare(day_of, literal(_day(f, column))))
        return out
    raise _refuse(predicate, column)


def filters_condition(cells: CellSql, columns: Columns, filters: Sequence[dict[str, Any]],
                      conjunction: object) -> ColumnElement[bool] | None:  # fmt: skip
    """The filters joined by the conjunction; None when there are none."""
    if conjunction not in ("And", "Or", None, ""):
        raise InvalidInput("filter_conjunction invalid.")
    parts = [filter_condition(cells, columns, f) for f in filters]
    if not parts:
        return None
    return or_(*parts) if conjunction == "Or" else and_(*parts)


def sort_terms(cells: CellSql, columns: Columns, sorts: Sequence[dict[str, Any]]) -> list[Any]:
    """ORDER BY terms of a view's sorts: empty cells last in both directions, text by its case
    fold first (as list_rows' order_by)."""
    out: list[Any] = []
    for s in sorts:
        if not isinstance(s, dict):
            raise InvalidInput("sorts invalid.")
        column = find_filter_column(columns, s)
        try:
            typed = cells.typed(column)
        except Unsupported:
            raise InvalidInput(
                f"sorting by column {column.get('name')} ({column.get('type')}) is not supported."
            ) from None
        descending = s.get("sort_type") == "down"
        out.append(case((cells.is_empty(column), 1), else_=0))
        keys = (
            [cells.sortable(Typed(func.lower(typed.expr), "text")), cells.sortable(typed)]
            if typed.kind == "text"
            else [typed.expr]
        )
        out.extend(k.desc() if descending else k.asc() for k in keys)
    return out
