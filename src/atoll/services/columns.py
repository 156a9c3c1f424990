"""Use cases on a table's columns, and the ``data`` each column type gets by default."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, get_args

from sqlalchemy import Connection

from atoll.db import rows as q
from atoll.errors import InvalidInput
from atoll.models import Principal
from atoll.services import asset_refs, autonumber, convert, formula, links, rowkeys
from atoll.services.cells import OPTION_COLORS, SYSTEM_KEYS, new_option_id
from atoll.services.context import Context
from atoll.services.structure import (
    TableRef,
    change_doc,
    find_column,
    find_table,
    find_view,
    new_id,
    read_doc,
    valid_name,
)
from atoll.wire import tables as w
from atoll.wire.columns import COLUMN_TYPES
from atoll.wire.shapes import ColumnOp

#: Columns one table may hold (SeaTable: 500).
MAX_COLUMNS_PER_TABLE = 500

# Server defaults merged under the client's column_data (SeaTable 6.x captures).
_DATA_DEFAULTS: dict[str, dict[str, Any]] = {
    "number": {"format": "number", "decimal": "dot", "thousands": "no"},
    "date": {"format": "YYYY-MM-DD"},
    "duration": {"format": "duration", "duration_format": "h:mm"},
    "rate": {"rate_max_number": 5},
    "geolocation": {"geo_format": "lng_lat"},
    "auto-number": {"format": "0000", "digits": 4},
}
# Extras that insert_column adds (createTable does not).
_INSERT_EXTRAS: dict[str, dict[str, Any]] = {
    "formula": {"operated_columns": [], "result_type": "number"},
    "auto-number": {"max_used_auto_number": 0},
}

COLUMN_OPS: tuple[str, ...] = get_args(ColumnOp)


def column_specs(columns: Any, *, default: bool = True) -> list[tuple[str, str, Any]]:
    """``[{column_name, column_type, column_data?}]``; none given: one text column "Name"."""
    if (columns is None or columns == []) and default:
        return [("Name", "text", None)]
    if not isinstance(columns, list) or not columns:
        raise InvalidInput("columns invalid: expected a non-empty list.")
    if len(columns) > MAX_COLUMNS_PER_TABLE:
        raise InvalidInput(f"a table holds at most {MAX_COLUMNS_PER_TABLE} columns.")
    specs: list[tuple[str, str, Any]] = []
    seen: set[str] = set()
    for i, spec in enumerate(columns):
        if not isinstance(spec, dict):
            raise InvalidInput(f"columns[{i}] invalid: expected an object.")
        col_name = valid_column_name(spec.get("column_name", spec.get("name")), f"columns[{i}].column_name")
        col_type = valid_column_type(spec.get("column_type", spec.get("type")))
        if col_name in seen:
            raise InvalidInput(f"column {col_name} appears twice.")
        seen.add(col_name)
        specs.append((col_name, col_type, spec.get("column_data", spec.get("data"))))
    return specs


def valid_column_name(value: Any, what: str = "column_name") -> str:
    name = valid_name(value, what)
    if name in SYSTEM_KEYS:
        raise InvalidInput(f"{what} {name} is reserved.")
    return name


def valid_column_type(value: Any) -> str:
    if not isinstance(value, str) or value not in COLUMN_TYPES:
        raise InvalidInput(f"column_type {value} invalid.")
    return value


def column_data(column_type: str, given: Any, *, inserted: bool = False) -> Any:
    """The stored ``data`` of a new column: server defaults, then the client's values."""
    if given is not None and not isinstance(given, dict):
        raise InvalidInput("column_data invalid: expected an object.")
    if column_type in ("single-select", "multiple-select"):
        return {**(given or {}), "options": _options((given or {}).get("options"))}
    defaults = _DATA_DEFAULTS.get(column_type)
    extras = _INSERT_EXTRAS.get(column_type, {}) if inserted else {}
    if defaults is None and not extras and column_type not in ("formula", "link"):
        return copy.deepcopy(given) if given else None
    data = {**copy.deepcopy(defaults or {}), **copy.deepcopy(given or {})}
    for key, value in extras.items():
        data.setdefault(key, copy.deepcopy(value))
    if column_type == "link":
        data.setdefault("link_id", new_id(set()))
    return data


