"""Use cases on a base's tables and its metadata."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from atoll.db import rows as q
from atoll.errors import InvalidInput
from atoll.models import Principal
from atoll.services import links
from atoll.services.columns import MAX_COLUMNS_PER_TABLE, check_formulas, column_data, column_specs
from atoll.services.context import Context
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


async def get_metadata(ctx: Context, principal: Principal) -> Metadata:
    stored = await read_doc(ctx, principal)
    return Metadata(stored.version, stored.doc.get("tables", []), stored.doc.get("settings"))


async def add_table(
    ctx: Context, principal: Principal, *, table_name: object, columns: object = None
) -> dict[str, Any]:
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
        check_formulas(table)  # a formula atoll cannot evaluate is refused (400)
        tables.append(table)
        for column, (_, col_type, col_data) in zip(made, specs, strict=True):
            if col_type == "link":
                links.setup_link_column(doc, table, column, col_data, max_columns=MAX_COLUMNS_PER_TABLE)
        return copy.deepcopy(table)

    return await change_doc(ctx, principal, change)


async def rename_table(ctx: Context, principal: Principal, ref: TableRef, *, new_name: object) -> None:
    name = valid_name(new_name, "new_table_name")

    def change(conn: Connection, doc: dict[str, Any]) -> None:
        table = find_table(doc, ref)
        if any(t["name"] == name and t is not table for t in doc["tables"]):
            raise InvalidInput(f"table {name} already exists.")
        table["name"] = name

    await change_doc(ctx, principal, change)


async def delete_table(ctx: Context, principal: Principal, ref: TableRef) -> None:
    def change(conn: Connection, doc: dict[str, Any]) -> None:
        table = find_table(doc, ref)
        doc["tables"] = [t for t in doc["tables"] if t is not table]
        links.table_deleted(conn, principal.dtable.uuid, doc, table)
        q.delete_table_rows(conn, principal.dtable.uuid, table["_id"])

    await change_doc(ctx, principal, change)
