"""Use cases on a table's views. Views are stored and listed; their filters, sorts and hidden
columns are kept verbatim but do not change which rows list_rows returns."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from atoll.errors import InvalidInput
from atoll.models import Principal
from atoll.services.context import Context
from atoll.services.structure import TableRef, change_doc, find_table, find_view, new_id, read_doc, valid_name
from atoll.wire import tables as w

#: Views one table may hold.
MAX_VIEWS_PER_TABLE = 200

# View fields a PUT may change besides ``name``, with the JSON type each must have.
_VIEW_FIELDS: dict[str, type | tuple[type, ...]] = {
    "filters": list,
    "filter_conjunction": str,
    "sorts": list,
    "groupbys": list,
    "hidden_columns": list,
    "is_locked": bool,
    "row_height": str,
    "colorbys": dict,
    "summaries": dict,
}


async def list_views(ctx: Context, principal: Principal, ref: TableRef) -> list[dict[str, Any]]:
    views: list[dict[str, Any]] = find_table((await read_doc(ctx, principal)).doc, ref)["views"]
    return views


async def get_view(ctx: Context, principal: Principal, ref: TableRef, *, name: str) -> dict[str, Any]:
    return find_view(find_table((await read_doc(ctx, principal)).doc, ref), name)


async def add_view(
    ctx: Context, principal: Principal, ref: TableRef, *, name: object, view_type: object = None
) -> dict[str, Any]:
    view_name = valid_name(name, "name")
    vtype = view_type if isinstance(view_type, str) and view_type else "table"

    def change(conn: Connection, doc: dict[str, Any]) -> dict[str, Any]:
        table = find_table(doc, ref)
        views: list[dict[str, Any]] = table["views"]
        if any(v["name"] == view_name for v in views):
            raise InvalidInput(f"view {view_name} already exists.")
        if len(views) >= MAX_VIEWS_PER_TABLE:
            raise InvalidInput(f"a table holds at most {MAX_VIEWS_PER_TABLE} views.")
        view = w.new_view(new_id({v["_id"] for v in views}, first=not views), view_name, vtype)
        views.append(view)
        structure = table.setdefault("view_structure", {"folders": [], "view_ids": []})
        structure.setdefault("view_ids", []).append(view["_id"])
        return copy.deepcopy(view)

    return await change_doc(ctx, principal, change)


async def update_view(
    ctx: Context, principal: Principal, ref: TableRef, *, name: str, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """Rename (``name``) and/or store view settings verbatim (they do not filter rows)."""

    def change(conn: Connection, doc: dict[str, Any]) -> dict[str, Any]:
        table = find_table(doc, ref)
        view = find_view(table, name)
        if "name" in changes:
            new_name = valid_name(changes["name"], "name")
            if any(v["name"] == new_name and v is not view for v in table["views"]):
                raise InvalidInput(f"view {new_name} already exists.")
            view["name"] = new_name
        for field, kind in _VIEW_FIELDS.items():
            if field in changes:
                if not isinstance(changes[field], kind):
                    raise InvalidInput(f"{field} invalid.")
                view[field] = copy.deepcopy(changes[field])
        return copy.deepcopy(view)

    return await change_doc(ctx, principal, change)


async def delete_view(ctx: Context, principal: Principal, ref: TableRef, *, name: str) -> None:
    def change(conn: Connection, doc: dict[str, Any]) -> None:
        table = find_table(doc, ref)
        view = find_view(table, name)
        if len(table["views"]) == 1:
            raise InvalidInput("the last view of a table can not be deleted.")
        table["views"].remove(view)
        structure = table.get("view_structure") or {}
        structure["view_ids"] = [i for i in structure.get("view_ids", []) if i != view["_id"]]

    await change_doc(ctx, principal, change)