# ---- computed columns (auto-number, formula) and type changes ------------------------------


def fill_computed(conn: Connection, dtable_uuid: str, table: dict[str, Any], column: dict[str, Any]) -> None:
    """A new computed column gets its cells: numbers for the rows already there (auto-number),
    or its formula checked (400 when atoll cannot evaluate it) and computed for every row."""
    if column.get("type") == "auto-number":
        autonumber.number_existing(conn, dtable_uuid, table, column)
    elif column.get("type") == "formula":
        check_formulas(table)
        formula.recompute_table(conn, dtable_uuid, table)


def check_formulas(table: dict[str, Any]) -> None:
    """Check every formula of the table (strict) and record each one's ``result_type`` and
    ``operated_columns`` (the keys of the columns it reads)."""
    try:
        entries = formula.compile_table(table["columns"], strict=True)
    except formula.FormulaRejected as exc:
        raise InvalidInput(str(exc)) from None
    keys = {c["name"]: c["key"] for c in table["columns"]}
    for entry in entries:
        assert entry.compiled is not None
        data = entry.column["data"]
        data["result_type"] = entry.compiled.result_type
        data["operated_columns"] = sorted(keys[name] for name in entry.compiled.refs)


def rename_references(table: dict[str, Any], old: str, new: str) -> None:
    """Formulas that read column ``old`` read it as ``new`` (they keep working after a rename)."""
    for column in table["columns"]:
        data = column.get("data")
        if (
            column.get("type") == "formula"
            and isinstance(data, dict)
            and isinstance(data.get("formula"), str)
        ):
            data["formula"] = formula.rename_reference(data["formula"], old, new)


def refuse_if_referenced(table: dict[str, Any], column: dict[str, Any], what: str) -> None:
    for other in table["columns"]:
        used = other.get("type") == "formula" and column["name"] in formula.referenced_names(other)
        if other is not column and used:
            raise InvalidInput(
                f"column {column['name']} is used by the formula of column {other['name']}; "
                f"it can not be {what}."
            )


def modify_column_type(
    conn: Connection, dtable_uuid: str, table: dict[str, Any], column: dict[str, Any], args: Mapping[str, Any]
) -> dict[str, Any]:
    """Retype ``column`` and convert its cells (see ``services.convert``); the column object
    plus ``converted_cells`` and ``emptied_cells`` (atoll's addition)."""
    ctype = valid_column_type(args.get("new_column_type"))
    convert.check_pair(str(column.get("type")), ctype)
    old = copy.deepcopy(column)
    counts = convert.Counts()
    given = args.get("column_data") if ctype == "formula" else None
    if ctype == "formula" and not (isinstance(given, dict) and isinstance(given.get("formula"), str)):
        raise InvalidInput("modify_column_type to formula needs column_data.formula.")
    column["type"] = ctype
    if old.get("type") != ctype or given is not None:  # a new formula for a formula column too
        column["data"] = column_data(ctype, given, inserted=True)
    if ctype in ("auto-number", "formula"):
        counts.emptied = convert.clear_rows(conn, dtable_uuid, table["_id"], column["key"])
        if ctype == "auto-number":
            counts.converted = autonumber.number_existing(conn, dtable_uuid, table, column)
            counts.emptied = 0
    elif old.get("type") != ctype:
        counts = convert.convert_rows(conn, dtable_uuid, table["_id"], old, column)
    check_formulas(table)
    formula.recompute_table(conn, dtable_uuid, table)  # refreshes the keys of formulas that changed
    rowkeys.refresh_column(conn, dtable_uuid, table, column)  # its old cells may be gone unchanged
    asset_refs.column_changed(conn, dtable_uuid, table, column)
    return {**copy.deepcopy(column), "converted_cells": counts.converted, "emptied_cells": counts.emptied}


