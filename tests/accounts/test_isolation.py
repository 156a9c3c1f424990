"""Two users, two personal workspaces: every route that names a base or a workspace in its
path, with every method, answers no success to any credential of the other user (account
token, API token made over HTTP, temporary API token, access token), and an upload ticket of
one base writes nothing into the other. The other user's own credentials work on the same URLs
(the URLs are right), and their base is unchanged afterwards."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from atoll.server.routes import routes
from atoll.services import accounts
from tests.accounts.conftest import PASSWORD, headers, sign_in
from tests.conftest import App

GW = "/api-gateway/api/v2/dtables/{uuid}"


@dataclass
class Owner:
    email: str
    workspace_id: int
    base: str
    uuid: str
    account: str
    api_token: str
    temp: str
    access: str
    row_id: str = ""


def _owner(client: TestClient, app: App, email: str, base: str) -> Owner:
    user = accounts.create_user(app.ctx.engine, email, PASSWORD)
    assert user.personal_workspace_id is not None
    ws = user.personal_workspace_id
    account = sign_in(client, email)
    table = client.post("/api/v2.1/dtables/", data={"name": base, "owner": email}, headers=headers(account))
    uuid = table.json()["table"]["uuid"]
    api = client.post(f"/api/v2.1/workspace/{ws}/dtable/{base}/api-tokens/",
                      data={"app_name": "app", "permission": "rw"}, headers=headers(account)).json()
    temp = client.get(f"/api/v2.1/workspace/{ws}/dtable/{base}/temp-api-token/",
                      headers=headers(account)).json()["api_token"]
    access = client.get("/api/v2.1/dtable/app-access-token/", headers=headers(temp)).json()["access_token"]
    return Owner(email, ws, base, uuid, account, api["api_token"], temp, access)


@pytest.fixture
def pair(app: App, client: TestClient) -> tuple[Owner, Owner]:
    alice = _owner(client, app, "alice@example.com", "A")
    bob = _owner(client, app, "bob@example.com", "B")
    gw = GW.format(uuid=bob.uuid)
    made = client.post(gw + "/tables/", headers=headers(bob.access), json={
        "table_name": "T", "columns": [{"column_name": "Name", "column_type": "text"}]})
    assert made.status_code == 200, made.text
    rows = client.post(gw + "/rows/", headers=headers(bob.access),
                       json={"table_name": "T", "rows": [{"Name": "bob's"}]})
    assert rows.status_code == 200, rows.text
    bob.row_id = rows.json()["row_ids"][0]["_id"]
    return alice, bob


def _concrete(path: str, victim: Owner) -> str:
    fill = {"dtable_uuid": victim.uuid, "workspace_id": str(victim.workspace_id), "name": victim.base,
            "row_id": victim.row_id, "view_name": "Default View", "path": "files/x.txt",
            "app_name": "app"}
    return re.sub(r"{(\w+)(:\w+)?}", lambda m: fill[m.group(1)], path)


def _base_routes() -> list[Route]:
    return [r for r in routes() if isinstance(r, Route) and r.methods
            and ("{dtable_uuid}" in r.path or "{workspace_id" in r.path)]


def test_no_credential_of_one_user_opens_the_other_users_base(
        client: TestClient, pair: tuple[Owner, Owner]) -> None:
    alice, bob = pair
    credentials = {"account token": alice.account, "API token": alice.api_token,
                   "temp API token": alice.temp, "access token": alice.access}
    checked = 0
    for route in _base_routes():
        url = _concrete(route.path, bob)
        for method in sorted(route.methods or ()):
            if method == "OPTIONS":
                continue
            for kind, token in credentials.items():
                resp = client.request(method, url, headers=headers(token), params={"table_name": "T"},
                                      json={"table_name": "T", "rows": [{"Name": "x"}],
                                            "row_id": bob.row_id, "sql": "select * from T"},
                                      follow_redirects=False)
                assert resp.status_code >= 400, (kind, method, url, resp.status_code, resp.text[:200])
                checked += 1
    assert checked > 300
    # the URLs were right: bob's own credentials open them
    gw = GW.format(uuid=bob.uuid)
    assert client.get(gw + "/metadata/", headers=headers(bob.access)).status_code == 200
    assert client.get(f"/api/v2.1/workspace/{bob.workspace_id}/dtable/B/temp-api-token/",
                      headers=headers(bob.account)).status_code == 200
    assert client.get(f"/api/v2.1/workspace/{bob.workspace_id}/dtable/B/api-tokens/",
                      headers=headers(bob.account)).status_code == 200
    # and nothing of bob's changed
    rows = client.get(gw + "/rows/", params={"table_name": "T", "convert_keys": "true"},
                      headers=headers(bob.access)).json()
    assert [r["Name"] for r in rows["rows"]] == ["bob's"]
    listed = client.get(f"/api/v2.1/workspace/{bob.workspace_id}/dtable/B/api-tokens/",
                        headers=headers(bob.account)).json()["api_tokens"]
    assert [t["api_token"] for t in listed] == [bob.api_token]


def test_an_upload_ticket_writes_only_into_its_own_base(
        client: TestClient, pair: tuple[Owner, Owner]) -> None:
    alice, bob = pair

    def upload(parent_dir: str) -> int:
        link = client.get("/api/v2.1/dtable/app-upload-link/", headers=headers(alice.temp)).json()
        resp = client.post(urlsplit(link["upload_link"]).path, params={"ret-json": "1"},
                           data={"parent_dir": parent_dir, "relative_path": "files"},
                           files={"file": ("x.txt", b"alice's")})
        return resp.status_code

    assert upload(f"/asset/{bob.uuid}") == 403
    assert upload(f"/asset/{alice.uuid}") == 200  # the same kind of ticket, into its own base
    bob_link = client.get("/api/v2.1/dtable/app-download-link/", params={"path": "/files/x.txt"},
                          headers=headers(bob.temp))
    assert bob_link.status_code in (400, 404)  # bob has no such file
