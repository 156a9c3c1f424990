"""Fixtures of the client tests: a private resume store for every test, and a live server
behind a fault proxy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.client.live_files import SERVER_ENV, Proxied
from tests.faultproxy import in_front_of
from tests.live_server import LiveServer


@pytest.fixture(autouse=True)
def _private_state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default resume store ($XDG_STATE_HOME/atoll/uploads) in a temp dir of the test,
    not in the home directory of whoever runs the tests."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


@pytest.fixture(scope="module")
def proxied_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    srv = LiveServer(tmp_path_factory.mktemp("proxied") / "data", env=SERVER_ENV)
    with in_front_of(srv.url) as proxy:
        srv.public_url = proxy.endpoint
        with srv:
            yield Proxied(srv, proxy, srv.create_token("Proxied"))


@pytest.fixture
def proxied(proxied_server: Proxied) -> Proxied:
    """A server whose links (tus upload URLs, download links) all point at a fault proxy, with
    no faults set and no requests recorded yet (the server is the module's)."""
    proxied_server.clear()
    return proxied_server
