"""API tokens over HTTP with an account token: create, list, change, delete a base's tokens
(key sets from the recordings); only members who may write manage them; ``atoll token list``
shows who made each token; step 7 adds ``generated_by`` to an older database."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import delete, inspect, text
from starlette.testclient import TestClient

from atoll.cli import main
from atoll.db import schema
from atoll.db.engine import make_engine
from atoll.db.migrations import LATEST, current_version, migrate
from atoll.db.users import User
from atoll.services import access, accounts
from tests.accounts.conftest import headers, keyset, sign_in
from tests.backends import make_settings, server_env
from tests.conftest import App

RECORDED_TOKEN = {"api_token": None, "app_name": None, "generated_at": None, "generated_by": None,
                  "last_access": None, "permission": None}


def tokens_url(workspace_id: int | None, name: str, app: str = "") -> str:
    return f"/api/v2.1/workspace/{workspace_id}/dtable/{name}/api-tokens/" + (f"{app}/" if app else "")


def upload_link_status(client: TestClient, api_token: str) -> int:
    return client.get("/api/v2.1/dtable/app-upload-link/", headers=headers(api_token)).status_code


def test_create_list_change_delete(app: App, client: TestClient, alice: User) -> None:
    token = sign_in(client, alice.email)
    client.post("/api/v2.1/dtables/", data={"name": "B", "owner": alice.email}, headers=headers(token))
    url = tokens_url(alice.personal_workspace_id, "B")
    made = client.post(url, data={"app_name": "reporting", "permission": "r"}, headers=headers(token))
    assert made.status_code == 201, made.text
    body = made.json()
    assert keyset(body) == RECORDED_TOKEN
    assert re.fullmatch(r"[0-9a-f]{40}", body["api_token"]) and body["permission"] == "r"
    assert body["generated_by"] == "alice@example.com" and body["last_access"] == body["generated_at"]
    again = client.post(url, data={"app_name": "reporting"}, headers=headers(token))
    assert again.status_code == 409
    # the new token works, read-only
    exchanged = client.get("/api/v2.1/dtable/app-access-token/", headers=headers(body["api_token"]))
    assert exchanged.status_code == 200 and exchanged.json()["app_name"] == "reporting"
    assert upload_link_status(client, body["api_token"]) == 403
    listed = client.get(url, headers=headers(token)).json()
    assert keyset(listed) == {"api_tokens": None}
    assert [t["app_name"] for t in listed["api_tokens"]] == ["reporting"]
    changed = client.put(tokens_url(alice.personal_workspace_id, "B", "reporting"),
                         data={"permission": "rw"}, headers=headers(token))
    assert changed.status_code == 200 and changed.json()["permission"] == "rw"
    assert upload_link_status(client, body["api_token"]) == 200
    bad = client.put(tokens_url(alice.personal_workspace_id, "B", "reporting"),
                     data={"permission": "admin"}, headers=headers(token))
    assert bad.status_code == 400
    gone = client.delete(tokens_url(alice.personal_workspace_id, "B", "reporting"), headers=headers(token))
    assert gone.status_code == 200 and gone.json() == {"success": True}
    assert client.get("/api/v2.1/dtable/app-access-token/",
                      headers=headers(body["api_token"])).status_code == 403
    assert client.get(url, headers=headers(token)).json() == {"api_tokens": []}
    missing = client.delete(tokens_url(alice.personal_workspace_id, "B", "reporting"), headers=headers(token))
    assert missing.status_code == 404
    for bad_name in ("", "a/b", "x" * 300):
        resp = client.post(url, data={"app_name": bad_name}, headers=headers(token))
        assert resp.status_code in (400, 404), bad_name


def test_only_writing_members_manage_tokens(app: App, client: TestClient, alice: User, bob: User) -> None:
    made = access.create_api_token(app.ctx.engine, base="Shared", workspace="Team")
    ws = made.dtable.workspace_id
    token = sign_in(client, alice.email)
    url = tokens_url(ws, "Shared")
    assert client.get(url, headers=headers(token)).status_code == 403  # not a member
    accounts.add_member(app.ctx.engine, "Team", alice.email, "readonly")
    assert client.get(url, headers=headers(token)).status_code == 403
    assert client.post(url, data={"app_name": "x"}, headers=headers(token)).status_code == 403
    assert client.get(tokens_url(ws, "Nope"), headers=headers(token)).status_code == 404
    accounts.add_member(app.ctx.engine, "Team", alice.email, "member")
    listed = client.get(url, headers=headers(token)).json()["api_tokens"]
    assert [(t["api_token"], t["generated_by"]) for t in listed] == [(made.token, "")]
    assert client.get(url).status_code == 403
    assert client.get(tokens_url(bob.personal_workspace_id, "x"), headers=headers(token)).status_code == 403


def test_token_list_shows_who_made_each(app: App, client: TestClient, alice: User) -> None:
    made = access.create_api_token(app.ctx.engine, base="B", workspace="Team")
    accounts.add_member(app.ctx.engine, "Team", alice.email, "admin")
    resp = client.post(tokens_url(made.dtable.workspace_id, "B"), data={"app_name": "etl"},
                       headers=headers(sign_in(client, alice.email)))
    assert resp.status_code == 201
    env = {**server_env(), "ATOLL_DATA_DIR": str(app.ctx.settings.data_dir),
           "ATOLL_DB_URL": app.ctx.settings.db_url, "ATOLL_STORAGE": app.ctx.settings.storage}
    out = CliRunner().invoke(main, ["token", "list"], env=env, catch_exceptions=False).output
    rows = {line.split("\t")[0]: line.split("\t")[6:] for line in out.splitlines()}
    assert rows[made.token] == ["atoll", "-"]
    assert rows[resp.json()["api_token"]] == ["etl", "alice@example.com"]


def test_step_7_adds_accounts_to_a_step_6_database(tmp_path: Path) -> None:
    engine = make_engine(make_settings(tmp_path / "data").db_url)
    try:
        migrate(engine)
        with engine.begin() as conn:  # back to step 6
            for table in ("workspace_members", "account_tokens", "login_attempts", "users"):
                conn.execute(text(f"DROP TABLE {table}"))
            conn.execute(text("ALTER TABLE api_tokens DROP COLUMN generated_by"))
            conn.execute(delete(schema.schema_version).where(schema.schema_version.c.version > 6))
        with engine.connect() as conn:
            assert current_version(conn) == 6 and not inspect(conn).has_table("users")
        assert migrate(engine) == (6, LATEST)
        with engine.connect() as conn:
            for table in ("users", "account_tokens", "login_attempts", "workspace_members"):
                assert inspect(conn).has_table(table)
            assert "generated_by" in {c["name"] for c in inspect(conn).get_columns("api_tokens")}
    finally:
        engine.dispose()
