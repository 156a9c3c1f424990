"""atoll's Python SDK: ``atoll.Base`` is a streaming, retrying drop-in for ``seatable_api.Base``.

Layout: ``_shared`` builds requests and parses responses without I/O, ``sync`` moves the bytes
with ``httpx.Client``, ``exceptions`` holds the typed errors.
"""

from atoll.client._shared import ColumnTypes
from atoll.client.exceptions import (
    AtollHTTPError,
    AuthError,
    BadRequestError,
    NotFoundError,
    ServerError,
    TokenExpiredError,
    TooLargeError,
    TransferError,
    TransferTimeoutError,
)
from atoll.client.sync import Base

__all__ = [
    "AtollHTTPError",
    "AuthError",
    "BadRequestError",
    "Base",
    "ColumnTypes",
    "NotFoundError",
    "ServerError",
    "TokenExpiredError",
    "TooLargeError",
    "TransferError",
    "TransferTimeoutError",
]
