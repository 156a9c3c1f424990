"""The SDK's requests and answers, without I/O: every request ``atoll.Base`` sends is built here.

Every call is described as a :class:`RequestSpec` (method, URL, params, JSON body, which
credential, whether a retry is safe) and its answer is parsed into the value the official
``seatable-api`` 4.0.0 returns, or into a typed exception. Paths come from ``wire/endpoints.py``
(the server routes the same constants). Bodies and params are byte-for-byte what 4.0.0 sends
through ``requests``: ``json.dumps`` with ``ensure_ascii=True``, booleans in the query as
``True``, ``start``/``limit`` only when truthy, ``table_id`` added for 4-character table names.
``_transport.py`` moves the bytes; ``sync.py`` is ``Base``, one method per operation.
"""

from __future__ import annotations

import json
import os
import random
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from http import HTTPStatus
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict
from urllib.parse import quote

from atoll.client.exceptions import (
    AtollHTTPError,
    TokenExpiredError,
    error_class_for_status,
)
from atoll.wire import columns, links
from atoll.wire import endpoints as ep
from atoll.wire.columns import ColumnType

DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
CHUNK_SIZE = 256 * 1024
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: A plain-text error body longer than this (or of several lines, or markup) is not a message
#: but a page: it is summarised to its status line instead of being shown.
MAX_ERROR_TEXT = 300

Credential = Literal["api_token", "access_token", "none"]
Params = list[tuple[str, str]]


# --------------------------------------------------------------------------------------------
# Requests


@dataclass(frozen=True)
class RequestSpec:
    method: str
    url: str
    credential: Credential
    params: Params | None = None
    json_body: Any = None
    has_body: bool = False
    #: a retry cannot duplicate data (GET, PUT, DELETE, uploads with replace=True)
    idempotent: bool = True

    def body_bytes(self) -> bytes | None:
        return json_dumps(self.json_body) if self.has_body else None


def json_dumps(obj: Any) -> bytes:
    """What ``requests``' ``json=`` sends: ``ensure_ascii=True``, default separators."""
    return json.dumps(obj, allow_nan=False).encode("ascii")


def auth_headers(token: str, *, json_content: bool = True) -> dict[str, str]:
    headers = {"Authorization": "Token " + token}
    if json_content:
        headers["Content-Type"] = "application/json"
    return headers


def normalize_server_url(server_url: str) -> str:
    return server_url.strip().rstrip("/")


@dataclass(frozen=True)
class Session:
    """What ``app-access-token`` established."""

    server_url: str
    access_token: str
    dtable_uuid: str
    workspace_id: int | str | None
    dtable_name: str | None
    dtable_server_url: str
    dtable_db_url: str
    use_api_gateway: bool
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def gateway(self) -> str:
        return self.server_url + ep.gateway(self.dtable_uuid) + "/"


def parse_auth(server_url: str, data: Any) -> Session:
    if not isinstance(data, dict) or not data.get("access_token") or not data.get("dtable_uuid"):
        raise AtollHTTPError(200, "app-access-token answered without access_token/dtable_uuid")
    return Session(
        server_url=server_url,
        access_token=str(data["access_token"]),
        dtable_uuid=str(data["dtable_uuid"]),
        workspace_id=data.get("workspace_id"),
        dtable_name=data.get("dtable_name"),
        dtable_server_url=str(data.get("dtable_server") or "").rstrip("/"),
        dtable_db_url=str(data.get("dtable_db") or "").rstrip("/"),
        use_api_gateway=bool(data.get("use_api_gateway")),
        raw=data,
    )


# dtable-web authentication (API token) --------------------------------------------------


def app_access_token(server_url: str) -> RequestSpec:
    return RequestSpec("GET", server_url + ep.APP_ACCESS_TOKEN, "api_token")


# --------------------------------------------------------------------------------------------
# Column types and api-gateway requests (base access token)


