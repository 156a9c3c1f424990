"""Sans-I/O requests for the api-gateway (base access token): metadata, tables, views, columns,
rows and SQL, plus the column types ``insert_column`` accepts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from atoll.client._shared import Params, RequestSpec, Session


class ColumnTypes(StrEnum):
    """Column types, value-compatible with ``seatable_api.constants.ColumnTypes``."""

    DEFAULT = "default"
    NUMBER = "number"
    TEXT = "text"
    CHECKBOX = "checkbox"
    DATE = "date"
    SINGLE_SELECT = "single-select"
    LONG_TEXT = "long-text"
    IMAGE = "image"
    FILE = "file"
    MULTIPLE_SELECT = "multiple-select"
    COLLABORATOR = "collaborator"
    LINK = "link"
    FORMULA = "formula"
    LINK_FORMULA = "link-formula"
    CREATOR = "creator"
    CTIME = "ctime"
    LAST_MODIFIER = "last-modifier"
    MTIME = "mtime"
    GEOLOCATION = "geolocation"
    AUTO_NUMBER = "auto-number"
    URL = "url"
    EMAIL = "email"
    DURATION = "duration"
    BUTTON = "button"
    RATE = "rate"


COLUMN_TYPE_VALUES = frozenset(t.value for t in ColumnTypes)


def column_type_value(column_type: object) -> str:
    """Accept our ``ColumnTypes``, seatable-api's (a ``str`` Enum) or a plain string."""
    value = getattr(column_type, "value", column_type)
    if not isinstance(value, str) or value not in COLUMN_TYPE_VALUES:
        raise ValueError(f"type {column_type} invalid!")
    return value


def like_table_id(value: str) -> bool:
    return re.match(r"^[-0-9a-zA-Z]{4}$", value) is not None


# api-gateway endpoints (base access token) -----------------------------------------------


def _gw(
    s: Session,
    method: str,
    path: str,
    params: Params | None = None,
    body: Any = None,
    *,
    has_body: bool | None = None,
    idempotent: bool | None = None,
) -> RequestSpec:
    return RequestSpec(
        method,
        s.gateway + path,
        "access_token",
        params,
        body,
        has_body=body is not None if has_body is None else has_body,
        idempotent=method != "POST" if idempotent is None else idempotent,
    )


def _with_tid(body: dict[str, Any], table_name: str, key: str = "table_id") -> dict[str, Any]:
    if like_table_id(table_name):
        body[key] = table_name
    return body


def get_metadata(s: Session) -> RequestSpec:
    return _gw(s, "GET", "metadata/")


def add_table(
    s: Session, table_name: str, lang: str = "en", columns: Sequence[Any] | None = None
) -> RequestSpec:
    body: dict[str, Any] = {"table_name": table_name, "lang": lang}
    if columns:
        body["columns"] = list(columns)
    return _gw(s, "POST", "tables/", body=body)


def rename_table(s: Session, table_name: str, new_table_name: str) -> RequestSpec:
    return _gw(s, "PUT", "tables/", body={"table_name": table_name, "new_table_name": new_table_name})


def delete_table(s: Session, table_name: str) -> RequestSpec:
    return _gw(s, "DELETE", "tables/", body={"table_name": table_name})


def list_views(s: Session, table_name: str) -> RequestSpec:
    return _gw(s, "GET", "views/", [("table_name", table_name)])


def list_rows(
    s: Session,
    table_name: str,
    view_name: str | None = None,
    order_by: str | None = None,
    desc: bool = False,
    start: int | None = None,
    limit: int | None = None,
) -> RequestSpec:
    params: Params = [("table_name", table_name), ("convert_keys", "True")]
    if like_table_id(table_name):
        params.append(("table_id", table_name))
    if view_name:
        params.append(("view_name", view_name))
    if order_by:
        params.append(("order_by", order_by))
        params.append(("direction", "desc" if desc else "asc"))
    if start:
        params.append(("start", str(start)))
    if limit:
        params.append(("limit", str(limit)))
    return _gw(s, "GET", "rows/", params)


def get_row(s: Session, table_name: str, row_id: str) -> RequestSpec:
    params: Params = [("table_name", table_name), ("convert_keys", "True")]
    if like_table_id(table_name):
        params.append(("table_id", table_name))
    # 4.0.0 appends the row id raw; quote only what would break the URL
    return _gw(s, "GET", "rows/" + quote(row_id, safe="") + "/", params)


def append_rows(
    s: Session, table_name: str, rows: Sequence[Any], apply_default: bool | None = None
) -> RequestSpec:
    body = _with_tid({"table_name": table_name, "rows": list(rows)}, table_name)
    if apply_default is not None:
        body["apply_default"] = apply_default
    return _gw(s, "POST", "rows/", body=body)


def update_row(s: Session, table_name: str, row_id: str, row: Any) -> RequestSpec:
    # 4.0.0's gateway update_row sends no table_id (contract Q6)
    body = {"table_name": table_name, "updates": [{"row_id": row_id, "row": row}]}
    return _gw(s, "PUT", "rows/", body=body)


def batch_update_rows(s: Session, table_name: str, updates: Sequence[Any]) -> RequestSpec:
    body = _with_tid({"table_name": table_name, "updates": list(updates)}, table_name)
    return _gw(s, "PUT", "rows/", body=body)


def delete_rows(s: Session, table_name: str, row_ids: Sequence[str]) -> RequestSpec:
    body = _with_tid({"table_name": table_name, "row_ids": list(row_ids)}, table_name)
    return _gw(s, "DELETE", "rows/", body=body)


def list_columns(s: Session, table_name: str, view_name: str | None = None) -> RequestSpec:
    params: Params = [("table_name", table_name)]
    if like_table_id(table_name):
        params.append(("table_id", table_name))
    if view_name:
        params.append(("view_name", view_name))
    return _gw(s, "GET", "columns/", params)


def insert_column(
    s: Session,
    table_name: str,
    column_name: str,
    column_type: object,
    column_key: str | None = None,
    column_data: Any = None,
) -> RequestSpec:
    body = _with_tid(
        {
            "table_name": table_name,
            "column_name": column_name,
            "column_type": column_type_value(column_type),
        },
        table_name,
    )
    if column_key:
        body["anchor_column"] = column_key
    if column_data:
        body["column_data"] = column_data
    return _gw(s, "POST", "columns/", body=body)


def query(
    s: Session, sql: str, convert: bool = True, parameters: Sequence[Any] | None = None
) -> RequestSpec:
    body: dict[str, Any] = {"sql": sql}
    if parameters:
        body["parameters"] = list(parameters)
    if convert:
        body["convert_keys"] = True
    # a SELECT is harmless to repeat; anything else might not be
    read_only = sql.lstrip().lower().startswith("select")
    return RequestSpec(
        "POST", s.gateway + "sql", "access_token", None, body, has_body=True, idempotent=read_only
    )
