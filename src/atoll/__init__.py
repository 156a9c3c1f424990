"""atoll: a SeaTable-compatible server, SDK and CLI for bases, rows, files and images.

The SDK: ``atoll.Base`` (same methods as ``seatable_api.Base``, streaming) and its errors; the
exported names are ``atoll.client.__all__``, plus ``__version__``.
"""

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

from atoll.client import *  # noqa: F403 - the SDK's names, listed once in atoll.client.__all__
from atoll.client import __all__ as _sdk_names

try:
    __version__ = _version("atoll")
except _PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = [*_sdk_names, "__version__"]