class ColumnTypes(StrEnum):
    """Column types, value-compatible with ``seatable_api.constants.ColumnTypes``: the types of
    ``atoll.wire.columns.ColumnType`` that seatable-api 4.0.0 names, in its order, and its
    ``DEFAULT`` (not a type a column can have: the server refuses it)."""

    DEFAULT = "default"
    NUMBER = ColumnType.NUMBER.value
    TEXT = ColumnType.TEXT.value
    CHECKBOX = ColumnType.CHECKBOX.value
    DATE = ColumnType.DATE.value
    SINGLE_SELECT = ColumnType.SINGLE_SELECT.value
    LONG_TEXT = ColumnType.LONG_TEXT.value
    IMAGE = ColumnType.IMAGE.value
    FILE = ColumnType.FILE.value
    MULTIPLE_SELECT = ColumnType.MULTIPLE_SELECT.value
    COLLABORATOR = ColumnType.COLLABORATOR.value
    LINK = ColumnType.LINK.value
    FORMULA = ColumnType.FORMULA.value
    LINK_FORMULA = ColumnType.LINK_FORMULA.value
    CREATOR = ColumnType.CREATOR.value
    CTIME = ColumnType.CTIME.value
    LAST_MODIFIER = ColumnType.LAST_MODIFIER.value
    MTIME = ColumnType.MTIME.value
    GEOLOCATION = ColumnType.GEOLOCATION.value
    AUTO_NUMBER = ColumnType.AUTO_NUMBER.value
    URL = ColumnType.URL.value
    EMAIL = ColumnType.EMAIL.value
    DURATION = ColumnType.DURATION.value
    BUTTON = ColumnType.BUTTON.value
    RATE = ColumnType.RATE.value


COLUMN_TYPE_VALUES = frozenset(t.value for t in ColumnTypes)


def column_type_value(column_type: object) -> str:
    """Accept our ``ColumnTypes``, seatable-api's (a ``str`` Enum) or a plain string."""
    value = getattr(column_type, "value", column_type)
    if not isinstance(value, str) or value not in COLUMN_TYPE_VALUES:
        raise ValueError(f"type {column_type} invalid!")
    return value


def like_table_id(value: str) -> bool:
    return re.match(r"^[-0-9a-zA-Z]{4}$", value) is not None




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
        s.gateway + path.lstrip("/"),
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
    return _gw(s, "GET", ep.METADATA)


def add_table(
    s: Session, table_name: str, lang: str = "en", columns: Sequence[Any] | None = None
) -> RequestSpec:
    body: dict[str, Any] = {"table_name": table_name, "lang": lang}
    if columns:
        body["columns"] = list(columns)
    return _gw(s, "POST", ep.TABLES, body=body)


def rename_table(s: Session, table_name: str, new_table_name: str) -> RequestSpec:
    return _gw(s, "PUT", ep.TABLES, body={"table_name": table_name, "new_table_name": new_table_name})


def delete_table(s: Session, table_name: str) -> RequestSpec:
    return _gw(s, "DELETE", ep.TABLES, body={"table_name": table_name})


def list_views(s: Session, table_name: str) -> RequestSpec:
    return _gw(s, "GET", ep.VIEWS, [("table_name", table_name)])


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
    return _gw(s, "GET", ep.ROWS, params)


def get_row(s: Session, table_name: str, row_id: str) -> RequestSpec:
    params: Params = [("table_name", table_name), ("convert_keys", "True")]
    if like_table_id(table_name):
        params.append(("table_id", table_name))
    # 4.0.0 appends the row id raw; quote only what would break the URL
    return _gw(s, "GET", ep.ROW.replace("{row_id}", quote(row_id, safe="")), params)


def append_rows(
    s: Session, table_name: str, rows: Sequence[Any], apply_default: bool | None = None
) -> RequestSpec:
    body = _with_tid({"table_name": table_name, "rows": list(rows)}, table_name)
    if apply_default is not None:
        body["apply_default"] = apply_default
    return _gw(s, "POST", ep.ROWS, body=body)


