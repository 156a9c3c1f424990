"""SeaTable's JSON for links between rows: the request bodies of ``links/``,
``batch-update-links/``, ``query-links/`` and dtable-db ``linked-records/``, and their answers.

Bodies per client (wire contract §7.1):

- v1 ``add_link`` / ``remove_link``: ``{link_id, table_name, other_table_name, table_row_id,
  other_table_row_id}``; v1 ``update_link``: ``{..., row_id, other_rows_ids}``;
- gateway and batch calls: ``{..., other_rows_ids_map: {row_id: [other_row_id]}, [row_id_list]}``;
- ``table_id`` / ``other_table_id`` come along when the names look like ids.

Link cells (filled by ``services.links``) hold ``[{"row_id", "display_value"}]``; the gateway
shows them so, v1 shows the row ids only (recordings ``test_listRows_links``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

from atoll.errors import InvalidInput

#: Paths relative to a base prefix (gateway v2, v1), and dtable-db's own.
LINKS = "/links/"
BATCH_UPDATE_LINKS = "/batch-update-links/"
QUERY_LINKS = "/query-links/"
DTABLE_DB_LINKED_RECORDS = "/dtable-db/api/v1/linked-records/{dtable_uuid}/"


class LinkedRecord(TypedDict):
    row_id: str
    display_value: Any


class LinksBody(TypedDict):
    link_id: str
    table_name: NotRequired[str]
    table_id: NotRequired[str]
    other_table_name: NotRequired[str]
    other_table_id: NotRequired[str]
    other_rows_ids_map: NotRequired[dict[str, list[str]]]
    row_id_list: NotRequired[list[str]]
    table_row_id: NotRequired[str]
    other_table_row_id: NotRequired[str]
    row_id: NotRequired[str]
    other_rows_ids: NotRequired[list[str]]


class LinkedRowsArg(TypedDict):
    row_id: str
    offset: NotRequired[int]
    limit: NotRequired[int]


class QueryLinksBody(TypedDict):
    table_id: str
    link_column_key: NotRequired[str]
    link_column: NotRequired[str]
    rows: list[LinkedRowsArg]


class LinksSuccess(TypedDict):
    success: bool


class LinksDeleted(TypedDict):
    success: bool
    deleted_links_count: int


@dataclass(frozen=True)
class LinkChange:
    """One links request: the link, both tables as named, and per row of the first table the
    rows of the other (``row_ids``: the rows whose links an update replaces)."""

    link_id: str
    table_name: str | None
    table_id: str | None
    other_table_name: str | None
    other_table_id: str | None
    targets: dict[str, list[str]]
    row_ids: list[str]


@dataclass(frozen=True)
class LinkedRowsQuery:
    row_id: str
    offset: int
    limit: int


def _opt_str(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    return value if isinstance(value, str) and value else None


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{what} invalid: expected a non-empty string.")
    return value


def _str_list(value: Any, what: str) -> list[str]:
    if not isinstance(value, list):
        raise InvalidInput(f"{what} invalid: expected a list of row ids.")
    return [_str(v, f"{what}[{i}]") for i, v in enumerate(value)]


def link_change_from_body(body: Mapping[str, Any], *, update: bool) -> LinkChange:
    """Any of the clients' bodies as one ``LinkChange``."""
    link_id = _str(body.get("link_id"), "link_id")
    targets: dict[str, list[str]] = {}
    row_ids: list[str]
    if "other_rows_ids_map" in body:
        given = body["other_rows_ids_map"]
        if not isinstance(given, dict) or not given:
            raise InvalidInput("other_rows_ids_map invalid: expected {row_id: [other_row_id, ...]}.")
        for row_id, others in given.items():
            targets[_str(row_id, "other_rows_ids_map key")] = _str_list(
                others, f"other_rows_ids_map[{row_id}]"
            )
        row_ids = _str_list(body["row_id_list"], "row_id_list") if "row_id_list" in body else list(targets)
    elif update and "row_id" in body:
        row_id = _str(body.get("row_id"), "row_id")
        targets[row_id] = _str_list(body.get("other_rows_ids"), "other_rows_ids")
        row_ids = [row_id]
    elif not update and "table_row_id" in body:
        row_id = _str(body.get("table_row_id"), "table_row_id")
        targets[row_id] = [_str(body.get("other_table_row_id"), "other_table_row_id")]
        row_ids = [row_id]
    else:
        raise InvalidInput("other_rows_ids_map invalid: expected {row_id: [other_row_id, ...]}.")
    if not row_ids:
        raise InvalidInput("row_id_list invalid: expected a non-empty list.")
    if update:
        stray = [r for r in targets if r not in set(row_ids)]
        if stray:
            raise InvalidInput(f"other_rows_ids_map invalid: row {stray[0]} is not in row_id_list.")
    table_name, table_id = _opt_str(body, "table_name"), _opt_str(body, "table_id")
    other_name, other_id = _opt_str(body, "other_table_name"), _opt_str(body, "other_table_id")
    if table_name is None and table_id is None:
        raise InvalidInput("table_name invalid.")
    if other_name is None and other_id is None:
        raise InvalidInput("other_table_name invalid.")
    return LinkChange(link_id, table_name, table_id, other_name, other_id, targets, row_ids)


def link_column_ref(body: Mapping[str, Any]) -> str:
    """gateway ``link_column_key``, dtable-db ``link_column``, the OpenAPI ``link_column_name``."""
    for key in ("link_column_key", "link_column", "link_column_name"):
        if key in body:
            return _str(body[key], key)
    raise InvalidInput("link_column_key invalid.")


def linked_rows_from_body(
    body: Mapping[str, Any], *, default_limit: int, max_limit: int, max_rows: int
) -> list[LinkedRowsQuery]:
    rows = body.get("rows")
    if not isinstance(rows, list) or not rows:
        raise InvalidInput("rows invalid: expected a non-empty list of {row_id, offset, limit}.")
    if len(rows) > max_rows:
        raise InvalidInput(f"rows: at most {max_rows} rows per request.")
    out: list[LinkedRowsQuery] = []
    for i, item in enumerate(rows):
        if not isinstance(item, dict):
            raise InvalidInput(f"rows[{i}] invalid: expected {{row_id, offset, limit}}.")
        row_id = _str(item.get("row_id"), f"rows[{i}].row_id")
        offset = _count(item.get("offset", 0), f"rows[{i}].offset", 0, None)
        limit = _count(item.get("limit", default_limit), f"rows[{i}].limit", 1, max_limit)
        out.append(LinkedRowsQuery(row_id, offset, limit))
    return out


def _count(value: Any, what: str, minimum: int, maximum: int | None) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InvalidInput(f"{what} invalid: expected an integer >= {minimum}.")
    if maximum is not None and value > maximum:
        raise InvalidInput(f"{what} invalid: at most {maximum}.")
    return value


# ---- answers -------------------------------------------------------------------------------


def success_json() -> LinksSuccess:
    return {"success": True}


def deleted_json(count: int) -> LinksDeleted:
    return {"success": True, "deleted_links_count": count}


def linked_records_json(found: Mapping[str, list[LinkedRecord]]) -> dict[str, list[LinkedRecord]]:
    return dict(found)


def link_cell(value: Any, *, gateway: bool) -> Any:
    """A filled link cell for list/get rows: gateway ``[{row_id, display_value}]``, v1 the ids."""
    if not isinstance(value, list) or not value:
        return None
    if gateway:
        return value
    return [item["row_id"] for item in value]
