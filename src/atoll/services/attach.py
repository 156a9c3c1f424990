"""Upload-and-attach: a resumable upload that ends in a file or image cell.

The target (table, column, optionally a row) is checked when the upload is created, so a wrong
name is a 4xx before any byte moves, and written in the same transaction as the asset when the
upload completes (``append_cell``), so the cell and the file appear together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from atoll.db import rows as q
from atoll.db.engine import read_tx
from atoll.errors import Conflict, InvalidInput, NotFound
from atoll.services.rows import append_in, could_be_row_id, update_in
from atoll.services.structure import TableRef, find_column, find_table
from atoll.wire.columns import FILE_CELL_TYPES, ColumnType, file_cell


@dataclass(frozen=True)
class AttachTarget:
    table_id: str
    column_key: str
    column_type: str
    #: None: the upload creates a new row.
    row_id: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "table_id": self.table_id,
            "column_key": self.column_key,
            "column_type": self.column_type,
            "row_id": self.row_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AttachTarget:
        return cls(data["table_id"], data["column_key"], data["column_type"], data["row_id"])


def resolve(engine: Engine, dtable_uuid: str, *, table: str, column: str, row_id: str | None) -> AttachTarget:
    """Check the target now (404 for a missing table, column or row; 400 for a column that holds
    no files) and name it by ids, which survive renames until the upload completes."""
    with read_tx(engine) as conn:
        doc = q.load_doc(conn, dtable_uuid).doc
        found = find_table(doc, TableRef(name=table, table_id=table))
        col = find_column(found, column)
        if col["type"] not in FILE_CELL_TYPES:
            raise InvalidInput(
                f"column {col['name']} is a {col['type']} column: attach needs a file or image column"
            )
        if row_id is not None and (
            not could_be_row_id(row_id) or q.get_row(conn, dtable_uuid, found["_id"], row_id) is None
        ):
            raise NotFound(f"row {row_id} not found in table {found['name']}")
    return AttachTarget(found["_id"], col["key"], col["type"], row_id)


def append_cell(
    conn: Connection, dtable_uuid: str, target: AttachTarget, *, entry: dict[str, Any], by: str
) -> str:
    """Append one file to the target cell inside the caller's transaction; the row id.
    A table, column or row deleted since the upload began is a 409 (nothing is committed)."""
    ref = TableRef(table_id=target.table_id)
    try:
        table = find_table(q.load_doc(conn, dtable_uuid).doc, ref)
        column = find_column(table, target.column_key)
    except NotFound as exc:
        raise Conflict(f"cannot attach the upload: {exc.message} any more") from None
    item: Any = (
        entry["url"]
        if column["type"] == ColumnType.IMAGE.value
        else file_cell(entry["type"], entry["size"], entry["name"], entry["url"])
    )
    if target.row_id is None:
        return append_in(conn, dtable_uuid, ref, [{column["key"]: [item]}], by)[0].row_id
    row = q.get_row(conn, dtable_uuid, target.table_id, target.row_id)
    if row is None:
        raise Conflict(f"cannot attach the upload: row {target.row_id} was deleted")
    cell = row.data.get(column["key"])
    value = [*cell, item] if isinstance(cell, list) else [item]
    update_in(conn, dtable_uuid, ref, [{"row_id": row.row_id, "row": {column["key"]: value}}], by)
    return row.row_id
