"""Workspaces, add_base and get_base's temporary API token: a user sees and opens only the
bases of workspaces they belong to, with their role's permission."""

from __future__ import annotations

import time

from starlette.testclient import TestClient

from atoll.db.users import User
from atoll.services import access, accounts
from tests.accounts.conftest import headers, keyset, recorded, sign_in
from tests.conftest import App, MakeApp

WORKSPACES = "/api/v2.1/workspaces/"
DTABLES = "/api/v2.1/dtables/"
GW = "/api-gateway/api/v2/dtables/{uuid}"


def temp_url(workspace_id: int, name: str) -> str:
    return f"/api/v2.1/workspace/{workspace_id}/dtable/{name}/temp-api-token/"


def add_base(client: TestClient, token: str, **form: object) -> dict[str, object]:
    resp = client.post(DTABLES, data=form, headers=headers(token))
    assert resp.status_code == 201, resp.text
    table: dict[str, object] = resp.json()["table"]
    return table


def exchange(client: TestClient, api_token: str, prefix: str = "Token") -> dict[str, object]:
    resp = client.get("/api/v2.1/dtable/app-access-token/",
                      headers={"Authorization": f"{prefix} {api_token}"})
    assert resp.status_code == 200, resp.text
    body: dict[str, object] = resp.json()
    return body


def test_workspaces_list_the_personal_one_and_groups(
        app: App, client: TestClient, alice: User) -> None:
    token = sign_in(client, alice.email)
    [personal] = client.get(WORKSPACES, headers=headers(token)).json()["workspace_list"]
    assert personal["id"] == alice.personal_workspace_id
    assert personal["type"] == "personal" and personal["owner_type"] == "Personal"
    assert "group_id" not in personal and personal["table_list"] == [] and personal["role"] == "owner"
    access.create_api_token(app.ctx.engine, base="Shared", workspace="Team")
    accounts.add_member(app.ctx.engine, "Team", alice.email, "readonly")
    listed = client.get(WORKSPACES, headers=headers(token)).json()["workspace_list"]
    team = next(w for w in listed if w["name"] == "Team")
    assert team["type"] == "group" and team["owner_type"] == "Group"
    assert team["group_id"] == team["id"] and team["role"] == "readonly"
    assert [t["name"] for t in team["table_list"]] == ["Shared"]


def test_add_base_by_owner_group_and_workspace_id(
        app: App, client: TestClient, alice: User) -> None:
    token = sign_in(client, alice.email)
    table = add_base(client, token, name="Mine", owner=alice.email)
    assert keyset({"table": table}) == keyset(recorded("create_base"))
    assert table["workspace_id"] == alice.personal_workspace_id and table["name"] == "Mine"
    assert isinstance(table["id"], int) and table["in_storage"] is True
    access.create_api_token(app.ctx.engine, base="Existing", workspace="Team")
    accounts.add_member(app.ctx.engine, "Team", alice.email, "member")
    team = next(w for w in client.get(WORKSPACES, headers=headers(token)).json()["workspace_list"]
                if w["name"] == "Team")
    grouped = add_base(client, token, name="Grouped", owner=f"{team['group_id']}@seafile_group")
    assert grouped["workspace_id"] == team["id"]
    as_json = client.post(DTABLES, json={"workspace_id": team["id"], "name": "Json"},
                          headers=headers(token))
    assert as_json.status_code == 201 and as_json.json()["table"]["workspace_id"] == team["id"]
    again = client.post(DTABLES, data={"name": "Mine", "owner": alice.email}, headers=headers(token))
    assert again.status_code == 409 and "already exists" in again.json()["error_msg"]
    for bad in ("", "a/b", "x" * 300):
        resp = client.post(DTABLES, data={"name": bad, "owner": alice.email}, headers=headers(token))
        assert resp.status_code == 400 and "name invalid" in resp.json()["error_msg"]


def test_add_base_is_refused_outside_ones_workspaces(
        app: App, client: TestClient, alice: User, bob: User) -> None:
    token = sign_in(client, alice.email)
    for form in ({"name": "X", "owner": bob.email},
                 {"name": "X", "owner": f"{bob.personal_workspace_id}@seafile_group"},
                 {"name": "X", "workspace_id": str(bob.personal_workspace_id)}):
        resp = client.post(DTABLES, data=form, headers=headers(token))
        assert resp.status_code == 403, (form, resp.text)
    missing = client.post(DTABLES, data={"name": "X", "workspace_id": "99999"}, headers=headers(token))
    assert missing.status_code == 404
    access.create_api_token(app.ctx.engine, base="Existing", workspace="Team")
    accounts.add_member(app.ctx.engine, "Team", alice.email, "readonly")
    team_id = next(w["id"] for w in client.get(WORKSPACES, headers=headers(token)).json()["workspace_list"]
                   if w["name"] == "Team")
    readonly = client.post(DTABLES, data={"name": "X", "workspace_id": str(team_id)}, headers=headers(token))
    assert readonly.status_code == 403
    bob_sees = client.get(WORKSPACES, headers=headers(sign_in(client, bob.email))).json()
    assert [w["id"] for w in bob_sees["workspace_list"]] == [bob.personal_workspace_id]


