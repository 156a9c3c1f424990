"""atoll's Python SDK: ``atoll.Base`` is a streaming, retrying drop-in for ``seatable_api.Base``.

Layout, as httpx's: ``_requests`` builds every request and parses every answer without I/O
(paths from ``wire/endpoints.py``); ``_transport`` moves the bytes (a ``Transport`` on
``httpx.Client``: retries, timeouts, streaming); ``sync`` is ``Base``, which holds a transport
and has one method per operation; ``exceptions`` holds the typed errors.

``__all__`` below is the one list of exported names (``atoll`` re-exports it).
"""

from atoll.client._requests import ColumnTypes
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
