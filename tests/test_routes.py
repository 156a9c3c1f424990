"""Route inventory (S12): every route needs a credential except an explicit allowlist, and no
method or missing credential ever produces a 5xx."""

from __future__ import annotations

import re
import uuid

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from atoll.server.routes import routes
from tests.conftest import MakeApp

PUBLIC = {"/api2/ping/", "/api2/ping", "/api-gateway/api/v2/ping/", "/api-gateway/api/v2/ping",
          "/api/health/", "/api/health", "/api/ready/", "/api/ready",
          "/", "/docs", "/openapi.json", "/favicon.ico"}  # the front door
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "PROPFIND"]
FILLERS = {"dtable_uuid": str(uuid.uuid4()), "workspace_id": "1", "ticket": "not-a-ticket",
           "row_id": "A" * 22, "view_name": "Default View", "name": "x.txt", "path": "files/x.txt",
           "upload_id": "not-an-upload", "token": "not-a-workflow-token",
           "app_name": "an-app"}


def _concrete(path: str) -> str:
    return re.sub(r"{(\w+)(:\w+)?}", lambda m: FILLERS[m.group(1)], path)


@pytest.fixture(scope="module")
def client(make_module_app: MakeApp) -> TestClient:
    return make_module_app(raise_server_exceptions=False, started=False).client


def test_every_route_is_classified_and_guarded(client: TestClient) -> None:
    paths = [r.path for r in routes() if isinstance(r, Route)]
    assert len(paths) > 40
    for path in paths:
        url = _concrete(path)
        for method in METHODS:
            resp = client.request(method, url)
            assert resp.status_code < 500, (method, url, resp.status_code, resp.text)
            if path in PUBLIC:
                continue
            if method == "OPTIONS" and path.startswith("/seafhttp/upload-api/"):
                assert resp.status_code == 200  # CORS preflight of a capability URL
                continue
            if method == "OPTIONS" and path.startswith("/seafhttp/tus"):
                assert resp.status_code == 204  # tus discovery answers anyone
                continue
            assert resp.status_code in (400, 403, 404, 405), (method, url, resp.status_code)
