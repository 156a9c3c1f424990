"""atoll: a SeaTable-compatible server, SDK and CLI for bases, rows, files and images.

The SDK: ``atoll.Base`` (same methods as ``seatable_api.Base``, streaming) and its errors; the
exported names are ``atoll.client.__all__``, plus ``__version__``. They are imported on first
use, so a server or an operator command started as ``python -m atoll`` does not load the SDK
(httpx and its kin cost a third of a second per process).
"""

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

if _TYPE_CHECKING:
    from atoll.client import *  # noqa: F403 - for type checkers; at run time __getattr__ below

#: ``atoll.client.__all__``, repeated so that ``import atoll`` need not import the SDK
#: (tests/client/test_exports.py checks the two lists are the same).
_SDK_NAMES = (
    "AsyncBase", "AtollHTTPError", "AuthError", "BadRequestError", "Base", "ColumnTypes",
    "IntegrityError", "NotFoundError", "QuotaExceededError", "ServerError", "TokenExpiredError",
    "TooLargeError", "TransferError", "TransferTimeoutError",
)

try:
    __version__ = _version("atoll")
except _PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = [*_SDK_NAMES, "__version__"]


def __getattr__(name: str) -> _Any:
    if name in _SDK_NAMES:
        from atoll import client

        value = globals()[name] = getattr(client, name)
        return value
    raise AttributeError(f"module 'atoll' has no attribute {name!r}")
