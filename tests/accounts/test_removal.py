"""Taking people out: remove-member and delete-user take effect at once on every credential of
the user, refuse what would lose data, and leave nothing of the user behind."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from atoll.db import schema
from atoll.db.users import User
from atoll.errors import Conflict, InvalidInput, NotFound
from atoll.services import access, accounts, accounts_removal
from tests.accounts.conftest import AUTH_TOKEN, PASSWORD, headers, sign_in
from tests.accounts.test_bases import add_base, temp_url
from tests.conftest import App

INFO = "/api2/account/info/"
UPLOAD_LINK = "/api/v2.1/dtable/app-upload-link/"


def _count(app: App, table: object, *where: object) -> int:
    with app.ctx.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def test_remove_member_closes_the_workspace_at_once(
        app: App, client: TestClient, alice: User) -> None:
    made = access.create_api_token(app.ctx.engine, base="Shared", workspace="Team")
    ws = made.dtable.workspace_id
    accounts.add_member(app.ctx.engine, "Team", alice.email, "member")
    token = sign_in(client, alice.email)
    temp = client.get(temp_url(ws, "Shared"), headers=headers(token)).json()["api_token"]
    assert client.get(UPLOAD_LINK, headers=headers(temp)).status_code == 200
    accounts_removal.remove_member(app.ctx.engine, "Team", alice.email)
    assert client.get(UPLOAD_LINK, headers=headers(temp)).status_code == 403  # the temp token
    assert client.get(temp_url(ws, "Shared"), headers=headers(token)).status_code == 403
    listed = client.get("/api/v2.1/workspaces/", headers=headers(token)).json()["workspace_list"]
    assert [w["id"] for w in listed] == [alice.personal_workspace_id]
    api = made.token  # the base's own API token is the base's, not the user's: it keeps working
    assert client.get(UPLOAD_LINK, headers=headers(api)).status_code == 200


def test_remove_member_refusals_change_nothing(app: App, alice: User, bob: User) -> None:
    access.create_api_token(app.ctx.engine, base="Shared", workspace="Team")
    engine = app.ctx.engine
    with pytest.raises(NotFound, match="not a member"):
        accounts_removal.remove_member(engine, "Team", alice.email)
    with pytest.raises(NotFound, match="no workspace"):
        accounts_removal.remove_member(engine, "Nope", alice.email)
    with pytest.raises(NotFound, match="no user"):
        accounts_removal.remove_member(engine, "Team", "nobody@example.com")
    personal = accounts.personal_workspace_name(alice.email)
    with pytest.raises(InvalidInput, match="personal workspace"):
        accounts_removal.remove_member(engine, personal, alice.email)
    m = schema.workspace_members
    assert _count(app, m, m.c.user_id == alice.id) == 1
    accounts.add_member(engine, personal, bob.email, "readonly")  # a guest can be taken out
    accounts_removal.remove_member(engine, personal, bob.email)
    assert _count(app, m, m.c.user_id == bob.id) == 1


def test_delete_user_refuses_while_their_workspace_holds_bases(
        app: App, client: TestClient, alice: User) -> None:
    token = sign_in(client, alice.email)
    add_base(client, token, name="Mine", owner=alice.email)
    with pytest.raises(Conflict, match="Mine"):
        accounts_removal.delete_user(app.ctx.engine, alice.email)
    assert client.get(INFO, headers=headers(token)).status_code == 200  # nothing was deleted
    assert accounts.find_user(app.ctx.engine, alice.email) is not None


def test_delete_user_leaves_nothing_and_frees_the_email(
        app: App, client: TestClient, alice: User, bob: User) -> None:
    access.create_api_token(app.ctx.engine, base="Shared", workspace="Team")
    accounts.add_member(app.ctx.engine, "Team", alice.email, "admin")
    token = sign_in(client, alice.email)
    assert client.post(AUTH_TOKEN, data={"username": alice.email, "password": "wrong one"}
                       ).status_code == 400  # a counted failure
    accounts_removal.delete_user(app.ctx.engine, alice.email)
    assert client.get(INFO, headers=headers(token)).status_code == 401
    u, t, m, w = schema.users, schema.account_tokens, schema.workspace_members, schema.workspaces
    assert _count(app, u, u.c.id == alice.id) == 0
    assert _count(app, t, t.c.user_id == alice.id) == 0
    assert _count(app, m, m.c.user_id == alice.id) == 0
    assert _count(app, w, w.c.id == alice.personal_workspace_id) == 0
    la = schema.login_attempts
    assert _count(app, la, la.c.key == "account:" + alice.email) == 0  # its failures forgotten
    refused = client.post(AUTH_TOKEN, data={"username": alice.email, "password": PASSWORD})
    assert refused.status_code == 400
    assert accounts.find_user(app.ctx.engine, bob.email) is not None  # others untouched
    with pytest.raises(NotFound):
        accounts_removal.delete_user(app.ctx.engine, alice.email)
    again = accounts.create_user(app.ctx.engine, alice.email, PASSWORD)  # the email is free
    assert again.id != alice.id and again.personal_workspace_id != alice.personal_workspace_id
    fresh = sign_in(client, alice.email)
    listed = client.get("/api/v2.1/workspaces/", headers=headers(fresh)).json()["workspace_list"]
    assert [ws["id"] for ws in listed] == [again.personal_workspace_id]  # not the old memberships
