"""atoll's Python SDK: ``atoll.Base`` is a streaming, retrying drop-in for ``seatable_api.Base``.

Layout, as httpx's: ``_requests`` builds every request and parses every answer without I/O
(paths from ``wire/endpoints.py``); ``_transport`` moves the bytes (a ``Transport`` on
``httpx.Client``); the methods are written once, as operations that yield I/O effects
(``_effects``), in ``_core`` and ``_files`` (with ``_flows``, ``_download``, ``_resumable`` for
retries, resumed downloads and tus uploads); ``sync`` is ``Base``, which runs them blocking,
``aio`` is ``AsyncBase``, which runs them on ``httpx.AsyncClient``; ``exceptions`` holds the
typed errors.

``__all__`` below is the one list of exported names (``atoll`` re-exports it).
"""

from atoll.client._requests import ColumnTypes
from atoll.client.aio import AsyncBase
from atoll.client.exceptions import (
    AtollHTTPError,
    AuthError,
    BadRequestError,
    IntegrityError,
    NotFoundError,
    QuotaExceededError,
    ServerError,
    TokenExpiredError,
    TooLargeError,
    TransferError,
    TransferTimeoutError,
)
from atoll.client.sync import Base

__all__ = [
    "AsyncBase",
    "AtollHTTPError",
    "AuthError",
    "BadRequestError",
    "Base",
    "ColumnTypes",
    "IntegrityError",
    "NotFoundError",
    "QuotaExceededError",
    "ServerError",
    "TokenExpiredError",
    "TooLargeError",
    "TransferError",
    "TransferTimeoutError",
]
