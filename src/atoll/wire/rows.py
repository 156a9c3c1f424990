"""SeaTable's JSON for rows, per API family.

- gateway (``/api-gateway/api/v2``): every row carries the 8 system keys and **every** column,
  ``null`` when empty; keyed by column key, or by column name with ``convert_keys=True``. Dates are
  ISO 8601 with seconds and the server's UTC offset.
- v1 (``/dtable-server/api/v1``, ``/api-gateway/api/v1``): keyed by column name, empty cells
  omitted, only ``_id``/``_ctime``/``_mtime``; dates as stored (``2030-06-20``, ``2030-06-20 23:55``).
- raw (gateway ``first_row``, v1 append): the stored row keyed by column key, non-empty cells, plus
  ``_id``, ``_ctime``, ``_mtime``, ``_creator``, ``_last_modifier``.

Select cells are stored as option ids and always rendered as option names (raw rows excepted).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, cast

from atoll.errors import InvalidInput
from atoll.wire.rowlinks import link_cell
from atoll.wire.shapes import (
    BatchAppend,
    GatewayAppend,
    GatewayDeleted,
    GatewayRow,
    GatewayRows,
    RawRow,
    Success,
    V1Row,
    V1Rows,
)

#: Column types whose value comes from the row's system fields, not its data.
SYSTEM_COLUMN_FIELDS = {
    "ctime": "ctime",
    "mtime": "mtime",
    "creator": "creator",
    "last-modifier": "last_modifier",
}

ROW_NOT_FOUND = "row _id not exits"  # sic: SeaTable's gateway message


class RowLike(Protocol):
    @property
    def row_id(self) -> str: ...
    @property
    def ctime(self) -> str: ...
    @property
    def mtime(self) -> str: ...
    @property
    def creator(self) -> str: ...
    @property
    def last_modifier(self) -> str: ...
    @property
    def data(self) -> dict[str, Any]: ...


def parse_stored_date(value: str) -> datetime | None:
    """A stored date (``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM[:SS]``, server-local) as naive datetime."""
    for fmt in ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


def gateway_date(value: Any) -> Any:
    """``2030-06-20`` -> ``2030-06-20T00:00:00+02:00`` (the server's offset on that date)."""
    if not isinstance(value, str):
        return value
    naive = parse_stored_date(value)
    if naive is None:
        return value
    return naive.astimezone().isoformat(timespec="seconds")


def option_name(column: dict[str, Any], value: Any) -> Any:
    """The option name for a stored option id (unknown ids pass through)."""
    data = column.get("data") or {}
    for option in data.get("options") or []:
        if option.get("id") == value:
            return option.get("name")
    return value


def cell_value(column: dict[str, Any], row: RowLike, *, gateway: bool) -> Any:
    ctype = column.get("type")
    system_field = SYSTEM_COLUMN_FIELDS.get(str(ctype))
    if system_field is not None:
        return getattr(row, system_field)
    value = row.data.get(column["key"])
    if value is None:
        return None
    if ctype == "link":
        return link_cell(value, gateway=gateway)
    if ctype == "single-select":
        return option_name(column, value)
    if ctype == "multiple-select" and isinstance(value, list):
        return [option_name(column, v) for v in value]
    if gateway and (ctype == "date" or (ctype == "formula" and _result_type(column) == "date")):
        return gateway_date(value)
    return value


def _result_type(column: dict[str, Any]) -> Any:
    data = column.get("data")
    return data.get("result_type") if isinstance(data, dict) else None


def gateway_row(row: RowLike, columns: Sequence[dict[str, Any]], *, by_name: bool) -> GatewayRow:
    out: dict[str, Any] = {
        "_id": row.row_id,
        "_ctime": row.ctime,
        "_mtime": row.mtime,
        "_creator": row.creator,
        "_last_modifier": row.last_modifier,
        "_archived": False,
        "_locked": None,
        "_locked_by": None,
    }
    for column in columns:
        out[column["name"] if by_name else column["key"]] = cell_value(column, row, gateway=True)
    return cast(GatewayRow, out)


def v1_row(row: RowLike, columns: Sequence[dict[str, Any]]) -> V1Row:
    out: dict[str, Any] = {"_id": row.row_id, "_ctime": row.ctime, "_mtime": row.mtime}
    for column in columns:
        value = cell_value(column, row, gateway=False)
        if isinstance(value, bool) and column.get("type") == "formula":
            value = "true" if value else "false"  # v1 gives a boolean formula as text (recorded)
        if value is not None:
            out[column["name"]] = value
    return cast(V1Row, out)


def raw_row(row: RowLike) -> RawRow:
    out: dict[str, Any] = {
        **row.data,
        "_id": row.row_id,
        "_ctime": row.ctime,
        "_mtime": row.mtime,
        "_creator": row.creator,
        "_last_modifier": row.last_modifier,
    }
    return cast(RawRow, out)


def row_json(
    row: RowLike, columns: Sequence[dict[str, Any]], *, gateway: bool, by_name: bool
) -> GatewayRow | V1Row:
    """One row for list/get: the gateway shape, or v1's (always name-keyed)."""
    if gateway:
        return gateway_row(row, columns, by_name=by_name)
    return v1_row(row, columns)


def rows_json(
    rows: Sequence[RowLike], columns: Sequence[dict[str, Any]], *, gateway: bool, by_name: bool
) -> GatewayRows | V1Rows:
    if gateway:
        return {"rows": [gateway_row(r, columns, by_name=by_name) for r in rows]}
    return {"rows": [v1_row(r, columns) for r in rows]}


def gateway_append_json(rows: Sequence[RowLike]) -> GatewayAppend:
    """Gateway ``POST rows/``: count, ids and the first row keyed by column key."""
    return {
        "inserted_row_count": len(rows),
        "row_ids": [{"_id": r.row_id} for r in rows],
        "first_row": raw_row(rows[0]) if rows else None,
    }


def batch_append_json(count: int) -> BatchAppend:
    """v1 ``batch-append-rows/``."""
    return {"inserted_row_count": count}


def success_json() -> Success:
    return {"success": True}


def delete_rows_json(deleted: int, *, gateway: bool) -> GatewayDeleted | Success:
    if gateway:
        return {"success": True, "deleted_rows": deleted}
    return {"success": True}


# ---- requests ------------------------------------------------------------------------------


def updates_from_body(body: Mapping[str, Any]) -> Any:
    """Gateway sends ``updates: [{row_id, row}]``; v1 update_row sends ``row_id`` and ``row``."""
    if "updates" in body:
        return body["updates"]
    if "row_id" in body:
        return [{"row_id": body.get("row_id"), "row": body.get("row")}]
    raise InvalidInput("updates invalid.")


def row_ids_from_body(body: Mapping[str, Any]) -> Any:
    """Gateway and batch delete send ``row_ids``; v1 delete_row sends ``row_id``."""
    if "row_ids" in body:
        return body["row_ids"]
    if "row_id" in body:
        return [body["row_id"]]
    raise InvalidInput("row_ids invalid.")
