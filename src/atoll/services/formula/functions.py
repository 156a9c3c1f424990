"""The formula functions atoll evaluates: name -> arity, result type and implementation.

``if``, ``and`` and ``or`` are evaluated lazily by the evaluator (their untaken branches never
fail); they are listed here for arity and type. Function names are case-insensitive
(``dateAdd`` = ``dateadd``).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from atoll.services.formula.values import (
    CellError,
    Value,
    as_bool,
    as_date,
    as_int,
    as_number,
    as_text,
    round_half_up,
    tidy,
)

#: Arguments one call may take (``sum``/``concatenate`` are variadic).
MAX_ARGS = 255


@dataclass(frozen=True)
class Function:
    min_args: int
    max_args: int
    result_type: str  # number | string | bool | date | same (the type of argument 2: ``if``)
    run: Callable[[Sequence[Value]], Value]
    volatile: bool = False  # depends on the clock: computed when read, never stored


def _text_fn(fn: Callable[[str], Value]) -> Callable[[Sequence[Value]], Value]:
    return lambda args: fn(as_text(args[0]))


def _left(args: Sequence[Value]) -> Value:
    count = as_int(args[1]) if len(args) > 1 else 1
    if count < 0:
        raise CellError()
    return as_text(args[0])[:count]


def _right(args: Sequence[Value]) -> Value:
    count = as_int(args[1]) if len(args) > 1 else 1
    if count < 0:
        raise CellError()
    text = as_text(args[0])
    return text[len(text) - count :] if count else ""


def _mid(args: Sequence[Value]) -> Value:
    start, count = as_int(args[1]), as_int(args[2])
    if start < 1 or count < 0:
        raise CellError()
    return as_text(args[0])[start - 1 : start - 1 + count]


def _round(args: Sequence[Value]) -> Value:
    return round_half_up(as_number(args[0]), as_int(args[1]) if len(args) > 1 else 0)


def _sum(args: Sequence[Value]) -> Value:
    return tidy(sum(as_number(a) for a in args))


def _not(args: Sequence[Value]) -> Value:
    return not as_bool(args[0])


def _today(args: Sequence[Value]) -> Value:
    now = datetime.now()
    return datetime(now.year, now.month, now.day)


def _now(args: Sequence[Value]) -> Value:
    return datetime.now().replace(microsecond=0)


_UNITS = {
    "year": "years", "years": "years", "month": "months", "months": "months",
    "week": "weeks", "weeks": "weeks", "day": "days", "days": "days",
    "hour": "hours", "hours": "hours", "minute": "minutes", "minutes": "minutes",
    "second": "seconds", "seconds": "seconds",
}  # fmt: skip


def add_months(when: datetime, months: int) -> datetime:
    total = when.year * 12 + (when.month - 1) + months
    year, month = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise CellError("#NUM!")
    day = min(when.day, calendar.monthrange(year, month + 1)[1])
    return when.replace(year=year, month=month + 1, day=day)


def _date_add(args: Sequence[Value]) -> Value:
    when = as_date(args[0])
    count = as_number(args[1])
    unit = _UNITS.get(as_text(args[2]).strip().lower()) if len(args) > 2 else "days"
    if unit is None:
        raise CellError()
    try:
        if unit == "years":
            return add_months(when, int(count) * 12)
        if unit == "months":
            return add_months(when, int(count))
        return when + timedelta(**{unit: count})
    except OverflowError:
        raise CellError("#NUM!") from None


def _months_between(start: datetime, end: datetime) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return months


def _date_dif(args: Sequence[Value]) -> Value:
    start, end = as_date(args[0]), as_date(args[1])
    unit = as_text(args[2]).strip().upper() if len(args) > 2 else "D"
    if start > end:
        raise CellError("#NUM!")
    start_day = datetime(start.year, start.month, start.day)
    end_day = datetime(end.year, end.month, end.day)
    if unit == "D":
        return (end_day - start_day).days
    if unit == "M":
        return _months_between(start_day, end_day)
    if unit == "Y":
        return _months_between(start_day, end_day) // 12
    if unit == "YM":
        return _months_between(start_day, end_day) % 12
    if unit == "MD":
        anchor = add_months(start_day, _months_between(start_day, end_day))
        return (end_day - anchor).days
    if unit == "YD":
        anchor = add_months(start_day, (_months_between(start_day, end_day) // 12) * 12)
        return (end_day - anchor).days
    raise CellError()


def _part(name: str) -> Callable[[Sequence[Value]], Value]:
    return lambda args: getattr(as_date(args[0]), name)


def _lazy(args: Sequence[Value]) -> Value:
    raise AssertionError("evaluated by the evaluator")  # pragma: no cover


FUNCTIONS: dict[str, Function] = {
    "if": Function(2, 3, "same", _lazy),
    "and": Function(1, MAX_ARGS, "bool", _lazy),
    "or": Function(1, MAX_ARGS, "bool", _lazy),
    "not": Function(1, 1, "bool", _not),
    "true": Function(0, 0, "bool", lambda args: True),
    "false": Function(0, 0, "bool", lambda args: False),
    "concatenate": Function(1, MAX_ARGS, "string", lambda args: "".join(as_text(a) for a in args)),
    "left": Function(1, 2, "string", _left),
    "right": Function(1, 2, "string", _right),
    "mid": Function(3, 3, "string", _mid),
    "len": Function(1, 1, "number", lambda args: len(as_text(args[0]))),
    "lower": Function(1, 1, "string", _text_fn(str.lower)),
    "upper": Function(1, 1, "string", _text_fn(str.upper)),
    "trim": Function(1, 1, "string", _text_fn(str.strip)),
    "round": Function(1, 2, "number", _round),
    "sum": Function(1, MAX_ARGS, "number", _sum),
    "abs": Function(1, 1, "number", lambda args: abs(as_number(args[0]))),
    "today": Function(0, 0, "date", _today, volatile=True),
    "now": Function(0, 0, "date", _now, volatile=True),
    "dateadd": Function(2, 3, "date", _date_add),
    "datedif": Function(2, 3, "number", _date_dif),
    "year": Function(1, 1, "number", _part("year")),
    "month": Function(1, 1, "number", _part("month")),
    "day": Function(1, 1, "number", _part("day")),
}
