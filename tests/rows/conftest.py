"""Fixtures for the rows slice: an in-process app, a base, and clients for each API family."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from atoll.services.access import create_api_token
from atoll.services.context import Context
from tests.conftest import App, MakeApp

GOLDEN = Path(__file__).parent / "golden"

PREFIXES = {
    "gw": "/api-gateway/api/v2/dtables/{uuid}",
    "v1": "/dtable-server/api/v1/dtables/{uuid}",
    "v1gw": "/api-gateway/api/v1/dtables/{uuid}",
}


def golden(name: str) -> Any:
    return json.loads((GOLDEN / name).read_text())


@dataclass
class Api:
    """One access token on one base; ``call(method, family, path)`` hits the base's routes."""

    client: TestClient
    uuid: str
    access_token: str
    family: str = "gw"

    def url(self, path: str, family: str | None = None) -> str:
        return PREFIXES[family or self.family].format(uuid=self.uuid) + path

    def call(self, method: str, path: str, *, family: str | None = None, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Token {self.access_token}", "Content-Type": "application/json"}
        resp: httpx.Response = self.client.request(method, self.url(path, family), headers=headers, **kw)
        return resp

    def ok(self, method: str, path: str, **kw: Any) -> Any:
        resp = self.call(method, path, **kw)
        assert resp.status_code == 200, (resp.status_code, resp.text)
        return resp.json()

    def on(self, family: str) -> Api:
        return Api(self.client, self.uuid, self.access_token, family)


@pytest.fixture
def app(make_app: MakeApp) -> App:
    return make_app()


@pytest.fixture
def ctx(app: App) -> Context:
    return app.ctx


@pytest.fixture
def client(app: App) -> TestClient:
    return app.client


def access_token(client: TestClient, api_token: str) -> str:
    resp = client.get("/api/v2.1/dtable/app-access-token/", headers={"Authorization": f"Token {api_token}"})
    assert resp.status_code == 200, resp.text
    token: str = resp.json()["access_token"]
    return token


def api_on(app: App) -> Api:
    """A read-write access token on base "B" of ``app``."""
    made = create_api_token(app.ctx.engine, base="B")
    return Api(app.client, made.dtable.uuid, access_token(app.client, made.token))


@pytest.fixture
def api(app: App) -> Api:
    return api_on(app)


@pytest.fixture
def ro_api(ctx: Context, client: TestClient, api: Api) -> Api:
    made = create_api_token(ctx.engine, base="B", permission="r")
    assert made.dtable.uuid == api.uuid
    return Api(client, made.dtable.uuid, access_token(client, made.token))
