"""Auto-number cells: ``"0001"``, ``"row-0001"`` (``prefix_type: string``) or
``"20260301-0001"`` (``prefix_type: date``, the day the row was numbered).

The counter is the column's ``data.max_used_auto_number`` in the base's structure document.
Every row write locks that document first (``db.rows.lock_doc``: SQLite's write lock, a row
lock on PostgreSQL), so two processes appending at once are serialised and never draw the same
number. A number is assigned once, when the row is created (or when the column is created, for
the rows already there, in table order) and never reassigned; writes to the cell are ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from atoll.db import rows as q

#: Digits when the column's data names none (SeaTable's default format "0000").
DEFAULT_DIGITS = 4
#: Most digits a column may ask for.
MAX_DIGITS = 20


def _digits(data: dict[str, Any]) -> int:
    digits = data.get("digits")
    if isinstance(digits, int) and not isinstance(digits, bool) and 1 <= digits <= MAX_DIGITS:
        return digits
    fmt = data.get("format")
    if isinstance(fmt, str) and fmt and set(fmt) == {"0"} and len(fmt) <= MAX_DIGITS:
        return len(fmt)
    return DEFAULT_DIGITS


def render(data: Any, number: int, today: datetime | None = None) -> str:
    """The cell text for ``number`` under the column's ``data``."""
    data = data if isinstance(data, dict) else {}
    text = str(number).zfill(_digits(data))
    if data.get("prefix_type") == "date":
        return f"{(today or datetime.now()).strftime('%Y%m%d')}-{text}"
    prefix = data.get("prefix")
    if data.get("prefix_type") == "string" and isinstance(prefix, str) and prefix:
        return f"{prefix}-{text}"
    return text


def columns_of(table: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in table["columns"] if c.get("type") == "auto-number"]


def _next(column: dict[str, Any]) -> int:
    data = column.get("data")
    if not isinstance(data, dict):
        data = {}
        column["data"] = data
    used = data.get("max_used_auto_number")
    number = (used if isinstance(used, int) and not isinstance(used, bool) and used >= 0 else 0) + 1
    data["max_used_auto_number"] = number
    return number


def assign(table: dict[str, Any], rows_data: list[dict[str, Any]]) -> bool:
    """Number new rows (their ``data``, in order, in place); True when the document changed.
    The caller holds the document lock and saves the document."""
    columns = columns_of(table)
    for column in columns:
        for data in rows_data:
            data[column["key"]] = render(column.get("data"), _next(column))
    return bool(columns and rows_data)


def number_existing(conn: Connection, dtable_uuid: str, table: dict[str, Any], column: dict[str, Any]) -> int:
    """Give every row already in the table a number (table order, BATCH_ROWS at a time), e.g.
    after the column was created; the caller refreshes the column's sort keys. Returns the count."""
    count = 0
    after: tuple[int, str] | None = None
    while True:
        batch = q.rows_after(conn, dtable_uuid, table["_id"], after, q.BATCH_ROWS)
        changed = []
        for row in batch:
            data = {**row.data, column["key"]: render(column.get("data"), _next(column))}
            changed.append(q.StoredRow(row.row_id, row.table_id, row.seq, row.ctime, row.mtime,
                                       row.creator, row.last_modifier, data))  # fmt: skip
        q.update_rows(conn, dtable_uuid, changed)
        count += len(changed)
        if len(batch) < q.BATCH_ROWS:
            return count
        after = (batch[-1].seq, batch[-1].row_id)
