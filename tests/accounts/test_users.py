"""Users: creation with a personal workspace, hashing, account tokens, disable, set-password,
and the account routes' answers (key sets from the SeaTable recordings)."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from atoll.db import schema
from atoll.db.users import User
from atoll.errors import Conflict, InvalidInput, NotFound
from atoll.services import accounts, passwords
from tests.accounts.conftest import (
    AUTH_TOKEN,
    PASSWORD,
    headers,
    keyset,
    recorded,
    sign_in,
)
from tests.conftest import App

INFO = "/api2/account/info/"
WORKSPACES = "/api/v2.1/workspaces/"


def test_create_user_makes_an_owned_personal_workspace(app: App, alice: User) -> None:
    assert alice.email == "alice@example.com" and alice.name == "Alice" and alice.is_active
    assert alice.personal_workspace_id is not None and not alice.is_admin
    with app.ctx.engine.connect() as conn:
        m = schema.workspace_members
        role = conn.execute(select(m.c.role).where(
            m.c.user_id == alice.id, m.c.workspace_id == alice.personal_workspace_id)).scalar()
        stored = conn.execute(select(schema.users.c.password_hash)
                              .where(schema.users.c.id == alice.id)).scalar()
    assert role == "owner"
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored
    assert f"m={passwords.ARGON2_MEMORY_KIB},t={passwords.ARGON2_TIME_COST}" in stored


def test_create_user_refuses_duplicates_and_bad_input(app: App, alice: User) -> None:
    with pytest.raises(Conflict):
        accounts.create_user(app.ctx.engine, "ALICE@example.com", PASSWORD)
    with pytest.raises(InvalidInput):
        accounts.create_user(app.ctx.engine, "not-an-email", PASSWORD)
    with pytest.raises(InvalidInput):
        accounts.create_user(app.ctx.engine, "c@example.com", "short")
    assert [u.email for u in accounts.list_users(app.ctx.engine)] == ["alice@example.com"]


def test_sign_in_answers_only_a_token_and_stores_only_its_hash(
        app: App, client: TestClient, alice: User) -> None:
    resp = client.post(AUTH_TOKEN, data={"username": "ALICE@example.com", "password": PASSWORD})
    assert resp.status_code == 200 and resp.headers["cache-control"] == "no-store"
    assert keyset(resp.json()) == keyset(recorded("auth_token"))
    token = resp.json()["token"]
    assert re.fullmatch(r"[0-9a-f]{40}", token)
    with app.ctx.engine.connect() as conn:
        stored = list(conn.execute(select(schema.account_tokens.c.token_hash)).scalars())
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]


def test_account_info_has_the_recorded_keys(client: TestClient, alice: User) -> None:
    resp = client.get(INFO, headers=headers(sign_in(client, alice.email)))
    assert resp.status_code == 200
    body = resp.json()
    assert keyset(body) == keyset(recorded("account_info"))
    assert body["email"] == "alice@example.com" and body["name"] == "Alice"
    assert body["is_staff"] is False
    for key, value in recorded("account_info").items():  # the types the recording proves
        if value in ("int", "str", "bool"):
            assert type(body[key]).__name__ == value, key
        else:
            assert type(body[key]) is type(value), key


def test_account_routes_refuse_missing_and_bad_tokens(client: TestClient, alice: User) -> None:
    for path in (INFO, WORKSPACES, "/api/v2.1/workspace/1/dtable/x/temp-api-token/"):
        missing = client.get(path)
        assert missing.status_code == 403
        assert missing.json() == {"detail": "Authentication credentials were not provided."}
        bad = client.get(path, headers=headers("0" * 40))
        assert bad.status_code == 401 and bad.json() == {"detail": "Invalid token"}
    bearer = client.get(INFO, headers={"Authorization": "Bearer " + sign_in(client, alice.email)})
    assert bearer.status_code == 200


def test_disable_shuts_tokens_out_at_once(app: App, client: TestClient, alice: User) -> None:
    token = sign_in(client, alice.email)
    assert client.get(INFO, headers=headers(token)).status_code == 200
    accounts.set_active(app.ctx.engine, alice.email, False)
    assert client.get(INFO, headers=headers(token)).status_code == 401
    refused = client.post(AUTH_TOKEN, data={"username": alice.email, "password": PASSWORD})
    assert refused.status_code == 400
    accounts.set_active(app.ctx.engine, alice.email, True)
    assert client.get(INFO, headers=headers(token)).status_code == 200
    with pytest.raises(NotFound):
        accounts.set_active(app.ctx.engine, "nobody@example.com", False)


def test_set_password_signs_out_and_changes_the_password(
        app: App, client: TestClient, alice: User) -> None:
    token = sign_in(client, alice.email)
    accounts.set_password(app.ctx.engine, alice.email, "a new password")
    assert client.get(INFO, headers=headers(token)).status_code == 401
    old = client.post(AUTH_TOKEN, data={"username": alice.email, "password": PASSWORD})
    assert old.status_code == 400
    fresh = sign_in(client, alice.email, "a new password")
    assert client.get(INFO, headers=headers(fresh)).status_code == 200


def test_account_tokens_per_user_are_bounded(app: App, alice: User) -> None:
    made = [accounts.issue_account_token(app.ctx.engine, alice)
            for _ in range(accounts.MAX_ACCOUNT_TOKENS_PER_USER + 3)]
    with app.ctx.engine.connect() as conn:
        kept = set(conn.execute(select(schema.account_tokens.c.token_hash)).scalars())
    assert len(kept) == accounts.MAX_ACCOUNT_TOKENS_PER_USER
    assert accounts.token_hash(made[-1]) in kept