def _options(given: Any) -> list[dict[str, Any]]:
    if given is None:
        return []
    if not isinstance(given, list):
        raise InvalidInput("column_data.options invalid: expected a list.")
    out: list[dict[str, Any]] = []
    for i, option in enumerate(given):
        if not isinstance(option, dict) or not isinstance(option.get("name"), str):
            raise InvalidInput(f"column_data.options[{i}] invalid: expected {{name, ...}}.")
        color, text_color = OPTION_COLORS[i % len(OPTION_COLORS)]
        option_id = option.get("id")
        if not isinstance(option_id, str) or not option_id:
            option_id = new_option_id({o["id"] for o in out})
        out.append(
            {
                **option,
                "id": option_id,
                "color": option.get("color", color),
                "textColor": option.get("textColor", text_color),
            }
        )
    return out


# ---- columns -------------------------------------------------------------------------------


async def list_columns(
    ctx: Context, principal: Principal, ref: TableRef, *, view_name: object = None
) -> list[dict[str, Any]]:
    """The table's columns; with a view, without the view's hidden columns."""
    table = find_table((await read_doc(ctx, principal)).doc, ref)
    columns: list[dict[str, Any]] = table["columns"]
    if view_name:
        hidden = set(find_view(table, view_name).get("hidden_columns") or [])
        columns = [c for c in columns if c["key"] not in hidden]
    return columns


async def insert_column(
    ctx: Context,
    principal: Principal,
    ref: TableRef,
    *,
    column_name: object,
    column_type: object,
    data: object = None,
    anchor_column: object = None,
) -> dict[str, Any]:
    """A new column, after ``anchor_column`` (key or name) or at the end."""
    name = valid_column_name(column_name)
    ctype = valid_column_type(column_type)
    stored_data = column_data(ctype, data, inserted=True)

    def change(conn: Connection, doc: dict[str, Any]) -> dict[str, Any]:
        table = find_table(doc, ref)
        columns: list[dict[str, Any]] = table["columns"]
        if any(c["name"] == name for c in columns):
            raise InvalidInput(f"column {name} already exists.")
        if len(columns) >= MAX_COLUMNS_PER_TABLE:
            raise InvalidInput(f"a table holds at most {MAX_COLUMNS_PER_TABLE} columns.")
        column = w.new_column(
            new_id({c["key"] for c in columns}, first=not columns), name, ctype, stored_data
        )
        at = len(columns)
        if anchor_column:
            at = columns.index(find_column(table, anchor_column)) + 1
        columns.insert(at, column)
        if ctype == "link":
            links.setup_link_column(doc, table, column, data, max_columns=MAX_COLUMNS_PER_TABLE)
        fill_computed(conn, principal.dtable.uuid, table, column)  # refreshes a formula's keys
        if ctype != "formula":
            rowkeys.refresh_column(conn, principal.dtable.uuid, table, column)
        return copy.deepcopy(column)

    return await change_doc(ctx, principal, change)


async def update_column(
    ctx: Context,
    principal: Principal,
    ref: TableRef,
    *,
    op_type: object,
    column_ref: object,
    args: Mapping[str, Any],
) -> dict[str, Any]:
    """PUT columns/: rename, resize, freeze, move or retype one column (by key or name)."""
    if op_type not in COLUMN_OPS:
        raise InvalidInput(f"op_type {op_type} invalid.")

    def change(conn: Connection, doc: dict[str, Any]) -> dict[str, Any]:
        table = find_table(doc, ref)
        column = find_column(table, column_ref)
        if op_type == "rename_column":
            name = valid_column_name(args.get("new_column_name"), "new_column_name")
            if any(c["name"] == name and c is not column for c in table["columns"]):
                raise InvalidInput(f"column {name} already exists.")
            rename_references(table, column["name"], name)
            column["name"] = name
        elif op_type == "resize_column":
            width = args.get("new_column_width")
            if not isinstance(width, int) or isinstance(width, bool) or width <= 0:
                raise InvalidInput("new_column_width invalid.")
            column["width"] = width
        elif op_type == "freeze_column":
            column["frozen"] = bool(args.get("frozen"))
        elif op_type == "move_column":
            target = find_column(table, args.get("target_column"))
            columns: list[dict[str, Any]] = table["columns"]
            if target is not column:
                columns.remove(column)
                columns.insert(columns.index(target) + 1, column)
        else:
            links.check_retype(column, args.get("new_column_type"))
            return modify_column_type(conn, principal.dtable.uuid, table, column, args)
        return copy.deepcopy(column)

    return await change_doc(ctx, principal, change)


