"""Fixtures of the client tests that speak to a live server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.client.live_files import SERVER_ENV
from tests.faultproxy import FaultProxy, in_front_of
from tests.live_server import LiveServer


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, FaultProxy, str]]:
    """A server whose links (tus upload URLs, download links) all point at a fault proxy."""
    srv = LiveServer(tmp_path_factory.mktemp("proxied") / "data", env=SERVER_ENV)
    with in_front_of(srv.url) as proxy:
        srv.public_url = proxy.endpoint
        with srv:
            yield srv, proxy, srv.create_token("Proxied")