def update_row(s: Session, table_name: str, row_id: str, row: Any) -> RequestSpec:
    # 4.0.0's gateway update_row sends no table_id (contract Q6)
    body = {"table_name": table_name, "updates": [{"row_id": row_id, "row": row}]}
    return _gw(s, "PUT", ep.ROWS, body=body)


def batch_update_rows(s: Session, table_name: str, updates: Sequence[Any]) -> RequestSpec:
    body = _with_tid({"table_name": table_name, "updates": list(updates)}, table_name)
    return _gw(s, "PUT", ep.ROWS, body=body)


def delete_rows(s: Session, table_name: str, row_ids: Sequence[str]) -> RequestSpec:
    body = _with_tid({"table_name": table_name, "row_ids": list(row_ids)}, table_name)
    return _gw(s, "DELETE", ep.ROWS, body=body)


def list_columns(s: Session, table_name: str, view_name: str | None = None) -> RequestSpec:
    params: Params = [("table_name", table_name)]
    if like_table_id(table_name):
        params.append(("table_id", table_name))
    if view_name:
        params.append(("view_name", view_name))
    return _gw(s, "GET", ep.COLUMNS, params)


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
    return _gw(s, "POST", ep.COLUMNS, body=body)


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
    url = s.gateway + ep.SQL.lstrip("/")
    return RequestSpec("POST", url, "access_token", None, body, has_body=True, idempotent=read_only)


# dtable-web endpoints (API token) --------------------------------------------------------


def app_upload_link(server_url: str) -> RequestSpec:
    return RequestSpec("GET", server_url + ep.APP_UPLOAD_LINK, "api_token")


def app_download_link(server_url: str, path: str) -> RequestSpec:
    return RequestSpec(
        "GET", server_url + ep.APP_DOWNLOAD_LINK, "api_token", [("path", path)]
    )


def custom_download_link(server_url: str, path: str) -> RequestSpec:
    return RequestSpec(
        "GET",
        server_url + ep.CUSTOM_DOWNLOAD_LINK,
        "api_token",
        [("path", path)],
    )


def custom_upload_link(server_url: str, path: str) -> RequestSpec:
    return RequestSpec(
        "GET",
        server_url + ep.CUSTOM_UPLOAD_LINK,
        "api_token",
        [("path", path)],
    )


def custom_asset_file(server_url: str, path: str, name: str) -> RequestSpec:
    return RequestSpec(
        "GET",
        server_url + ep.CUSTOM_ASSET_FILE,
        "api_token",
        [("path", path), ("name", name)],
    )


def asset_refs(server_url: str, path: str) -> RequestSpec:
    """atoll's addition: which rows use the asset at ``path`` (``GET app-asset-refs/?path=``)."""
    return RequestSpec("GET", server_url + ep.APP_ASSET_REFS, "api_token", [("path", path)])


def delete_asset(server_url: str, path: str) -> RequestSpec:
    """``DELETE app-asset/?path=`` (to the trash on atoll; a repeat answers 404)."""
    return RequestSpec("DELETE", server_url + ep.APP_ASSET, "api_token", [("path", path)])


def asset_trash(server_url: str, after: int | None) -> RequestSpec:
    """atoll's addition: a page of the base's asset trash."""
    params = [("after", str(after))] if after is not None else []
    return RequestSpec("GET", server_url + ep.APP_ASSET_TRASH, "api_token", params)


def restore_asset(server_url: str, trash_id: int | None, path: str | None) -> RequestSpec:
    """atoll's addition: restore one trash entry (by id, or the newest at ``path``). Not
    retried: a repeat could restore an older entry of the same path."""
    params = [("id", str(trash_id))] if trash_id is not None else [("path", path or "")]
    return RequestSpec("POST", server_url + ep.APP_ASSET_TRASH, "api_token", params, idempotent=False)


