"""SeaTable's JSON for a base's structure: metadata, tables, columns and views.

Shapes follow the SeaTable 6.x captures pinned in ``tests/rows/golden/``: columns have 16 keys,
views 18 keys, metadata ``format_version`` 9. The stored document uses the
same objects, so most functions here build or trim them.
"""

from __future__ import annotations

import copy
from typing import Any, Final, cast

from atoll.wire.shapes import Column, Columns, Metadata, MetadataTable, Table, View, Views

FORMAT_VERSION: Final = 9
DEFAULT_COLUMN_WIDTH = 200
DEFAULT_VIEW_NAME = "Default View"
DEFAULT_VIEW_ID = "0000"
FIRST_KEY = "0000"
DEFAULT_SETTINGS: dict[str, Any] = {"date_settings": {"first_day_of_week": "Monday"}}

# Keys of a stored table that the metadata endpoint leaves out.
_TABLE_ONLY_KEYS = ("view_structure",)


def new_column(key: str, name: str, column_type: str, data: Any) -> dict[str, Any]:
    """A column object as SeaTable 6.x returns it for API-created columns (16 keys)."""
    return {
        "key": key,
        "name": name,
        "type": column_type,
        "width": DEFAULT_COLUMN_WIDTH,
        "editable": True,
        "resizable": True,
        "draggable": True,
        "data": data,
        "permission_type": "",
        "permitted_users": [],
        "permitted_group": [],
        "edit_metadata_permission_type": "",
        "edit_metadata_permitted_users": [],
        "edit_metadata_permitted_group": [],
        "description": None,
        "colorbys": {},
    }


def new_view(view_id: str, name: str, view_type: str = "table") -> dict[str, Any]:
    """A view object as the gateway's view endpoints return it (18 keys)."""
    return {
        "_id": view_id,
        "name": name,
        "type": view_type,
        "is_locked": False,
        "rows": [],
        "formula_rows": {},
        "summaries": {},
        "filter_conjunction": "And",
        "filters": [],
        "sorts": [],
        "hidden_columns": [],
        "groupbys": [],
        "groups": [],
        "colorbys": {},
        "colors": {},
        "column_colors": {},
        "private_for": None,
        "row_height": "default",
    }


def new_table(table_id: str, name: str, columns: list[dict[str, Any]]) -> dict[str, Any]:
    """A table as stored in the base document (no rows)."""
    return {
        "_id": table_id,
        "name": name,
        "columns": columns,
        "views": [new_view(DEFAULT_VIEW_ID, DEFAULT_VIEW_NAME)],
        "view_structure": {"folders": [], "view_ids": [DEFAULT_VIEW_ID]},
        "header_settings": {},
        "is_header_locked": False,
        "summary_configs": {},
    }


def metadata_json(version: int, tables: list[dict[str, Any]], settings: Any) -> Metadata:
    """``GET metadata/``: tables without rows or view structure."""
    out_tables: list[MetadataTable] = []
    for table in tables:
        trimmed = {k: copy.deepcopy(v) for k, v in table.items() if k not in _TABLE_ONLY_KEYS}
        out_tables.append(cast(MetadataTable, trimmed))
    return {
        "metadata": {
            "tables": out_tables,
            "version": version,
            "format_version": FORMAT_VERSION,
            "settings": copy.deepcopy(settings if settings is not None else DEFAULT_SETTINGS),
        }
    }


def table_json(table: dict[str, Any]) -> Table:
    """``POST tables/``: the new table with empty ``rows``/``id_row_map``; views carry ``link_rows``."""
    out = copy.deepcopy(table)
    out["rows"] = []
    out["id_row_map"] = {}
    out["views"] = [{**view, "link_rows": {}} for view in out["views"]]
    return cast(Table, out)


def columns_json(columns: list[dict[str, Any]]) -> Columns:
    return {"columns": [column_json(c) for c in columns]}


def column_json(column: dict[str, Any]) -> Column:
    return cast(Column, copy.deepcopy(column))


def views_json(views: list[dict[str, Any]]) -> Views:
    return {"views": [view_json(v) for v in views]}


def view_json(view: dict[str, Any]) -> View:
    return cast(View, copy.deepcopy(view))
