"""Fixtures for user accounts: an app, users made through the service, sign-in helpers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from atoll.db.users import User
from atoll.services import accounts
from tests.conftest import App, MakeApp

GOLDEN = Path(__file__).parent / "golden" / "recorded.json"
PASSWORD = "correct horse battery"
AUTH_TOKEN = "/api2/auth-token/"


def recorded(name: str) -> Any:
    """A recording of SeaTable 6.x (shared/reference/seatable-snapshots; values masked)."""
    return json.loads(GOLDEN.read_text())[name]


def keyset(value: Any) -> Any:
    """The nested key sets of a JSON value (what the recordings prove)."""
    if isinstance(value, dict):
        return {k: keyset(v) for k, v in value.items()}
    return None


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    resp = client.post(AUTH_TOKEN, data={"username": email, "password": password})
    assert resp.status_code == 200, resp.text
    token: str = resp.json()["token"]
    return token


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


@pytest.fixture
def app(make_app: MakeApp) -> App:
    return make_app()


@pytest.fixture
def client(app: App) -> TestClient:
    return app.client


@pytest.fixture
def alice(app: App) -> User:
    return accounts.create_user(app.ctx.engine, "Alice@Example.com", PASSWORD, name="Alice")


@pytest.fixture
def bob(app: App) -> User:
    return accounts.create_user(app.ctx.engine, "bob@example.com", PASSWORD)
