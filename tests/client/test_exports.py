"""The SDK's exported names, pinned: ``atoll.client.__all__`` is the one list, ``atoll``
re-exports it, and nothing public is left out of it."""

from __future__ import annotations

import subprocess
import sys
import types

import atoll
import atoll.client

SDK_NAMES = [
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


def _public(module: types.ModuleType) -> set[str]:
    """Names a user sees in ``dir(module)``: not private, not a submodule."""
    return {
        name for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }


def test_sdk_exports() -> None:
    assert atoll.client.__all__ == SDK_NAMES
    assert _public(atoll.client) == set(SDK_NAMES)
    for name in SDK_NAMES:
        assert getattr(atoll.client, name).__module__.startswith("atoll.client.")


def test_package_reexports_the_sdk() -> None:
    assert atoll.__all__ == [*SDK_NAMES, "__version__"]
    for name in SDK_NAMES:
        assert getattr(atoll, name) is getattr(atoll.client, name)
    assert isinstance(atoll.__version__, str)
    assert _public(atoll) == set(SDK_NAMES)


def test_importing_the_package_does_not_load_the_sdk() -> None:
    probe = ("import sys, atoll; loaded = 'atoll.client' in sys.modules or 'httpx' in sys.modules; "
             "from atoll import Base; print(loaded, Base.__module__)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "atoll.client.sync"]
