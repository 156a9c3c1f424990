"""The unmodified official ``seatable-api`` client (4.0.0 and 2.6.11) against a live atoll.

Each client version runs in its own venv (``.cache/clients/``) as a subprocess; see
``clients.py``, ``scenarios/`` and the shared cases in ``_cases.py``.

    .venv/bin/python -m pytest tests/compat -m compat
"""

from __future__ import annotations

import pytest

from tests.compat._cases import *  # noqa: F403 - the shared cases are collected here
from tests.compat.clients import CLIENT_VERSIONS
from tests.compat.harness import Client

pytestmark = pytest.mark.compat


@pytest.fixture(params=CLIENT_VERSIONS)
def client(request: pytest.FixtureRequest, official_clients: dict[str, Client]) -> Client:
    return official_clients[request.param]
