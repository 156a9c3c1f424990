"""modify_column_type: converting a column's stored cells to its new type.

Each stored cell is first read the way a client sees it (option names, date text, numbers...),
then adapted to the new type and normalised exactly as a write of that value would be
(``cells.normalize_cell``): ``"12"`` becomes the number 12, text becomes a select option
(created when missing), ``"2026-03-01"`` a date... A cell that cannot convert becomes empty.
The rows are read and written BATCH_ROWS at a time inside the caller's write transaction; the
counts say how many cells converted and how many became empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from atoll.db import rows as q
from atoll.errors import InvalidInput
from atoll.services.cells import normalize_cell
from atoll.services.formula.values import tidy

TEXT_TYPES = frozenset({"text", "long-text", "email", "url"})
NUMBER_TYPES = frozenset({"number", "rate", "duration"})
#: Types whose cells convert (from and to), besides auto-number and formula (see below).
CONVERTIBLE = TEXT_TYPES | NUMBER_TYPES | {"date", "checkbox", "single-select", "multiple-select"}
#: Types a column may be converted from, but not to (their cells are computed or system data).
SOURCE_ONLY = frozenset({"auto-number", "formula", "collaborator"})
_TRUE_TEXTS = frozenset({"true", "yes", "1", "x", "✓", "✔", "checked", "on"})


@dataclass
class Counts:
    converted: int = 0
    emptied: int = 0


def check_pair(old_type: str, new_type: str) -> None:
    """400 for a pair atoll does not convert (nothing is changed then)."""
    if old_type == new_type:
        return
    if new_type in ("auto-number", "formula") and old_type in CONVERTIBLE | SOURCE_ONLY:
        return
    if old_type in CONVERTIBLE | SOURCE_ONLY and new_type in CONVERTIBLE:
        return
    raise InvalidInput(f"modify_column_type from {old_type} to {new_type} is not supported by this server.")


def client_value(column: dict[str, Any], cell: Any) -> Any:
    """A stored cell as a client reads it (select ids -> names, rich text -> its text)."""
    ctype = column.get("type")
    options = {o.get("id"): o.get("name") for o in ((column.get("data") or {}).get("options") or [])}
    if ctype == "single-select":
        return options.get(cell, cell)
    if ctype == "multiple-select" and isinstance(cell, list):
        return [options.get(c, c) for c in cell]
    if isinstance(cell, dict):
        return cell.get("text")
    return cell


def adapt(value: Any, new_type: str) -> Any:
    """A client value made into what a write to a ``new_type`` cell would send."""
    if value is None:
        return None
    if new_type in TEXT_TYPES or new_type == "single-select":
        if isinstance(value, list):
            return ", ".join(str(v) for v in value) if new_type != "single-select" else (
                str(value[0]) if value else None)  # fmt: skip
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(tidy(value))
        return str(value)
    if new_type in NUMBER_TYPES:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, str):
            return value.strip().replace(",", "") if value.strip() else None
        return value if isinstance(value, (int, float)) else None
    if new_type == "checkbox":
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            return value != 0
        return isinstance(value, str) and value.strip().lower() in _TRUE_TEXTS
    if new_type == "multiple-select":
        if isinstance(value, list):
            return [str(v) for v in value]
        if isinstance(value, bool):
            return ["true" if value else "false"]
        return [str(tidy(value)) if isinstance(value, (int, float)) else str(value)]
    if new_type == "date":
        return value if isinstance(value, str) else None
    return None


def convert_cell(old: dict[str, Any], new: dict[str, Any], cell: Any) -> Any:
    """The stored cell of ``new`` for the stored ``cell`` of ``old``; None when it cannot convert."""
    value = adapt(client_value(old, cell), str(new.get("type")))
    try:
        stored, _ = normalize_cell(new, value, "modify_column_type")
    except InvalidInput:
        return None
    if new.get("type") == "checkbox" and stored is False:
        return None  # an unchecked box is an empty cell
    return stored


def convert_rows(
    conn: Connection, dtable_uuid: str, table_id: str, old: dict[str, Any], new: dict[str, Any]
) -> Counts:
    """Convert every stored cell of the column (``old`` before, ``new`` after; same key)."""
    key = old["key"]
    counts = Counts()
    after: tuple[int, str] | None = None
    where = q.data_contains(q.dumps(key))
    while True:
        batch = q.rows_after(conn, dtable_uuid, table_id, after, q.BATCH_ROWS, where=where)
        changed = []
        for row in batch:
            if key not in row.data:
                continue
            data = dict(row.data)
            if _blank(old, data[key]):
                data.pop(key)  # an empty text or an unchecked box: nothing to convert
                changed.append(q.StoredRow(row.row_id, row.table_id, row.seq, row.ctime, row.mtime,
                                           row.creator, row.last_modifier, data))  # fmt: skip
                continue
            cell = convert_cell(old, new, data[key])
            if cell is None:
                data.pop(key)
                counts.emptied += 1
            else:
                data[key] = cell
                counts.converted += 1
            changed.append(q.StoredRow(row.row_id, row.table_id, row.seq, row.ctime, row.mtime,
                                       row.creator, row.last_modifier, data))  # fmt: skip
        q.update_rows(conn, dtable_uuid, changed)
        if len(batch) < q.BATCH_ROWS:
            return counts
        after = (batch[-1].seq, batch[-1].row_id)


def _blank(column: dict[str, Any], cell: Any) -> bool:
    return cell is None or cell == "" or cell == [] or (column.get("type") == "checkbox" and cell is False)


def clear_rows(conn: Connection, dtable_uuid: str, table_id: str, key: str) -> int:
    """Remove the column's stored cells (before it becomes computed); how many there were."""
    count = 0
    after: tuple[int, str] | None = None
    where = q.data_contains(q.dumps(key))
    while True:
        batch = q.rows_after(conn, dtable_uuid, table_id, after, q.BATCH_ROWS, where=where)
        changed = []
        for row in batch:
            if key in row.data:
                data = {k: v for k, v in row.data.items() if k != key}
                changed.append(q.StoredRow(row.row_id, row.table_id, row.seq, row.ctime, row.mtime,
                                           row.creator, row.last_modifier, data))  # fmt: skip
        q.update_rows(conn, dtable_uuid, changed)
        count += len(changed)
        if len(batch) < q.BATCH_ROWS:
            return count
        after = (batch[-1].seq, batch[-1].row_id)
