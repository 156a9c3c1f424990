"""Parsing untrusted JSON and request numbers with bounds, so that no client input can reach
the database or the encoder as something it cannot hold.

A body is refused with InvalidInput (400, in each API family's error shape) when it is not
UTF-8, not JSON, nested deeper than MAX_JSON_DEPTH, holds ``NaN``/``Infinity``/``-Infinity``
or a number that does not fit (an integer outside a signed 64-bit column, a float that overflows
to infinity such as ``1e400``), or a string with a lone UTF-16 surrogate (``"\\ud800"``, which
neither UTF-8 nor PostgreSQL can store). The size limit is ``Settings.max_json_bytes`` (413),
checked by the caller before the bytes are parsed.

``as_int``/``as_bool`` are the one conversion of a request argument (a query-string value or a
JSON value) to a number or flag; endpoints never call ``int()`` on client input themselves.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from atoll.errors import InvalidInput

#: Deepest nesting of arrays/objects accepted in a body (SeaTable's documents need < 10).
MAX_JSON_DEPTH = 64
#: Integers must fit a signed 64-bit column (BIGINT), in bodies and in query strings.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
#: Digits an integer literal may have before it is even converted (int64 has at most 19).
MAX_INT_DIGITS = 19

_INT_TEXT = re.compile(rf"^[+-]?[0-9]{{1,{MAX_INT_DIGITS}}}$")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
TRUE_WORDS = frozenset({"true", "1", "yes"})
FALSE_WORDS = frozenset({"false", "0", "no"})


def _refuse(reason: str) -> InvalidInput:
    return InvalidInput(f"params invalid: {reason}")


def _parse_int(text: str) -> int:
    digits = text.lstrip("-")
    if len(digits) > MAX_INT_DIGITS:
        raise _refuse(f"the integer {text[:24]}... does not fit in 64 bits.")
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise _refuse(f"the integer {text} does not fit in 64 bits.")
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _refuse(f"the number {text[:24]} is out of range.")
    return value


def _parse_constant(name: str) -> Any:
    raise _refuse(f"{name} is not a JSON number.")


_DECODER = json.JSONDecoder(parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)


def loads(raw: bytes) -> Any:
    """The JSON value in ``raw`` (UTF-8, an optional BOM), within the bounds above."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _refuse("the body is not UTF-8.") from exc
    try:
        value = _DECODER.decode(text)
    except RecursionError as exc:
        # the decoder's own recursion guard: far deeper than MAX_JSON_DEPTH in any case
        raise _refuse(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.") from exc
    except ValueError as exc:
        raise _refuse("the body is not valid JSON.") from exc
    # Only walk what could break a bound: enough brackets for the depth, a surrogate escape.
    deep = text.count("[") + text.count("{") > MAX_JSON_DEPTH
    if deep or _SURROGATE_ESCAPE.search(text):
        check_value(value)
    return value


def check_value(value: Any, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Depth and strings of an already parsed value (iterative: no recursion to exhaust)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > max_depth:
                raise _refuse(f"JSON nested deeper than {max_depth} levels.")
            for key, child in item.items():
                _check_text(key)
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            if depth > max_depth:
                raise _refuse(f"JSON nested deeper than {max_depth} levels.")
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            _check_text(item)


def _check_text(text: str) -> None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _refuse("a string holds a lone UTF-16 surrogate.") from exc


def as_int(raw: Any, name: str, default: int, *, minimum: int = INT64_MIN, maximum: int = INT64_MAX) -> int:
    """A request argument as an integer in ``[minimum, maximum]``: a JSON integer or a decimal
    string of at most 19 digits. Absent or ``""`` gives ``default``; anything else is 400."""
    if raw is None or raw == "":
        return default
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and _INT_TEXT.match(raw.strip()):
        value = int(raw.strip())
    else:
        raise InvalidInput(f"{name} invalid: expected an integer.")
    if not minimum <= value <= maximum:
        raise InvalidInput(f"{name} invalid: expected an integer from {minimum} to {maximum}.")
    return value


def as_bool(raw: Any, name: str, default: bool = False) -> bool:
    """A request flag: ``true``/``false`` (any case; the client sends Python's ``True``),
    ``1``/``0``, ``yes``/``no`` or a JSON boolean. Absent or ``""`` gives ``default``."""
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        word = raw.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise InvalidInput(f"{name} invalid: expected true or false.")
