"""atoll: a SeaTable-compatible server, SDK and CLI for bases, rows, files and images.

The SDK: ``atoll.Base`` (same methods as ``seatable_api.Base``, streaming) and its errors.
"""

from importlib.metadata import PackageNotFoundError, version

from atoll.client import (
    AtollHTTPError,
    AuthError,
    BadRequestError,
    Base,
    ColumnTypes,
    NotFoundError,
    ServerError,
    TokenExpiredError,
    TooLargeError,
    TransferError,
    TransferTimeoutError,
)

try:
    __version__ = version("atoll")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

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
    "__version__",
]
