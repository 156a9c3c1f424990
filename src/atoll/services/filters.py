"""Sort keys of cell values, and sorting rows by a column in Python.

Values are compared as the client sees them (select option names, stored dates). Empty cells
(null, "", []) sort last in both directions; text compares case-insensitively.
``services.rowkeys`` encodes ``sort_key`` into the keys the database sorts by; ``sort_rows``
is the reference order those keys must give.

Filters (filter_rows, a view's filters) are not evaluated here: the database evaluates them
(``services.sql.viewfilters``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from atoll.db.rows import StoredRow
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
