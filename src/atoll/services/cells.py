"""Validating and normalising cell values before they are stored.

Rows arrive keyed by column **name** (as the official client writes them); a column **key** is
accepted too when no column has that name. Keys that match no column are ignored, as SeaTable
does, and so are system keys (``_id``, ``_ctime``, ``_mtime``, ``_creator``, ``_last_modifier``,
``_archived``, ``_locked``...) and read-only column types (formula, link, auto-number...).

File and image cells are checked strictly (wire contract §6):

- image: a list of non-empty URL strings;
- file: a list of objects with exactly ``name`` (str), ``size`` (int >= 0), ``type``
  (``"file"``/``"image"``) and ``url`` (str);
- ``null`` or ``[]`` clears the cell; at most MAX_FILES_PER_CELL items.

URLs are stored verbatim (absolute, relative ``/workspace/...``, external, ``custom-asset://``).
Anything else raises InvalidInput naming the row and the column; callers validate a whole batch
before writing anything.
"""

from __future__ import annotations

import math
import re
import secrets
import string
from collections.abc import Callable
from datetime import datetime
from typing import Any

from atoll.errors import InvalidInput
from atoll.wire.columns import FILE_CELL_KEYS, FILE_CELL_TYPES, ColumnType

#: Items one file or image cell may hold.
MAX_FILES_PER_CELL = 1000
#: Column types whose cells are computed or managed elsewhere; writes to them are ignored.
READ_ONLY_TYPES = frozenset(
    {
        "formula",
        "link-formula",
        "link",
        "auto-number",
        "ctime",
        "mtime",
        "creator",
        "last-modifier",
        "button",
    }
)
#: Row keys that belong to SeaTable, never to a column; writes to them are ignored.
SYSTEM_KEYS = frozenset(
    {"_id", "_ctime", "_mtime", "_creator", "_last_modifier", "_archived", "_locked", "_locked_by"}
)
OPTION_ID_CHARS = string.ascii_letters + string.digits
OPTION_ID_LENGTH = 6
OPTION_COLORS = (
    ("#FFFCB5", "#202428"),
    ("#FFEAB6", "#202428"),
    ("#FFD9C8", "#202428"),
    ("#B7CEF9", "#202428"),
    ("#E9E9E9", "#202428"),
    ("#DDFFE6", "#202428"),
    ("#FFDDE5", "#202428"),
    ("#EFD9FF", "#202428"),
    ("#CEF7FF", "#202428"),
    ("#9860E5", "#FFFFFF"),
)

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
#: ``h:mm[:ss[.f]]`` with at most 15 digits of hours (far beyond any duration; int() is bounded).
_DURATION = re.compile(r"^([0-9]{1,15}):([0-5]?[0-9])(?::([0-5]?[0-9](?:\.[0-9]+)?))?$")


class Columns:
    """A table's columns, found by name first and then by key."""

    def __init__(self, columns: list[dict[str, Any]]) -> None:
        self.columns = columns
        self.by_name = {c["name"]: c for c in columns}
        self.by_key = {c["key"]: c for c in columns}

    def find(self, ref: Any) -> dict[str, Any] | None:
        if not isinstance(ref, str):
            return None
        return self.by_name.get(ref) or self.by_key.get(ref)


class RowValues:
    """The normalised cells of one written row: ``{key: value}``; ``None`` clears the cell."""

    def __init__(self) -> None:
        self.cells: dict[str, Any] = {}
        self.options_added = False


def normalize_row(columns: Columns, row: Any, where: str) -> RowValues:
    """Check every cell of ``row`` (a dict); ``where`` names the row in error messages."""
    if not isinstance(row, dict):
        raise InvalidInput(f"{where}: a row must be a JSON object, got {_kind(row)}.")
    out = RowValues()
    for ref, value in row.items():
        if not isinstance(ref, str) or ref in SYSTEM_KEYS:
            continue  # system keys are read-only
        column = columns.find(ref)
        if column is None or column.get("type") in READ_ONLY_TYPES:
            continue  # SeaTable ignores unknown columns
        stored, added = normalize_cell(column, value, where)
        out.cells[column["key"]] = stored
        out.options_added = out.options_added or added
    return out


