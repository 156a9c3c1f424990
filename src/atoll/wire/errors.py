"""The one table from domain errors to HTTP status and body, per API family.

SeaTable's components each shape errors their own way (wire contract §2.7):
dtable-web ``{"error_msg": ...}``, api-gateway ``{"error_message": ...}``, the Seafile file
server plain text. The official client recognises exactly one structured error everywhere:
403 ``{"error_msg": "Token expired."}``.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from atoll.errors import (
    AtollError,
    AuthenticationFailed,
    InsufficientStorage,
    InvalidInput,
    NotFound,
    PathNotFound,
    PayloadTooLarge,
    PermissionDenied,
    StorageError,
    StorageTimeout,
    StorageUnavailable,
    TokenExpired,
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
    (InvalidInput, 400),
    (AuthenticationFailed, 403),
    (PermissionDenied, 403),
    (NotFound, 404),
    (InsufficientStorage, 507),
    (StorageUnavailable, 503),
    (StorageTimeout, 504),
    (StorageError, 502),
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


def error_body(exc: AtollError, family: Family) -> dict[str, Any] | str:
    """The body for ``exc``: a JSON object, or text for the file server."""
    if isinstance(exc, TokenExpired):
        return {"error_msg": "Token expired."}
    if family is Family.FILE_SERVER:
        return exc.message
    if family is Family.GATEWAY:
        return {"error_message": exc.message}
    return {"error_msg": exc.message}


def server_error_body(family: Family) -> dict[str, Any] | str:
    if family is Family.FILE_SERVER:
        return "Internal Server Error"
    key = "error_message" if family is Family.GATEWAY else "error_msg"
    return {key: "Internal Server Error"}
