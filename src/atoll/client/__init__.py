"""atoll's Python SDK: ``atoll.Base`` is a streaming, retrying drop-in for ``seatable_api.Base``.

Layout: without I/O, ``_shared`` holds what requests and responses have in common (session,
request spec, JSON and error parsing, retry policy), ``_requests_files`` and ``_requests_rows``
build the file and the api-gateway requests. ``sync`` assembles ``Base`` from the mixins
``_transport`` (the bytes on ``httpx.Client``: retries, timeouts, streaming), ``_files`` and
``_rows``; ``exceptions`` holds the typed errors.
"""

from atoll.client._requests_rows import ColumnTypes
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