def normalize_cell(column: dict[str, Any], value: Any, where: str) -> tuple[Any, bool]:
    """``(stored value or None, whether select options were added)``."""
    if value is None:
        return None, False
    ctype = str(column.get("type"))
    label = f"{where}: column {column['name']!r} ({ctype})"
    if ctype == ColumnType.IMAGE:
        return _image_cell(value, label), False
    if ctype == ColumnType.FILE:
        return _file_cell(value, label), False
    if ctype in ("single-select", "multiple-select"):
        return _select_cell(column, value, label, multiple=ctype == "multiple-select")
    checker = _CHECKERS.get(ctype)
    return (checker(value, label, column) if checker else value), False


# ---- files and images ----------------------------------------------------------------------


def _image_cell(value: Any, label: str) -> list[str] | None:
    if not isinstance(value, list):
        raise InvalidInput(f"{label}: expected a list of image URL strings, got {_kind(value)}.")
    if not value:
        return None
    _check_count(value, label)
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item:
            raise InvalidInput(f"{label}: item {i} must be a non-empty URL string, got {_kind(item)}.")
    return list(value)


def _file_cell(value: Any, label: str) -> list[dict[str, Any]] | None:
    if not isinstance(value, list):
        raise InvalidInput(
            f"{label}: expected a list of file objects {{name, size, type, url}}, got {_kind(value)}."
        )
    if not value:
        return None
    _check_count(value, label)
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise InvalidInput(
                f"{label}: item {i} must be an object {{name, size, type, url}}, got {_kind(item)}."
            )
        keys = set(item)
        if keys != FILE_CELL_KEYS:
            missing = sorted(FILE_CELL_KEYS - keys)
            extra = sorted(str(k) for k in keys - FILE_CELL_KEYS)
            detail = "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"unexpected {', '.join(extra)}" if extra else "",
                )
                if part
            )
            raise InvalidInput(
                f"{label}: item {i} must have exactly the keys name, size, type, url ({detail})."
            )
        name, size, ftype, url = item["name"], item["size"], item["type"], item["url"]
        if not isinstance(name, str) or not name:
            raise InvalidInput(f"{label}: item {i}: name must be a non-empty string.")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise InvalidInput(f"{label}: item {i}: size must be an integer >= 0.")
        if ftype not in FILE_CELL_TYPES:
            raise InvalidInput(f'{label}: item {i}: type must be "file" or "image".')
        if not isinstance(url, str) or not url:
            raise InvalidInput(f"{label}: item {i}: url must be a non-empty string.")
        out.append({"name": name, "size": size, "type": ftype, "url": url})
    return out


def _check_count(value: list[Any], label: str) -> None:
    if len(value) > MAX_FILES_PER_CELL:
        raise InvalidInput(f"{label}: at most {MAX_FILES_PER_CELL} items per cell.")


# ---- selects -------------------------------------------------------------------------------


def _select_cell(column: dict[str, Any], value: Any, label: str, *, multiple: bool) -> tuple[Any, bool]:
    if multiple:
        if not isinstance(value, list):
            raise InvalidInput(f"{label}: expected a list of option names, got {_kind(value)}.")
        names = value
    else:
        if not isinstance(value, str):
            raise InvalidInput(f"{label}: expected an option name, got {_kind(value)}.")
        names = [value]
    ids: list[str] = []
    added = False
    for name in names:
        if not isinstance(name, str):
            raise InvalidInput(f"{label}: option names must be strings, got {_kind(name)}.")
        if name == "":
            continue
        option_id, created = _option_id(column, name)
        added = added or created
        if option_id not in ids:
            ids.append(option_id)
    if not ids:
        return None, added
    return (ids if multiple else ids[0]), added


def _option_id(column: dict[str, Any], name: str) -> tuple[str, bool]:
    """The id of the option called ``name`` (or with id ``name``); created when unknown."""
    data = column.get("data")
    if not isinstance(data, dict):
        data = {}
        column["data"] = data
    options = data.setdefault("options", [])
    for option in options:
        if option.get("name") == name:
            return str(option["id"]), False
    for option in options:
        if option.get("id") == name:
            return name, False
    taken = {o.get("id") for o in options}
    option_id = new_option_id(taken)
    color, text_color = OPTION_COLORS[len(options) % len(OPTION_COLORS)]
    options.append({"name": name, "id": option_id, "color": color, "textColor": text_color})
    return option_id, True


def new_option_id(taken: set[Any]) -> str:
    while True:
        candidate = "".join(secrets.choice(OPTION_ID_CHARS) for _ in range(OPTION_ID_LENGTH))
        if candidate not in taken:
            return candidate


# ---- scalars -------------------------------------------------------------------------------


