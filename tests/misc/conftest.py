"""Fixtures for the misc calls: the rows slice's in-process app and per-family clients."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from atoll.services.access import create_api_token
from atoll.services.context import Context
from tests.conftest import App, MakeApp
from tests.rows.conftest import Api, access_token, api_on

SELECT_TABLE = {
    "table_name": "Geo",
    "columns": [
        {"column_name": "Name", "column_type": "text"},
        {"column_name": "Country", "column_type": "single-select",
         "column_data": {"options": [{"name": "DE"}, {"name": "FR"}]}},
        {"column_name": "City", "column_type": "single-select",
         "column_data": {"options": [{"name": "Berlin"}, {"name": "Bonn"}, {"name": "Paris"}]}},
        {"column_name": "Note", "column_type": "text"},
    ],
}


@pytest.fixture
def app(make_app: MakeApp) -> App:
    return make_app()


@pytest.fixture
def ctx(app: App) -> Context:
    return app.ctx


@pytest.fixture
def client(app: App) -> TestClient:
    return app.client


@pytest.fixture
def api(app: App) -> Api:
    """Base "B" with one table "Table1" (a text column "Name")."""
    made = api_on(app)
    body = {"table_name": "Table1", "columns": [{"column_name": "Name", "column_type": "text"}]}
    made.on("gw").ok("POST", "/tables/", json=body)
    return made


@pytest.fixture
def ro_api(ctx: Context, client: TestClient, api: Api) -> Api:
    made = create_api_token(ctx.engine, base="B", permission="r")
    assert made.dtable.uuid == api.uuid
    return Api(client, made.dtable.uuid, access_token(client, made.token))


@pytest.fixture
def other_api(ctx: Context, client: TestClient) -> Api:
    """A token on another base."""
    made = create_api_token(ctx.engine, base="Other")
    return Api(client, made.dtable.uuid, access_token(client, made.token))
