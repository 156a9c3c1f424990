"""Sans-I/O core of the SDK: what every request and response has in common, no sockets.

Every call of ``atoll.Base`` is described as a :class:`RequestSpec` (method, URL, params, JSON
body, which credential, whether a retry is safe) and its answer is parsed into the value the
official ``seatable-api`` 4.0.0 returns, or into a typed exception. This module holds that
common base (the spec, the :class:`Session` that ``app-access-token`` establishes, JSON and
error parsing, the retry policy); ``_requests_files`` builds the asset and custom-folder
requests, ``_requests_rows`` the table, column, row and SQL ones. ``sync.py`` only moves bytes.
Bodies and params are byte-for-byte what 4.0.0 sends through ``requests``: ``json.dumps`` with
``ensure_ascii=True``, booleans in the query as ``True``, ``start``/``limit`` only when truthy,
``table_id`` added for 4-character table names.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal

from atoll.client.exceptions import (
    AtollHTTPError,
    TokenExpiredError,
    error_class_for_status,
)

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
        return f"{self.server_url}/api-gateway/api/v2/dtables/{self.dtable_uuid}/"


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
    return RequestSpec("GET", server_url + "/api/v2.1/dtable/app-access-token/", "api_token")


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
