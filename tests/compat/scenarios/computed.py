"""Computed columns through the official client: auto-number and formula columns made with
insert_column(column_data=...), their values in append_row / list_rows / get_row, recomputation
on update_row, and modify_column_type converting cells.

Run: <client-venv>/bin/python computed.py <server_url> <api_token>
"""

from __future__ import annotations

from _common import auth, begin

Base, version, ck = begin()
base = auth(ck, Base)

try:
    from seatable_api.constants import ColumnTypes  # type: ignore[import-not-found]
except ImportError:  # our SDK
    from atoll import ColumnTypes  # type: ignore[import-not-found,no-redef]

with ck("setup") as r:
    base.add_table("Orders", columns=[
        {"column_name": "Item", "column_type": "text"},
        {"column_name": "Qty", "column_type": "number"},
        {"column_name": "Code", "column_type": "text"},
    ])  # fmt: skip
    r["first"] = base.append_row("Orders", {"Item": "pen", "Qty": 3, "Code": "12"}).get("_id")

with ck("insert_columns") as r:
    made = base.insert_column(
        "Orders",
        "No",
        ColumnTypes.AUTO_NUMBER,
        column_data={"format": "0000", "digits": 4, "prefix_type": "string", "prefix": "ORD"},
    )
    r["auto_number"] = {"type": made.get("type"), "data": made.get("data")}
    made = base.insert_column("Orders", "Total", ColumnTypes.FORMULA, column_data={"formula": "{Qty} * 2.5"})
    r["formula"] = {"type": made.get("type"), "data": made.get("data")}
    made = base.insert_column(
        "Orders",
        "Label",
        ColumnTypes.FORMULA,
        column_data={"formula": 'concatenate(upper({Item}), " x", {Qty})'},
    )
    r["label"] = {"type": made.get("type"), "data": made.get("data")}

with ck("refused_formula") as r:
    r["outcome"] = ck.expect_error(
        base.insert_column, "Orders", "Bad", ColumnTypes.FORMULA, column_data={"formula": "nosuch({Qty})"}
    )
    r["columns"] = [c.get("name") for c in base.list_columns("Orders")]

with ck("rows") as r:
    second = base.append_row("Orders", {"Item": "ink", "Qty": 10, "No": "ignored", "Total": 1})
    keys = {c["name"]: c["key"] for c in base.list_columns("Orders")}
    r["append_row"] = {k: second.get(keys[k], second.get(k)) for k in ("No", "Total", "Label")}
    rows = base.list_rows("Orders")
    r["list_rows"] = [{k: row.get(k) for k in ("Item", "No", "Total", "Label")} for row in rows]
    base.update_row("Orders", second["_id"], {"Qty": 4})
    got = base.get_row("Orders", second["_id"])
    r["get_row_after_update"] = {k: got.get(k) for k in ("No", "Total", "Label")}

with ck("modify_column_type") as r:
    key = next(c["key"] for c in base.list_columns("Orders") if c["name"] == "Code")
    res = base.modify_column_type("Orders", key, ColumnTypes.NUMBER)
    r["response"] = {k: res.get(k) for k in ("type", "converted_cells", "emptied_cells")} if isinstance(
        res, dict) else repr(res)  # fmt: skip
    r["codes"] = [row.get("Code") for row in base.list_rows("Orders")]

ck.emit()
