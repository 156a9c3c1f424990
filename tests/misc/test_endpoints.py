"""HTTP tests of the misc calls (issue 11 item 6): each served call on every family it has,
and bad input answering the right 4xx in the family's error shape while changing nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from atoll.db import rows as q
from atoll.services import bulk_insert, notify
from atoll.services.access import create_api_token, revoke_api_token
from atoll.services.context import Context
from atoll.services.rows import app_actor
from tests.misc.conftest import SELECT_TABLE
from tests.rows.conftest import Api

ERROR_KEY = {"gw": "error_message", "v1": "error_msg", "v1gw": "error_msg"}


def _rows(api: Api, table: str = "Table1") -> list[dict[str, Any]]:
    body = api.on("gw").ok("GET", "/rows/", params={"table_name": table, "convert_keys": "true"})
    rows: list[dict[str, Any]] = body["rows"]
    return rows


def _table(api: Api, name: str) -> dict[str, Any]:
    md = api.on("gw").ok("GET", "/metadata/")["metadata"]
    return next(t for t in md["tables"] if t["name"] == name)


def _version(api: Api) -> int:
    version: int = api.on("gw").ok("GET", "/metadata/")["metadata"]["version"]
    return version


def _insert_url(api: Api, family: str) -> str:
    if family == "gw":
        return api.url("/add-archived-rows/", "gw")
    return f"/dtable-db/api/v1/insert-rows/{api.uuid}/"


def _post(api: Api, url: str, body: Any) -> Any:
    headers = {"Authorization": f"Token {api.access_token}"}
    return api.client.post(url, json=body, headers=headers)


# ---- big_data_insert_rows --------------------------------------------------------------------


@pytest.mark.parametrize("family", ["gw", "v1"])
def test_bulk_insert_appends_to_the_table(api: Api, family: str) -> None:
    rows = [{"Name": f"r{i}"} for i in range(25)]
    resp = _post(api, _insert_url(api, family), {"table_name": "Table1", "rows": rows})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"inserted_row_count": 25}
    assert [r["Name"] for r in _rows(api)] == [f"r{i}" for i in range(25)]


@pytest.mark.parametrize("family", ["gw", "v1"])
@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"table_name": "Table1", "rows": "nope"}, 400),
        ({"table_name": "Table1", "rows": []}, 400),
        ({"table_name": "Table1"}, 400),
        ({"rows": [{"Name": "x"}]}, 400),
        ({"table_name": "Table1", "rows": [{"Name": "ok"}, "not a row"]}, 400),
        ({"table_name": "Nope", "rows": [{"Name": "x"}]}, 404),
    ],
)
def test_bulk_insert_bad_input_changes_nothing(api: Api, family: str, body: Any, status: int) -> None:
    resp = _post(api, _insert_url(api, family), body)
    assert resp.status_code == status, resp.text
    key = "error_message" if family == "gw" else "error_msg"
    assert resp.json()[key]
    assert _rows(api) == []


def test_bulk_insert_limit_is_all_or_nothing(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_insert, "MAX_BULK_INSERT_ROWS", 3)
    resp = _post(api, _insert_url(api, "gw"), {"table_name": "Table1", "rows": [{"Name": "a"}] * 4})
    assert resp.status_code == 400
    assert "at most 3 rows" in resp.json()["error_message"]
    assert _rows(api) == []
    ok = _post(api, _insert_url(api, "gw"), {"table_name": "Table1", "rows": [{"Name": "a"}] * 3})
    assert ok.json() == {"inserted_row_count": 3}


def test_bulk_insert_needs_a_writer_of_that_base(api: Api, ro_api: Api, other_api: Api) -> None:
    body = {"table_name": "Table1", "rows": [{"Name": "x"}]}
    assert _post(ro_api, _insert_url(api, "gw"), body).status_code == 403
    assert _post(ro_api, _insert_url(api, "v1"), body).status_code == 403
    assert _post(other_api, _insert_url(api, "gw"), body).status_code == 403
    assert _post(other_api, _insert_url(api, "v1"), body).status_code == 403
    assert _rows(api) == []


# ---- add_column_cascade_settings -----------------------------------------------------------


def _geo(api: Api) -> dict[str, Any]:
    api.on("gw").ok("POST", "/tables/", json=SELECT_TABLE)
    return _table(api, "Geo")


def _option_ids(column: dict[str, Any]) -> dict[str, str]:
    return {o["name"]: o["id"] for o in column["data"]["options"]}


@pytest.mark.parametrize("family", ["gw", "v1", "v1gw"])
def test_cascade_is_stored_in_the_child_column_by_option_id(api: Api, family: str) -> None:
    _geo(api)
    body = {"table_name": "Geo", "child_column": "City", "parent_column": "Country",
            "cascade_settings": {"DE": ["Berlin", "Bonn"], "FR": ["Paris"]}}
    assert api.on(family).ok("POST", "/column-cascade-settings/", json=body) == {"success": True}
    table = _table(api, "Geo")
    cols = {c["name"]: c for c in table["columns"]}
    country, city = _option_ids(cols["Country"]), _option_ids(cols["City"])
    assert cols["City"]["data"]["cascade_column_key"] == cols["Country"]["key"]
    assert cols["City"]["data"]["cascade_settings"] == {
        country["DE"]: [city["Berlin"], city["Bonn"]], country["FR"]: [city["Paris"]]}
    assert cols["City"]["data"]["options"]  # the options stay
    assert "cascade_settings" not in (cols["Country"]["data"] or {})


@pytest.mark.parametrize("family", ["gw", "v1"])
@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"child_column": "Note"}, 400, "not a single-select"),
        ({"parent_column": "Name"}, 400, "not a single-select"),
        ({"parent_column": "City"}, 400, "itself"),
        ({"child_column": "Nope"}, 404, "not found"),
        ({"cascade_settings": {"XX": ["Berlin"]}}, 400, "no option XX"),
        ({"cascade_settings": {"DE": ["Rome"]}}, 400, "no option Rome"),
        ({"cascade_settings": {"DE": "Berlin"}}, 400, "must be a list"),
        ({"cascade_settings": []}, 400, "cascade_settings invalid"),
        ({"cascade_settings": {}}, 400, "cascade_settings invalid"),
        ({"child_column": None}, 400, "child_column invalid"),
        ({"table_name": "Nope"}, 404, "not found"),
    ],
)
def test_cascade_bad_input_changes_nothing(
    api: Api, family: str, change: dict[str, Any], status: int, words: str
) -> None:
    _geo(api)
    before = _version(api)
    body = {"table_name": "Geo", "child_column": "City", "parent_column": "Country",
            "cascade_settings": {"DE": ["Berlin"]}, **change}
    resp = api.on(family).call("POST", "/column-cascade-settings/", json=body)
    assert resp.status_code == status, resp.text
    assert words in resp.json()[ERROR_KEY[family]]
    assert _version(api) == before
    assert all("cascade_settings" not in (c["data"] or {}) for c in _table(api, "Geo")["columns"])


def test_cascade_needs_write(api: Api, ro_api: Api) -> None:
    _geo(api)
    body = {"table_name": "Geo", "child_column": "City", "parent_column": "Country",
            "cascade_settings": {"DE": ["Berlin"]}}
    assert ro_api.call("POST", "/column-cascade-settings/", json=body).status_code == 403


# ---- send_toast_notification ----------------------------------------------------------------


@pytest.mark.parametrize("family", ["gw", "v1", "v1gw"])
def test_toast_is_published(api: Api, family: str, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, notify.Toast]] = []

    async def record(ctx: Context, dtable_uuid: str, toast: notify.Toast) -> None:
        seen.append((dtable_uuid, toast))

    monkeypatch.setattr(notify, "publish_toast", record)
    body = {"to_user": "a@example.com", "toast_type": "warning", "detail": {"msg": "hello"}}
    assert api.on(family).ok("POST", "/ui-toasts/", json=body) == {"success": True}
    assert seen == [(api.uuid, notify.Toast("a@example.com", "warning", "hello", "atoll"))]


@pytest.mark.parametrize("family", ["gw", "v1"])
@pytest.mark.parametrize(
    "body",
    [
        {"toast_type": "success", "detail": {"msg": "x"}},
        {"to_user": "", "toast_type": "success", "detail": {"msg": "x"}},
        {"to_user": "a@b.c", "toast_type": "shout", "detail": {"msg": "x"}},
        {"to_user": "a@b.c", "toast_type": "success", "detail": "x"},
        {"to_user": "a@b.c", "toast_type": "success", "detail": {"msg": 5}},
        {"to_user": "a@b.c", "toast_type": "success", "detail": {"msg": "x" * 10_001}},
        {"to_user": "a" * 256, "toast_type": "success", "detail": {"msg": "x"}},
    ],
)
def test_toast_bad_input(api: Api, family: str, body: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[notify.Toast] = []

    async def record(ctx: Context, dtable_uuid: str, toast: notify.Toast) -> None:
        seen.append(toast)

    monkeypatch.setattr(notify, "publish_toast", record)
    resp = api.on(family).call("POST", "/ui-toasts/", json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()[ERROR_KEY[family]]
    assert seen == []


def test_toast_needs_a_token_of_the_base(api: Api, other_api: Api) -> None:
    body = {"to_user": "a@b.c", "toast_type": "success", "detail": {"msg": "x"}}
    resp = other_api.client.post(api.url("/ui-toasts/"), json=body,
                                 headers={"Authorization": f"Token {other_api.access_token}"})
    assert resp.status_code == 403


# ---- related users and user info ------------------------------------------------------------


def test_related_users_are_the_apps_of_the_base(ctx: Context, api: Api, other_api: Api) -> None:
    create_api_token(ctx.engine, base="B", app_name="reporter")
    gone = create_api_token(ctx.engine, base="B", app_name="retired")
    revoke_api_token(ctx.engine, gone.token)
    create_api_token(ctx.engine, base="Other", app_name="elsewhere")
    resp = api.client.get(f"/api/v2.1/dtables/{api.uuid}/related-users/",
                          headers={"Authorization": f"Token {api.access_token}"})
    assert resp.status_code == 200, resp.text
    users = resp.json()["user_list"]
    assert [(u["email"], u["name"]) for u in users] == [
        (app_actor(api.uuid, "atoll"), "atoll"), (app_actor(api.uuid, "reporter"), "reporter")]
    assert resp.json()["app_user_list"] == []
    # the caller's identity is the one its rows carry
    api.on("gw").ok("POST", "/rows/", json={"table_name": "Table1", "rows": [{"Name": "x"}]})
    assert _rows(api)[0]["_creator"] == users[0]["email"]


def test_related_users_need_the_access_token_of_that_base(api: Api, other_api: Api) -> None:
    url = f"/api/v2.1/dtables/{api.uuid}/related-users/"
    assert api.client.get(url).status_code == 403
    resp = api.client.get(url, headers={"Authorization": f"Token {other_api.access_token}"})
    assert resp.status_code == 403


def _user_info(client: TestClient, token: str, **params: str) -> Any:
    return client.get("/api/v2.1/dtable/app-user-info/", params=params,
                      headers={"Authorization": f"Token {token}"})


def test_user_info(ctx: Context, client: TestClient) -> None:
    made = create_api_token(ctx.engine, base="U", app_name="mine")
    create_api_token(ctx.engine, base="U", app_name="theirs")
    uuid = made.dtable.uuid
    resp = _user_info(client, made.token, username=app_actor(uuid, "mine"))
    assert resp.status_code == 200 and resp.json() == {"id_in_org": "", "name": "mine"}
    resp = _user_info(client, made.token, username=app_actor(uuid, "theirs"))
    assert resp.json() == {"id_in_org": "", "name": "theirs"}
    missing = _user_info(client, made.token, username="someone@example.com")
    assert missing.status_code == 404 and "not found" in missing.json()["error_msg"]
    other_base = _user_info(client, made.token, username=app_actor("another-uuid", "mine"))
    assert other_base.status_code == 404
    assert _user_info(client, made.token).status_code == 400
    assert _user_info(client, made.token, username="x" * 256).status_code == 400
    assert _user_info(client, "0" * 40, username=app_actor(uuid, "mine")).status_code == 403


# ---- departments, whole base ----------------------------------------------------------------


def test_departments_are_empty(api: Api) -> None:
    resp = api.client.get(f"/api/v2.1/dtables/{api.uuid}/departments/",
                          headers={"Authorization": f"Token {api.access_token}"})
    assert resp.status_code == 200 and resp.json() == {"departments": []}


def _whole(api: Api, path: str = "/") -> Any:
    resp = api.client.get(f"/api-gateway/api/v2/dtables/{api.uuid}{path}",
                          headers={"Authorization": f"Token {api.access_token}"})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    return json.loads(resp.content)


def test_whole_base_streams_every_row_in_batches(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(q, "BATCH_ROWS", 2)
    reads: list[int] = []
    real_rows_after = q.rows_after

    def counting(*args: Any, **kw: Any) -> list[q.StoredRow]:
        found = real_rows_after(*args, **kw)
        reads.append(len(found))
        return found

    monkeypatch.setattr(q, "rows_after", counting)
    _geo(api)
    gw = api.on("gw")
    gw.ok("POST", "/rows/", json={"table_name": "Table1", "rows": [{"Name": f"n{i}"} for i in range(5)]})
    gw.ok("POST", "/rows/", json={"table_name": "Geo", "rows": [{"Name": "g", "Country": "DE"}]})
    md = gw.ok("GET", "/metadata/")["metadata"]
    doc = _whole(api)
    assert _whole(api, "") == doc  # without the trailing slash too
    assert doc["version"] == md["version"] and doc["format_version"] == md["format_version"]
    assert doc["settings"] == md["settings"]
    assert [t["name"] for t in doc["tables"]] == ["Table1", "Geo"]
    for table, meta in zip(doc["tables"], md["tables"], strict=True):
        assert table["columns"] == meta["columns"] and table["views"] == meta["views"]
        assert table["_id"] == meta["_id"]
    t1, geo = doc["tables"]
    name_key = t1["columns"][0]["key"]
    assert [r[name_key] for r in t1["rows"]] == [f"n{i}" for i in range(5)]
    assert {"_id", "_ctime", "_mtime", "_creator", "_last_modifier"} <= set(t1["rows"][0])
    listed = _rows(api)
    assert [r["_id"] for r in t1["rows"]] == [r["_id"] for r in listed]
    country = next(c for c in geo["columns"] if c["name"] == "Country")
    assert geo["rows"][0][country["key"]] == _option_ids(country)["DE"]
    # never more than a batch per read: Table1 2+2+1, Geo 1 (twice: with and without the slash)
    assert reads == [2, 2, 1, 1] * 2


def test_whole_base_of_an_empty_table_and_auth(api: Api, other_api: Api) -> None:
    doc = _whole(api)
    assert doc["tables"][0]["rows"] == []
    assert _whole(other_api)["tables"] == []  # a base without tables
    resp = api.client.get(f"/api-gateway/api/v2/dtables/{api.uuid}/",
                          headers={"Authorization": f"Token {other_api.access_token}"})
    assert resp.status_code == 403 and resp.json()["error_message"]
    assert api.client.get(f"/api-gateway/api/v2/dtables/{api.uuid}/").status_code == 403


# ---- refused: third-party accounts, workflows -----------------------------------------------


def test_third_party_accounts_are_refused(ctx: Context, client: TestClient) -> None:
    made = create_api_token(ctx.engine, base="T")
    resp = client.get("/api/v2.1/dtable/third-party-account/", params={"account_name": "mail"},
                      headers={"Authorization": f"Token {made.token}"})
    assert resp.status_code == 400
    assert "not supported by this server" in resp.json()["error_msg"]
    bad = client.get("/api/v2.1/dtable/third-party-account/", headers={"Authorization": "Token nope"})
    assert bad.status_code == 403


def test_workflows_are_refused(api: Api) -> None:
    url = "/api/v2.1/workflows/some-token/external-task-submit/"
    resp = api.client.post(url, data={"row_data": "{}", "initiator": ""},
                           headers={"Authorization": f"Token {api.access_token}"})
    assert resp.status_code == 400
    assert "not supported by this server" in resp.json()["error_msg"]
    assert api.client.post(url, data={"row_id": "x"}).status_code == 403
