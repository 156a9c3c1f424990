"""Use cases on a table's views, and the rows a view shows.

A view's filters, sorts and hidden columns apply to ``list_rows(view_name=...)`` and to
filtered-rows with a view: the database evaluates them (``services.sql.viewfilters``, the same
cell expressions as SQL's WHERE). A filter atoll can not evaluate is refused with a 400 when the
view is read, never ignored."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select

from atoll.db import rows as q
from atoll.db import schema
from atoll.db.cellsql import CellSql
from atoll.errors import InvalidInput
from atoll.models import Principal
from atoll.services import formula
from atoll.services.cells import Columns
from atoll.services.context import Context
from atoll.services.sql import narrowing
from atoll.services.sql.viewfilters import filters_condition, find_filter_column, sort_terms
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
    """Rename (``name``) and/or store view settings (filters, sorts, hidden columns...)."""

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


# ---- the rows a view shows -------------------------------------------------------------------


def shapes_rows(view: dict[str, Any]) -> bool:
    """Whether the view filters or sorts (else its rows are the table's, in table order)."""
    return bool(view.get("filters")) or bool(view.get("sorts"))


def visible_columns(table: dict[str, Any], view: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The table's columns minus the view's hidden ones (``hidden_columns`` holds keys)."""
    columns: list[dict[str, Any]] = table["columns"]
    hidden = set((view or {}).get("hidden_columns") or [])
    return [c for c in columns if c["key"] not in hidden]


def view_condition(conn: Connection, table: dict[str, Any], view: dict[str, Any]) -> Any:
    """The view's filters as one SQL condition (None: no filters)."""
    filters = view.get("filters") or []
    if not isinstance(filters, list) or not all(isinstance(f, dict) for f in filters):
        raise InvalidInput(f"view {view.get('name')}: filters invalid.")
    conjunction = view.get("filter_conjunction") or "And"
    _refuse_volatile(table, view, filters)
    return filters_condition(CellSql(conn.dialect.name), Columns(table["columns"]), filters, conjunction)


def view_rows(
    conn: Connection, dtable_uuid: str, table: dict[str, Any], view: dict[str, Any], *, page: int | None
) -> list[Any]:
    """Conditions picking the table's rows a view may show: narrowed to the candidates of its
    filters through the cells' sort keys when that pays (``services.sql.narrowing``), else the
    whole table; ``view_condition`` still decides. Call after ``view_condition`` (it checks the
    filters). ``page``: start + limit of a page in table order (None: sorted)."""
    filters = view.get("filters") or []
    conjunction = view.get("filter_conjunction") or "And"
    narrow = narrowing.view_filters(Columns(table["columns"]), filters, conjunction)
    return narrowing.table_where(conn, narrow, dtable_uuid, table["_id"], page=page)


def _refuse_volatile(table: dict[str, Any], view: dict[str, Any], specs: list[Any]) -> None:
    """A formula computed when read (today/now) has no stored value the database could test."""
    columns = Columns(table["columns"])
    for spec in specs:
        column = find_filter_column(columns, spec) if isinstance(spec, dict) else None
        if column is not None and formula.is_volatile(table, column):
            raise InvalidInput(f"view {view.get('name')}: column {column['name']} is computed when "
                               "read (today/now); it can not filter or sort a view.")


def view_page(
    conn: Connection,
    dtable_uuid: str,
    table: dict[str, Any],
    view: dict[str, Any],
    *,
    order_by: dict[str, Any] | None,
    descending: bool,
    start: int,
    limit: int,
) -> list[q.StoredRow]:
    """A page of the view's rows: filtered, sorted (``order_by`` first, then the view's sorts,
    then table order) and paged by the database."""
    cells = CellSql(conn.dialect.name)
    columns = Columns(table["columns"])
    r = schema.rows
    query = select(r)
    where = view_condition(conn, table, view)
    if where is not None:
        query = query.where(where)
    sorts: list[dict[str, Any]] = []
    if order_by is not None:
        sorts.append({"column_key": order_by["key"], "sort_type": "down" if descending else "up"})
    view_sorts = view.get("sorts") or []
    if not isinstance(view_sorts, list):
        raise InvalidInput(f"view {view.get('name')}: sorts invalid.")
    sorts.extend(view_sorts)
    for s in sorts:
        find_filter_column(columns, s)
    _refuse_volatile(table, view, sorts)
    page = None if sorts else start + limit  # in table order the page stops when full
    query = query.where(*view_rows(conn, dtable_uuid, table, view, page=page))
    query = query.order_by(*sort_terms(cells, columns, sorts), r.c.seq, r.c.row_id).offset(start).limit(limit)
    return [q.row_of(m) for m in conn.execute(query).mappings()]
