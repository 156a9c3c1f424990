"""Fixtures for the compatibility suite: client venvs, one live server per module, scenario runs.

The official ``seatable-api`` client runs in its own venv as a subprocess (see ``clients.py``);
each (client, scenario script) pair runs once per test module against a fresh base (a fresh API
token from ``atoll token create``), and the tests of that module assert on the JSON the script
printed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.compat.clients import CLIENT_VERSIONS, ClientInstallError, ensure_client
from tests.compat.harness import Client, ScenarioRunner
from tests.live_server import LiveServer


@pytest.fixture(scope="session")
def official_clients() -> dict[str, Client]:
    out = {}
    for version in CLIENT_VERSIONS:
        try:
            python = ensure_client(version)
        except ClientInstallError as exc:
            pytest.skip(f"cannot install seatable-api=={version}: {exc}")
        out[version] = Client(name=version, python=str(python))
    return out


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("atoll")
    with LiveServer(root / "data") as server:
        yield server


@pytest.fixture(scope="module")
def scenario(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> ScenarioRunner:
    return ScenarioRunner(live_server, tmp_path_factory.mktemp("scenarios"))