def custom_asset_dir(server_url: str, path: str) -> RequestSpec:
    return RequestSpec(
        "GET", server_url + ep.CUSTOM_ASSET_DIR, "api_token", [("path", path)]
    )


def create_custom_dir(server_url: str, path: str) -> RequestSpec:
    """atoll's addition: ``POST app-asset-dir/?path=`` creates a custom folder (and parents)."""
    return RequestSpec(
        "POST",
        server_url + ep.CUSTOM_ASSET_DIR,
        "api_token",
        [("path", path)],
        idempotent=True,  # mkdir -p: repeating it changes nothing
    )


# --------------------------------------------------------------------------------------------
# Responses


def decode_text(content: bytes) -> str:
    return content.decode("utf-8", errors="replace")


def error_message(status: int, content: bytes) -> str:
    """The human message of an error body, whatever the component's shape (contract §2.7):
    ``{"error_msg"}``, ``{"error_message"}``, ``{"detail"}``, Seafile's ``{"error": "..\\n"}``
    (invalid JSON, hence ``strict=False``) or plain text."""
    text = decode_text(content).strip()
    try:
        data = json.loads(text, strict=False)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("error_msg", "error_message", "detail", "error", "message"):
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        for value in data.values():
            if isinstance(value, list) and value and isinstance(value[0], str):
                return value[0]
    if not text:
        return reason_phrase(status)
    if text.startswith("<") or "\n" in text or len(text) > MAX_ERROR_TEXT:
        kind = "an HTML page" if text.startswith("<") else f"{len(content)} bytes of text"
        return f"{reason_phrase(status)} (the answer is {kind}, not an atoll or SeaTable message)"
    return text


def reason_phrase(status: int) -> str:
    """``Not Found`` for 404: with ``HTTP 404: `` in front (``str(err)``), the status line."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def http_error(status: int, content: bytes) -> AtollHTTPError:
    message = error_message(status, content)
    body = decode_text(content)
    if status == 403 and message == "Token expired.":
        return TokenExpiredError(status, message, body)
    return error_class_for_status(status)(status, message, body)


def parse_json(status: int, content: bytes) -> Any:
    """Raise for status >= 400, else the parsed JSON (a 2xx that is not JSON is an error)."""
    if status >= 400:
        raise http_error(status, content)
    try:
        return json.loads(content)
    except ValueError:
        raise AtollHTTPError(
            status, "response is not JSON: " + error_message(status, content), decode_text(content)
        ) from None


def expect_dict(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise AtollHTTPError(200, f"{what}: expected a JSON object, got {type(data).__name__}")
    return data




class FileCell(TypedDict):
    """A file-column cell entry, as uploads and ``get_custom_file_info`` return it (image
    columns store only its ``url``). An upload attached to a cell (upload-and-attach) adds the
    ``row_id`` and ``table_id`` it went to."""

    type: str
    size: int | None
    name: str | None
    url: str
    row_id: NotRequired[str]
    table_id: NotRequired[str]


def _file_cell(file_type: str, size: Any, name: Any, url: str) -> FileCell:
    cell = columns.file_cell(file_type, size, name, url)
    return FileCell(type=cell["type"], size=cell["size"], name=cell["name"], url=cell["url"])


def parse_upload_response(status: int, content: bytes) -> dict[str, Any]:
    """The first element of the file server's ``ret-json`` array."""
    data = parse_json(status, content)
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return data[0]
    raise AtollHTTPError(status, f"unexpected upload response: {decode_text(content)[:200]}")


def custom_file_cell(data: Any) -> FileCell:
    """``get_custom_file_info``'s return value from ``{"dirent": {...}}``."""
    d = expect_dict(expect_dict(data, "custom file info").get("dirent"), "custom file info")
    name = d.get("obj_name")
    if not isinstance(name, str):
        raise AtollHTTPError(200, "custom file info without obj_name")
    url = links.custom_asset_url(asset_uuid=str(d.get("uuid")), name=name)
    return _file_cell(ColumnType.FILE.value, d.get("file_size"), name, url)


