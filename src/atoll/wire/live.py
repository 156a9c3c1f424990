"""What socket.io listeners of a base receive (docs/live-updates.md).

SeaTable's dtable-server sends ``update-dtable`` with two arguments: the operation as a JSON
string (``{"op_type": "insert_row", "table_id": ..., ...}``) and a number; the official client's
handlers are ``on_update_dtable(data, index, *args)``. Row and column operations here use
SeaTable's op types and field names; file operations (``upload_file``, ``delete_file``) are
atoll's own, sent the same way. Toasts (``ui-toasts``) go out as ``new-notification``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

UPDATE_DTABLE = "update-dtable"
NEW_NOTIFICATION = "new-notification"
JOIN_ROOM = "join-room"
#: An operation whose JSON is longer than this goes out without its cell data (``truncated``).
MAX_PAYLOAD_CHARS = 256 * 1024
#: Fields dropped from an operation that is too long; ids and counts stay.
BULKY_FIELDS = ("row_data", "rows_data", "updated", "column_data", "table_data")

Op = dict[str, Any]


def encode(op: Mapping[str, Any]) -> str:
    """The operation as the JSON string listeners get; a bulky one loses its cell data."""
    text = json.dumps(op, separators=(",", ":"), ensure_ascii=False, default=str)
    if len(text) <= MAX_PAYLOAD_CHARS:
        return text
    slim = {k: v for k, v in op.items() if k not in BULKY_FIELDS}
    slim["truncated"] = True
    return json.dumps(slim, separators=(",", ":"), ensure_ascii=False, default=str)


def row_data(row_id: str, cells: Mapping[str, Any], *, ctime: str, mtime: str, creator: str,
             last_modifier: str) -> dict[str, Any]:
    """A row as operations carry it: cells by column key, plus the system fields."""
    return {"_id": row_id, "_ctime": ctime, "_mtime": mtime, "_creator": creator,
            "_last_modifier": last_modifier, **cells}


def insert_row(table_id: str, anchor_row_id: str, row: dict[str, Any]) -> Op:
    return {"op_type": "insert_row", "table_id": table_id, "row_id": anchor_row_id,
            "row_insert_position": "insert_below", "row_data": row, "links_data": {}}


def append_rows(table_id: str, rows: list[dict[str, Any]]) -> Op:
    return {"op_type": "append_rows", "table_id": table_id, "rows_data": rows,
            "row_ids": [r["_id"] for r in rows]}


def modify_rows(table_id: str, updated: Mapping[str, Mapping[str, Any]]) -> Op:
    """``updated``: row id -> the cells the write set (``null``: cleared)."""
    if len(updated) == 1:
        [(row_id, cells)] = updated.items()
        return {"op_type": "modify_row", "table_id": table_id, "row_id": row_id, "updated": dict(cells)}
    return {"op_type": "modify_rows", "table_id": table_id, "row_ids": list(updated),
            "updated": {k: dict(v) for k, v in updated.items()}}


def delete_rows(table_id: str, row_ids: Sequence[str]) -> Op:
    if len(row_ids) == 1:
        return {"op_type": "delete_row", "table_id": table_id, "row_id": row_ids[0]}
    return {"op_type": "delete_rows", "table_id": table_id, "row_ids": list(row_ids)}


def insert_table(table: Mapping[str, Any]) -> Op:
    return {"op_type": "insert_table", "table_id": table["_id"], "table_name": table.get("name"),
            "table_data": {"_id": table["_id"], "name": table.get("name"),
                           "columns": table.get("columns", [])}}


def delete_table(table_id: str) -> Op:
    return {"op_type": "delete_table", "table_id": table_id}


def rename_table(table_id: str, name: str) -> Op:
    return {"op_type": "rename_table", "table_id": table_id, "table_name": name}


def insert_column(table_id: str, column: Mapping[str, Any]) -> Op:
    return {"op_type": "insert_column", "table_id": table_id, "column_key": column["key"],
            "column_data": dict(column)}


def delete_column(table_id: str, column_key: str) -> Op:
    return {"op_type": "delete_column", "table_id": table_id, "column_key": column_key}


def changed_column(table_id: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> Op:
    """A column whose name, type or data changed: the most specific of SeaTable's ops."""
    key = after["key"]
    if before.get("type") != after.get("type"):
        return {"op_type": "modify_column_type", "table_id": table_id, "column_key": key,
                "new_column_type": after.get("type"), "column_data": dict(after)}
    if before.get("name") != after.get("name") and _same_but_name(before, after):
        return {"op_type": "rename_column", "table_id": table_id, "column_key": key,
                "new_column_name": after.get("name")}
    return {"op_type": "update_column", "table_id": table_id, "column_key": key,
            "column_data": dict(after)}


def _same_but_name(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    return {k: v for k, v in before.items() if k != "name"} == {k: v for k, v in after.items() if k != "name"}


def links_changed(op: str, link_id: str, table_id: str, other_table_id: str,
                  targets: Mapping[str, Sequence[str]]) -> Op:
    """``add_links``, ``remove_links`` or ``update_links`` (atoll's op types): per row of
    ``table_id``, the rows of ``other_table_id`` named (update: its links now)."""
    return {"op_type": f"{op}_links", "link_id": link_id, "table_id": table_id,
            "other_table_id": other_table_id, "other_rows_ids_map": {k: list(v) for k, v in targets.items()}}


def upload_file(path: str, size: int) -> Op:
    """atoll's own: a file was stored under the base's assets (``path`` from the asset root)."""
    return {"op_type": "upload_file", "path": path, "size": size}


def delete_file(path: str) -> Op:
    """atoll's own: a file was deleted from the base's assets."""
    return {"op_type": "delete_file", "path": path}


def toast(to_user: Any, toast_type: Any, detail: Any) -> Op:
    """A ``ui-toasts`` notification as listeners get it (``new-notification``)."""
    return {"msg_type": "ui_toast", "to_user": to_user, "toast_type": toast_type, "detail": detail}