def test_temp_api_token_opens_the_base_like_an_api_token(
        app: App, client: TestClient, alice: User) -> None:
    token = sign_in(client, alice.email)
    table = add_base(client, token, name="Base One", owner=alice.email)
    resp = client.get(temp_url(int(str(table["workspace_id"])), "Base One"), headers=headers(token))
    assert resp.status_code == 200 and set(resp.json()) == {"api_token"}
    temp = resp.json()["api_token"]
    for prefix in ("Token", "Bearer"):
        body = exchange(client, temp, prefix)
        assert keyset(body) == keyset(recorded("app_access_token")) | {"dtable_db": None}
        assert body["dtable_uuid"] == table["uuid"] and body["app_name"] == "scripts"
    access_token = str(exchange(client, temp)["access_token"])
    gw = GW.format(uuid=table["uuid"])
    made = client.post(gw + "/tables/", headers=headers(access_token),
                       json={"table_name": "T", "columns": [{"column_name": "Name", "column_type": "text"}]})
    assert made.status_code == 200, made.text
    link = client.get("/api/v2.1/dtable/app-upload-link/", headers=headers(temp))
    assert link.status_code == 200 and "upload_link" in link.json()
    # a temp token is not an access token, and an access token is not a temp token
    assert client.get(gw + "/metadata/", headers=headers(temp)).status_code == 403
    assert client.get("/api/v2.1/dtable/app-upload-link/", headers=headers(access_token)).status_code == 403


def test_temp_api_token_follows_membership_role_and_state(
        app: App, client: TestClient, alice: User, bob: User) -> None:
    made = access.create_api_token(app.ctx.engine, base="Shared", workspace="Team")
    ws = made.dtable.workspace_id
    token = sign_in(client, alice.email)
    assert client.get(temp_url(ws, "Shared"), headers=headers(token)).status_code == 403
    assert client.get(temp_url(99999, "Shared"), headers=headers(token)).status_code == 404
    accounts.add_member(app.ctx.engine, "Team", alice.email, "readonly")
    assert client.get(temp_url(ws, "Nope"), headers=headers(token)).status_code == 404
    temp = client.get(temp_url(ws, "Shared"), headers=headers(token)).json()["api_token"]
    assert client.get("/api/v2.1/dtable/app-upload-link/", headers=headers(temp)).status_code == 403  # r
    accounts.add_member(app.ctx.engine, "Team", alice.email, "member")
    rw = client.get(temp_url(ws, "Shared"), headers=headers(token)).json()["api_token"]
    assert client.get("/api/v2.1/dtable/app-upload-link/", headers=headers(rw)).status_code == 200
    accounts.add_member(app.ctx.engine, "Team", alice.email, "readonly")  # demoted: rw token reads only
    assert client.get("/api/v2.1/dtable/app-upload-link/", headers=headers(rw)).status_code == 403
    exchange(client, rw)
    accounts.set_active(app.ctx.engine, alice.email, False)  # disabled: the temp token fails at once
    resp = client.get("/api/v2.1/dtable/app-access-token/", headers=headers(rw))
    assert resp.status_code == 403
    bob_token = sign_in(client, bob.email)
    assert client.get(temp_url(ws, "Shared"), headers=headers(bob_token)).status_code == 403


def test_temp_api_token_expires(make_app: MakeApp) -> None:
    app = make_app(temp_api_token_ttl_s=1)
    alice = accounts.create_user(app.ctx.engine, "alice@example.com", "correct horse battery")
    token = sign_in(app.client, alice.email)
    add_base(app.client, token, name="B", owner=alice.email)
    assert alice.personal_workspace_id is not None
    url = temp_url(alice.personal_workspace_id, "B")
    temp = app.client.get(url, headers=headers(token)).json()["api_token"]
    exchange(app.client, temp)
    time.sleep(2.1)
    resp = app.client.get("/api/v2.1/dtable/app-access-token/", headers=headers(temp))
    assert resp.status_code == 403


def test_copy_base_needs_an_account_token(client: TestClient, alice: User) -> None:
    """copy_base itself: tests/accounts/test_copy_base.py."""
    assert client.post("/api/v2.1/dtable-copy/").status_code == 403
    resp = client.post("/api/v2.1/dtable-copy/", headers=headers("0" * 40),
                       data={"src_workspace_id": "1", "name": "x", "dst_workspace_id": "1"})
    assert resp.status_code == 401
