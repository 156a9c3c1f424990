"""The values a formula works with, and how each operator and function coerces them.

A value is ``None`` (an empty cell), ``bool``, ``int``/``float``, ``str`` or ``datetime`` (a date
cell; midnight when it has no time). A value that does not fit raises ``CellError`` carrying
SeaTable's error text (``#VALUE!``, ``#DIV/0!``, ``#NUM!``); that text becomes the cell's value.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

Value = None | bool | int | float | str | datetime

_NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")
_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")


class CellError(Exception):
    """A formula whose inputs do not fit: the cell shows ``code``."""

    def __init__(self, code: str = "#VALUE!") -> None:
        super().__init__(code)
        self.code = code


def tidy(number: float | int) -> int | float:
    """A finite result; integral floats as int (like JSON numbers in SeaTable)."""
    if isinstance(number, int) and not isinstance(number, bool) and abs(number) >= 2**53:
        try:
            number = float(number)
        except OverflowError:
            raise CellError("#NUM!") from None
    if isinstance(number, float):
        if not math.isfinite(number):
            raise CellError("#NUM!")
        if number.is_integer() and abs(number) < 2**53:
            return int(number)
    return number


def as_number(value: Value) -> int | float:
    """Arithmetic operand: empty is 0, booleans 1/0, numeric text its number."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        if value == "":
            return 0
        if _NUMBER.match(value):
            return tidy(float(value))
    raise CellError()


def as_int(value: Value) -> int:
    number = as_number(value)
    if isinstance(number, float) and not math.isfinite(number):
        raise CellError("#NUM!")
    return int(number)


def as_text(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(tidy(value))
    if isinstance(value, datetime):
        return stored_date(value)
    return value


def as_bool(value: Value) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        return value != ""
    return True


def as_date(value: Value) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        found = parse_date(value)
        if found is not None:
            return found
    raise CellError()


def parse_date(text: str) -> datetime | None:
    """A stored date cell (``YYYY-MM-DD[ HH:MM[:SS]]``) or ISO 8601 text, naive."""
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when.astimezone().replace(tzinfo=None) if when.tzinfo else when


def stored_date(when: datetime) -> str:
    """A date as date cells store it."""
    if when.hour == when.minute == when.second == 0:
        return when.strftime("%Y-%m-%d")
    if when.second:
        return when.strftime("%Y-%m-%d %H:%M:%S")
    return when.strftime("%Y-%m-%d %H:%M")


def round_half_up(number: int | float, digits: int) -> int | float:
    try:
        quantum = Decimal(1).scaleb(-digits)
        rounded = Decimal(repr(number)).quantize(quantum, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        raise CellError("#NUM!") from None
    return tidy(float(rounded))


def compare(op: str, left: Value, right: Value) -> bool:
    """``= != <> < <= > >=``: numbers as numbers, dates as dates, anything else as text."""
    a: Any
    b: Any
    if isinstance(left, datetime) or isinstance(right, datetime):
        try:
            a, b = as_date(left), as_date(right)
        except CellError:
            a, b = as_text(left), as_text(right)
    elif _numeric(left) and _numeric(right):
        a, b = as_number(left), as_number(right)
    else:
        a, b = as_text(left), as_text(right)
    if op in ("=", "=="):
        return bool(a == b)
    if op in ("!=", "<>"):
        return bool(a != b)
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def _numeric(value: Value) -> bool:
    if isinstance(value, (bool, int, float)) or value is None:
        return True
    return isinstance(value, str) and bool(_NUMBER.match(value))
