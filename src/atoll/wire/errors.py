"""The one table from domain errors to HTTP status and body, per API family.

SeaTable's components each shape errors their own way (wire contract §2.7):
dtable-web ``{"error_msg": ...}``, api-gateway ``{"error_message": ...}``, the Seafile file
server plain text. The official client recognises exactly one structured error everywhere:
403 ``{"error_msg": "Token expired."}``.

Every body also names the request (docs/deployment.md, "Request ids"): JSON bodies get an extra
key ``request_id``, text bodies end in `` (request id <id>)``. The official client (2.6.11 and
4.0.0, ``parse_response``) reads ``err.get("error_msg")`` and compares only that value, so the
extra key leaves token expiry recognised; every other error it passes on as the body's text.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from atoll.errors import (
    AtollError,
    AuthenticationFailed,
    ChecksumMismatch,
    Conflict,
    Gone,
    InsufficientStorage,
    InvalidInput,
    Locked,
    NotFound,
    PathNotFound,
    PayloadTooLarge,
    PermissionDenied,
    PreconditionFailed,
    QuotaExceeded,
    StorageError,
    StorageTimeout,
    StorageUnavailable,
    TokenExpired,
    Unprocessable,
    UnsupportedMediaType,
)


class Family(Enum):
    DTABLE_WEB = "dtable-web"  # /api/v2.1/..., /api2/...
    GATEWAY = "gateway"  # /api-gateway/api/v2/...
    DTABLE_SERVER = "dtable-server"  # v1: /api-gateway/api/v1/..., /dtable-server/api/v1/...
    FILE_SERVER = "file-server"  # /seafhttp/...


# Order matters: the first matching class wins (subclasses before their bases).
STATUS: list[tuple[type[AtollError], int]] = [
    (TokenExpired, 403),
    (PayloadTooLarge, 413),
    (PathNotFound, 400),
    (Gone, 410),
    (Locked, 423),
    (Conflict, 409),
    (ChecksumMismatch, 460),
    (UnsupportedMediaType, 415),
    (PreconditionFailed, 412),
    (Unprocessable, 422),
    (InvalidInput, 400),
    (AuthenticationFailed, 403),
    (PermissionDenied, 403),
    (NotFound, 404),
    (InsufficientStorage, 507),
    (StorageUnavailable, 503),
    (StorageTimeout, 504),
    (StorageError, 502),
    (QuotaExceeded, 443),
    (AtollError, 400),
]


def status_for(exc: AtollError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def family_for_path(path: str) -> Family:
    if path.startswith("/seafhttp/"):
        return Family.FILE_SERVER
    if path.startswith("/api-gateway/api/v2/"):
        return Family.GATEWAY
    if "/api/v1/" in path:
        return Family.DTABLE_SERVER
    return Family.DTABLE_WEB


def with_request_id(message: str, request_id: str) -> str:
    """A text body naming the request: the message first, so a client showing it reads as before."""
    return f"{message} (request id {request_id})" if request_id else message


def _body(family: Family, message: str, request_id: str) -> dict[str, Any] | str:
    if family is Family.FILE_SERVER:
        return with_request_id(message, request_id)
    key = "error_message" if family is Family.GATEWAY else "error_msg"
    body: dict[str, Any] = {key: message}
    if request_id:
        body["request_id"] = request_id
    return body


def error_body(exc: AtollError, family: Family, request_id: str = "") -> dict[str, Any] | str:
    """The body for ``exc``: a JSON object, or text for the file server."""
    if isinstance(exc, TokenExpired):
        # The one body the official client recognises: "error_msg" on every family.
        body: dict[str, Any] = {"error_msg": "Token expired."}
        if request_id:
            body["request_id"] = request_id
        return body
    return _body(family, exc.message, request_id)


def server_error_body(family: Family, request_id: str = "") -> dict[str, Any] | str:
    return _body(family, "Internal Server Error", request_id)
