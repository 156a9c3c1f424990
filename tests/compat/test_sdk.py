"""The same scenarios through our own SDK, ``atoll.Base`` (a drop-in for seatable-api 4.0.0).

The scenario scripts run with this venv's python and ``COMPAT_CLIENT=atoll``, which makes them
``from atoll import Base`` instead of ``from seatable_api import Base``. The expectations are
those of seatable-api 4.0.0.
"""

from __future__ import annotations

import importlib

import pytest

from tests.compat._cases import *  # noqa: F403 - the shared cases are collected here
from tests.compat.harness import Client, sdk_client

pytestmark = pytest.mark.compat


def _sdk_missing() -> str | None:
    try:
        atoll = importlib.import_module("atoll")
    except ImportError as exc:
        return f"atoll is not importable: {exc}"
    if not hasattr(atoll, "Base"):
        return "atoll.Base (the SDK in src/atoll/client/) does not exist yet"
    return None


@pytest.fixture(params=["atoll"])
def client() -> Client:
    why = _sdk_missing()
    if why:
        pytest.skip(why)
    return sdk_client()
