"""The JSON of the smaller calls the official client makes (issue 11 item 6).

``big_data_insert_rows``, ``add_column_cascade_settings``, ``send_toast_notification``,
``get_related_users``, ``get_user_info``, the whole-base document dtable-sdk's ``loadDTable``
reads, and the refusals for workflows and third-party accounts (email, WeChat). See
docs/misc-calls.md.

No ``from __future__ import annotations`` here: the TypedDicts feed ``wire/schema.py``.
"""

import json
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, TypedDict

from atoll.wire.rows import RowLike, raw_row
from atoll.wire.schema import open_shape
from atoll.wire.tables import DEFAULT_SETTINGS, FORMAT_VERSION

# ---- paths (relative to the prefixes in wire/endpoints.py, or whole) ----------------------

#: base-relative (GATEWAY, V1_GATEWAY, V1_SERVER)
COLUMN_CASCADE_SETTINGS = "/column-cascade-settings/"
UI_TOASTS = "/ui-toasts/"
#: gateway only: 4.0.0's big_data_insert_rows
ADD_ARCHIVED_ROWS = "/add-archived-rows/"
#: dtable-db v1: 2.6.11's big_data_insert_rows (``dtable_db`` of app-access-token + this)
DB_INSERT_ROWS = "/dtable-db/api/v1/insert-rows/{dtable_uuid}/"
#: dtable-web
RELATED_USERS = "/api/v2.1/dtables/{dtable_uuid}/related-users/"
DEPARTMENTS = "/api/v2.1/dtables/{dtable_uuid}/departments/"
APP_USER_INFO = "/api/v2.1/dtable/app-user-info/"
THIRD_PARTY_ACCOUNT = "/api/v2.1/dtable/third-party-account/"
WORKFLOW_TASK_SUBMIT = "/api/v2.1/workflows/{token}/external-task-submit/"

#: The toast types SeaTable's documentation lists for send_toast_notification.
TOAST_TYPES = ("success", "warning", "danger", "notify")

WORKFLOWS_UNSUPPORTED = (
    "Workflows are not supported by this server (atoll): add_workflow_task and "
    "add_workflow_task_with_existed_row cannot be served."
)
THIRD_PARTY_UNSUPPORTED = (
    "Third-party accounts (email, WeChat) are not supported by this server (atoll): "
    "send_email and send_wechat_msg cannot be served."
)


# ---- shapes --------------------------------------------------------------------------------


class InsertedRows(TypedDict):
    inserted_row_count: int


class InsertRowsBody(TypedDict):
    table_name: str
    rows: Annotated[list[dict[str, Any]], "cells keyed by column name or key, as for append"]


class CascadeBody(TypedDict):
    table_name: str
    child_column: Annotated[str, "a single-select column (name or key)"]
    parent_column: Annotated[str, "another single-select column of the same table"]
    cascade_settings: Annotated[
        dict[str, list[str]], "parent option name (or id) -> the child option names (or ids) it allows"
    ]


class ToastDetail(TypedDict):
    msg: str


class ToastBody(TypedDict):
    to_user: Annotated[str, "the user (email) to show the toast to"]
    toast_type: Annotated[str, "success, warning, danger or notify"]
    detail: ToastDetail


class RelatedUser(TypedDict):
    email: Annotated[str, "<32 hex>@auth.local: an app with a token on this base"]
    name: str
    contact_email: str
    avatar_url: str
    id_in_org: str


class RelatedUsers(TypedDict):
    user_list: list[RelatedUser]
    app_user_list: list[RelatedUser]


class UserInfo(TypedDict):
    id_in_org: str
    name: str


class Departments(TypedDict):
    departments: list[Any]


@open_shape
class WholeBase(TypedDict):
    """The whole base: ``version``, ``format_version``, ``settings`` and ``tables``, each table as
    stored (columns, views, ...) with all its ``rows`` keyed by column key (streamed)."""

    version: int
    format_version: int
    settings: Any
    tables: list[dict[str, Any]]


# ---- builders ------------------------------------------------------------------------------


def inserted_json(count: int) -> InsertedRows:
    return {"inserted_row_count": count}


def related_user(email: str, name: str) -> RelatedUser:
    return {"email": email, "name": name, "contact_email": "", "avatar_url": "", "id_in_org": ""}


def related_users_json(users: Sequence[tuple[str, str]]) -> RelatedUsers:
    """``users``: (email, name) pairs."""
    return {"user_list": [related_user(e, n) for e, n in users], "app_user_list": []}


def user_info_json(name: str) -> UserInfo:
    return {"id_in_org": "", "name": name}


def departments_json() -> Departments:
    return {"departments": []}


# ---- the whole-base document, in pieces -----------------------------------------------------
# The document is written as a sequence of byte chunks so that rows never sit in memory all at
# once: base_head, then per table table_head, rows_chunk(s), table_tail, then base_tail.


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def base_head(version: int, doc: Mapping[str, Any]) -> bytes:
    """``{"version":..,"format_version":..,"settings":..,<other doc keys>,"tables":[``."""
    head: dict[str, Any] = {
        "version": version,
        "format_version": FORMAT_VERSION,
        "settings": doc.get("settings") if doc.get("settings") is not None else DEFAULT_SETTINGS,
    }
    for key, value in doc.items():
        if key not in ("tables", "settings", "version", "format_version"):
            head[key] = value
    return (_dump(head)[:-1] + ',"tables":[').encode()


def table_head(table: Mapping[str, Any], *, first: bool) -> bytes:
    """One table's keys as stored, then ``"rows":[``."""
    fields = {k: v for k, v in table.items() if k not in ("rows", "id_row_map")}
    text = _dump(fields)
    text = ("{" + '"rows":[') if text == "{}" else (text[:-1] + ',"rows":[')
    return (("" if first else ",") + text).encode()


def rows_chunk(rows: Sequence[RowLike], *, first: bool) -> bytes:
    """Rows as stored: cells keyed by column key plus ``_id``, ``_ctime``... (``raw_row``)."""
    text = ",".join(_dump(raw_row(r)) for r in rows)
    return (("" if first else ",") + text).encode()


def table_tail() -> bytes:
    return b"]}"


def base_tail() -> bytes:
    return b"]}"