def upload_cell(
    session: Session, file_type: str, relative_path: str, local_name: str, answer: dict[str, Any]
) -> FileCell:
    name = answer.get("name")
    url = links.asset_url(
        session.server_url,
        workspace_id="" if session.workspace_id is None else session.workspace_id,
        dtable_uuid=session.dtable_uuid,
        relative_path=relative_path,
        name=name if isinstance(name, str) else local_name,
    )
    return _file_cell(file_type, answer.get("size"), name, url)


def upload_url(upload_link: str) -> str:
    return upload_link + "?ret-json=1"


def upload_fields(parent_dir: str, relative_path: str, replace: bool) -> list[tuple[str, str]]:
    return [
        ("parent_dir", parent_dir),
        ("relative_path", relative_path),
        ("replace", "1" if replace else "0"),
    ]


def local_name(file_path: str | os.PathLike[str]) -> str:
    """4.0.0's default upload name: ``file_path.strip('/').split('/')[-1]``."""
    return os.fspath(file_path).strip("/").split("/")[-1]


def resolve_save_path(save_path: str | os.PathLike[str], name: str) -> Path:
    """Where ``download_file`` writes. An existing directory, or a path ending in a separator,
    receives the file under its own ``name`` (4.0.0 would fail with IsADirectoryError)."""
    raw = os.fspath(save_path)
    p = Path(raw).expanduser()
    if p.is_dir() or raw.endswith(("/", os.sep)):
        if not name or name in (".", ".."):
            raise ValueError(f"cannot derive a file name to save into directory {raw!r}")
        return p / name
    return p


# --------------------------------------------------------------------------------------------
# Multipart (what urllib3 2.x produces for requests' data=/files=: no per-part Content-Type)


def _header_param(name: str, value: str) -> str:
    return '{}="{}"'.format(name, value.translate({10: "%0A", 13: "%0D", 34: "%22"}))


@dataclass(frozen=True)
class MultipartLayout:
    """Text fields, then one file part. ``head`` + file bytes + ``tail`` is the whole body."""

    fields: Sequence[tuple[str, str]]
    filename: str
    file_field: str = "file"
    boundary: str = field(default_factory=lambda: secrets.token_hex(16))

    @property
    def content_type(self) -> str:
        return "multipart/form-data; boundary=" + self.boundary

    @property
    def head(self) -> bytes:
        parts = []
        for name, value in self.fields:
            parts.append(
                f"--{self.boundary}\r\nContent-Disposition: form-data; "
                f"{_header_param('name', name)}\r\n\r\n".encode()
                + value.encode("utf-8")
                + b"\r\n"
            )
        parts.append(
            f"--{self.boundary}\r\nContent-Disposition: form-data; "
            f"{_header_param('name', self.file_field)}; "
            f"{_header_param('filename', self.filename)}\r\n\r\n".encode()
        )
        return b"".join(parts)

    @property
    def tail(self) -> bytes:
        return f"\r\n--{self.boundary}--\r\n".encode()

    def content_length(self, file_size: int) -> int:
        return len(self.head) + file_size + len(self.tail)


# --------------------------------------------------------------------------------------------
# Retries


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with jitter; ``Retry-After`` honoured up to ``backoff_max``."""

    retries: int = DEFAULT_RETRIES
    backoff_base: float = 0.5
    backoff_max: float = 8.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        if retry_after is not None:
            return max(0.0, min(self.backoff_max, retry_after))
        ceiling = min(self.backoff_max, self.backoff_base * 2.0**attempt)
        return float(ceiling * (0.5 + random.random() / 2))


def retryable_status(status: int) -> bool:
    return status in RETRY_STATUSES


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return None  # HTTP-date form: fall back to our own backoff