async def delete_column(ctx: Context, principal: Principal, ref: TableRef, *, column_ref: object) -> None:
    """Remove a column and its cells. The first column (the row's display column) stays."""

    def change(conn: Connection, doc: dict[str, Any]) -> None:
        table = find_table(doc, ref)
        column = find_column(table, column_ref)
        if table["columns"] and table["columns"][0] is column:
            raise InvalidInput("the first column can not be deleted.")
        refuse_if_referenced(table, column, "deleted")
        table["columns"].remove(column)
        links.column_deleted(conn, principal.dtable.uuid, doc, column)
        key = column["key"]
        for view in table["views"]:
            view["hidden_columns"] = [k for k in view.get("hidden_columns") or [] if k != key]
        uuid = principal.dtable.uuid
        holding = [row for row in q.iter_rows(conn, uuid, table["_id"]) if key in row.data]
        for row in holding:
            row.data.pop(key)
        q.update_rows(conn, uuid, holding)
        q.delete_keys(conn, uuid, table["_id"], column_key=key)
        asset_refs.column_deleted(conn, uuid, table["_id"], key)

    await change_doc(ctx, principal, change)


async def batch_append_columns(
    ctx: Context, principal: Principal, ref: TableRef, *, columns: object
) -> list[dict[str, Any]]:
    """Append several columns at once (``batch-append-columns/``); returns only the new ones."""
    specs = column_specs(columns, default=False)

    def change(conn: Connection, doc: dict[str, Any]) -> list[dict[str, Any]]:
        table = find_table(doc, ref)
        existing: list[dict[str, Any]] = table["columns"]
        if len(existing) + len(specs) > MAX_COLUMNS_PER_TABLE:
            raise InvalidInput(f"a table holds at most {MAX_COLUMNS_PER_TABLE} columns.")
        made = []
        for name, ctype, data in specs:
            if any(c["name"] == name for c in existing):
                raise InvalidInput(f"column {name} already exists.")
            key = new_id({c["key"] for c in existing}, first=not existing)
            column = w.new_column(key, name, ctype, column_data(ctype, data, inserted=True))
            existing.append(column)
            if ctype == "link":
                links.setup_link_column(doc, table, column, data, max_columns=MAX_COLUMNS_PER_TABLE)
            fill_computed(conn, principal.dtable.uuid, table, column)  # refreshes a formula's keys
            if ctype != "formula":
                rowkeys.refresh_column(conn, principal.dtable.uuid, table, column)
            made.append(copy.deepcopy(column))
        return made

    return await change_doc(ctx, principal, change)


async def add_column_options(
    ctx: Context, principal: Principal, ref: TableRef, *, column_ref: object, options: object
) -> None:
    """Add options to a single/multiple-select column; names it already has are skipped."""
    new_options = _options(options)

    def change(conn: Connection, doc: dict[str, Any]) -> None:
        table = find_table(doc, ref)
        column = find_column(table, column_ref)
        before = rowkeys.option_ids(table)
        if column.get("type") not in ("single-select", "multiple-select"):
            raise InvalidInput(f"column {column['name']} is not a select column.")
        data = column.get("data") if isinstance(column.get("data"), dict) else {}
        assert isinstance(data, dict)
        current: list[dict[str, Any]] = data.setdefault("options", [])
        names, ids = {o.get("name") for o in current}, {o.get("id") for o in current}
        for option in new_options:
            if option["name"] in names:
                continue
            if option["id"] in ids:
                option["id"] = new_option_id(ids)
            current.append(option)
            names.add(option["name"])
            ids.add(option["id"])
        column["data"] = data
        rowkeys.refresh_new_options(conn, principal.dtable.uuid, table, before)

    await change_doc(ctx, principal, change)