def _text(value: Any, label: str, column: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if column.get("type") == "long-text" and isinstance(value, dict):
        return value  # SeaTable's rich long-text object
    raise InvalidInput(f"{label}: expected a string, got {_kind(value)}.")


def _number(value: Any, label: str, column: dict[str, Any]) -> Any:
    if isinstance(value, bool):
        raise InvalidInput(f"{label}: expected a number, got a boolean.")
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return None
        if column.get("type") == "duration":
            seconds = _duration_text(text)
            if seconds is not None:
                return seconds
        if not _NUMBER.match(text):
            raise InvalidInput(f"{label}: expected a number, got the string {value!r}.")
        value = float(text)
    if not isinstance(value, (int, float)):
        raise InvalidInput(f"{label}: expected a number, got {_kind(value)}.")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"{label}: expected a finite number.")
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
    return value


def _duration_text(text: str) -> int | float | None:
    found = _DURATION.match(text)
    if not found:
        return None
    hours, minutes, seconds = found.group(1), found.group(2), found.group(3)
    total = int(hours) * 3600 + int(minutes) * 60 + (float(seconds) if seconds else 0)
    return int(total) if float(total).is_integer() else total


def _checkbox(value: Any, label: str, column: dict[str, Any]) -> bool:
    return value is True  # SeaTable stores anything but true as false (API_ISSUES #1)


def _date(value: Any, label: str, column: dict[str, Any]) -> str | None:
    data = column.get("data") or {}
    fmt = str(data.get("format") or "") if isinstance(data, dict) else ""
    return normalize_date(value, day_first=fmt.upper().startswith(("DD/MM", "D/M")))


def _object(value: Any, label: str, column: dict[str, Any]) -> Any:
    if not isinstance(value, dict):
        raise InvalidInput(f"{label}: expected an object, got {_kind(value)}.")
    return value


def _string_list(value: Any, label: str, column: dict[str, Any]) -> Any:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"{label}: expected a list of strings, got {_kind(value)}.")
    return value or None


_CHECKERS: dict[str, Callable[[Any, str, dict[str, Any]], Any]] = {
    "text": _text,
    "long-text": _text,
    "email": _text,
    "url": _text,
    "number": _number,
    "rate": _number,
    "duration": _number,
    "checkbox": _checkbox,
    "date": _date,
    "geolocation": _object,
    "digital-sign": _object,
    "collaborator": _string_list,
}


# ---- dates ---------------------------------------------------------------------------------

_DATE_PATTERNS = (
    (re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$"), "ymd"),
    (re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$"), "dmy"),
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$"), "slash"),
)


def normalize_date(value: Any, *, day_first: bool = False) -> str | None:
    """A date cell as stored: ``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM[:SS]`` in server-local time.

    Accepts ISO 8601 (with or without offset; an offset is converted to server time),
    ``YYYY/MM/DD``, ``DD.MM.YYYY`` and ``M/D/YYYY`` (``DD/MM/YYYY`` when ``day_first``), each with
    an optional `` HH:MM[:SS]``. Anything else is stored as empty, as SeaTable does.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    parsed = _parse_iso(text) or _parse_loose(text, day_first=day_first)
    if parsed is None:
        return None
    when, has_time = parsed
    if not has_time:
        return when.strftime("%Y-%m-%d")
    if when.second or when.microsecond:
        return when.strftime("%Y-%m-%d %H:%M:%S")
    return when.strftime("%Y-%m-%d %H:%M")


def _parse_iso(text: str) -> tuple[datetime, bool] | None:
    if not re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    has_time = len(text) > 10
    if when.tzinfo is not None:
        try:
            when = when.astimezone().replace(tzinfo=None)
        except OverflowError:  # 0001-01-01T00:00+14:00 has no server-local time
            return None
    return when.replace(microsecond=0), has_time


def _parse_loose(text: str, *, day_first: bool) -> tuple[datetime, bool] | None:
    date_part, _, time_part = text.partition(" ")
    hour = minute = second = 0
    if time_part:
        found = re.match(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$", time_part.strip())
        if not found:
            return None
        hour, minute = int(found.group(1)), int(found.group(2))
        second = int(found.group(3) or 0)
    for pattern, order in _DATE_PATTERNS:
        m = pattern.match(date_part)
        if not m:
            continue
        a, b, c = (int(x) for x in m.groups())
        if order == "ymd":
            year, month, day = a, b, c
        elif order == "dmy" or (order == "slash" and day_first):
            day, month, year = a, b, c
        else:
            month, day, year = a, b, c
        try:
            return datetime(year, month, day, hour, minute, second), bool(time_part)
        except ValueError:
            return None
    return None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
