"""Use cases on a base's tables and its metadata."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from atoll.db import rows as q
from atoll.errors import InvalidInput
from atoll.services.columns import column_data, column_specs
from atoll.services.structure import TableRef, change_doc, find_table, new_id, read_doc, valid_name
from atoll.wire import tables as w

#: Tables one base may hold.
MAX_TABLES_PER_BASE = 200


@dataclass(frozen=True)
class Metadata:
    version: int
    tables: list[dict[str, Any]]
    settings: Any


# ---- metadata and tables -------------------------------------------------------------------


def get_metadata(engine: Engine, dtable_uuid: str) -> Metadata:
    stored = read_doc(engine, dtable_uuid)
    return Metadata(stored.version, stored.doc.get("tables", []), stored.doc.get("settings"))


def add_table(engine: Engine, dtable_uuid: str, table_name: Any, columns: Any = None) -> dict[str, Any]:
    """A new table with the given columns (first key ``"0000"``), or one text column "Name"."""
    name = valid_name(table_name, "table_name")
    specs = column_specs(columns)

    def change(conn: Connection, doc: dict[str, Any]) -> dict[str, Any]:
        tables = doc.setdefault("tables", [])
        if any(t["name"] == name for t in tables):
            raise InvalidInput(f"table {name} already exists.")
        if len(tables) >= MAX_TABLES_PER_BASE:
            raise InvalidInput(f"a base holds at most {MAX_TABLES_PER_BASE} tables.")
        made: list[dict[str, Any]] = []
        for col_name, col_type, col_data in specs:
            key = new_id({c["key"] for c in made}, first=not made)
            made.append(w.new_column(key, col_name, col_type, column_data(col_type, col_data)))
        table = w.new_table(new_id({t["_id"] for t in tables}, first=True), name, made)
        tables.append(table)
        return copy.deepcopy(table)

    return change_doc(engine, dtable_uuid, change)


def rename_table(engine: Engine, dtable_uuid: str, ref: TableRef, new_name: Any) -> None:
    name = valid_name(new_name, "new_table_name")

    def change(conn: Connection, doc: dict[str, Any]) -> None:
        table = find_table(doc, ref)
        if any(t["name"] == name and t is not table for t in doc["tables"]):
            raise InvalidInput(f"table {name} already exists.")
        table["name"] = name

    change_doc(engine, dtable_uuid, change)


def delete_table(engine: Engine, dtable_uuid: str, ref: TableRef) -> None:
    def change(conn: Connection, doc: dict[str, Any]) -> None:
        table = find_table(doc, ref)
        doc["tables"] = [t for t in doc["tables"] if t is not table]
        q.delete_table_rows(conn, dtable_uuid, table["_id"])

    change_doc(engine, dtable_uuid, change)
