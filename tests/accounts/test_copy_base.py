"""copy_base (``POST /api/v2.1/dtable-copy/``): the copy has the source's structure, rows, links,
computed cells and assets (through its own URLs and tokens); the source is untouched; a failure
leaves nothing; members only."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from atoll.db import base_copy, schema
from atoll.db.users import User
from atoll.services import access, accounts, maintenance
from atoll.services import accounts_copy as copy_svc
from atoll.wire.links import asset_url
from tests.accounts.conftest import PASSWORD, headers, sign_in
from tests.conftest import BASE_URL, App, MakeApp
from tests.rows.conftest import Api, access_token

COPY = "/api/v2.1/dtable-copy/"
CUSTOM = "/api/v2.1/dtable/custom"
PDF, PNG, CUSTOM_BYTES = b"%PDF-1.4 report", b"\x89PNG picture", b"custom folder bytes"


@pytest.fixture
def app(make_app: MakeApp) -> App:
    return make_app(public_url=BASE_URL)


def temp_token(client: TestClient, token: str, workspace_id: int, name: str) -> str:
    resp = client.get(f"/api/v2.1/workspace/{workspace_id}/dtable/{name}/temp-api-token/",
                      headers=headers(token))
    assert resp.status_code == 200, resp.text
    api_token: str = resp.json()["api_token"]
    return api_token


def base_uuid(client: TestClient, api_token: str) -> str:
    resp = client.get("/api/v2.1/dtable/app-access-token/", headers={"Authorization": f"Token {api_token}"})
    assert resp.status_code == 200
    uuid: str = resp.json()["dtable_uuid"]
    return uuid


class Base:
    """A base opened through get_base's temporary API token."""

    def __init__(self, client: TestClient, account: str, workspace_id: int, name: str) -> None:
        self.client, self.workspace_id = client, workspace_id
        self.api_token = temp_token(client, account, workspace_id, name)
        self.uuid = base_uuid(client, self.api_token)
        self.api = Api(client, self.uuid, access_token(client, self.api_token))

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.api_token}"}

    def rows(self, table: str) -> list[dict[str, Any]]:
        params = {"table_name": table, "convert_keys": "True"}
        rows: list[dict[str, Any]] = self.api.ok("GET", "/rows/", params=params, family="gw")["rows"]
        return rows

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = self.api.ok("GET", "/metadata/", family="gw")["metadata"]
        return meta

    def upload(self, name: str, content: bytes, relative_path: str, replace: str = "0") -> str:
        link = self.client.get("/api/v2.1/dtable/app-upload-link/", headers=self.auth()).json()
        up = self.client.post(link["upload_link"] + "?ret-json=1", files={"file": (name, content)},
                              data={"parent_dir": link["parent_path"], "relative_path": relative_path,
                                    "replace": replace})
        assert up.status_code == 200, up.text
        return asset_url(BASE_URL, workspace_id=self.workspace_id, dtable_uuid=self.uuid,
                         relative_path=relative_path, name=name)

    def custom_upload(self, folder: str, name: str, content: bytes) -> str:
        assert self.client.post(f"{CUSTOM}/app-asset-dir/", params={"path": folder},
                                headers=self.auth()).status_code == 200
        link = self.client.get(f"{CUSTOM}/app-upload-link/", params={"path": folder},
                               headers=self.auth()).json()
        up = self.client.post(link["upload_link"] + "?ret-json=1", files={"file": (name, content)},
                              data={"parent_dir": link["parent_path"], "relative_path": link["relative_path"],
                                    "replace": "0"})
        assert up.status_code == 200, up.text
        info = self.client.get(f"{CUSTOM}/app-asset-file/", params={"path": folder, "name": name},
                               headers=self.auth()).json()
        return f"custom-asset://{info['dirent']['uuid']}.{name.split('.')[-1]}"

    def bytes_at(self, url: str) -> bytes | int:
        """The bytes a cell's URL opens with this base's token (or the refusal's status)."""
        path = url[len(BASE_URL):]
        resp = self.client.get(path, headers=self.auth(), follow_redirects=True)
        return resp.content if resp.status_code == 200 else resp.status_code

    def custom_bytes(self, path: str) -> bytes | int:
        resp = self.client.get(f"{CUSTOM}/app-download-link/", params={"path": path}, headers=self.auth())
        if resp.status_code != 200:
            return resp.status_code
        got = self.client.get(resp.json()["download_link"][len(BASE_URL):])
        return got.content if got.status_code == 200 else got.status_code


@pytest.fixture
def alice(app: App) -> User:
    return accounts.create_user(app.ctx.engine, "alice@example.com", PASSWORD)


@pytest.fixture
def token(app: App, alice: User) -> str:
    return sign_in(app.client, alice.email)


def build_source(app: App, token: str, workspace_id: int) -> Base:
    """Base "Src": People (Name, No auto-number, Doc file, Pic image, Projects link) and
    Projects (Title, Budget, Double formula), a view, rows, a link, three assets."""
    created = app.client.post("/api/v2.1/dtables/", data={"name": "Src", "workspace_id": str(workspace_id)},
                              headers=headers(token))
    assert created.status_code == 201, created.text
    base = Base(app.client, token, workspace_id, "Src")
    api = base.api
    api.ok("POST", "/tables/", json={"table_name": "People", "lang": "en", "columns": [
        {"column_name": "Name", "column_type": "text"},
        {"column_name": "No", "column_type": "auto-number", "column_data": {"format": "000", "digits": 3}},
        {"column_name": "Doc", "column_type": "file"},
        {"column_name": "Pic", "column_type": "image"},
        {"column_name": "Notes", "column_type": "long-text"}]})
    api.ok("POST", "/tables/", json={"table_name": "Projects", "lang": "en", "columns": [
        {"column_name": "Title", "column_type": "text"}, {"column_name": "Budget", "column_type": "number"},
        {"column_name": "Double", "column_type": "formula", "column_data": {"formula": "{Budget}*2"}}]})
    link = api.ok("POST", "/columns/", family="gw", json={
        "table_name": "People", "column_name": "Projects", "column_type": "link",
        "column_data": {"table": "People", "other_table": "Projects"}})
    api.ok("POST", "/views/?table_name=People", json={"name": "Named"})
    doc_url = base.upload("report.pdf", PDF, "files/2026-11")
    pic_url = base.upload("face.png", PNG, "images/2026-11")
    custom_url = base.custom_upload("/Main", "notes.txt", CUSTOM_BYTES)
    doc = {"name": "report.pdf", "size": len(PDF), "type": "file", "url": doc_url}
    custom = {"name": "notes.txt", "size": len(CUSTOM_BYTES), "type": "file", "url": custom_url}
    outside = "https://elsewhere.example/x.png"
    people = api.ok("POST", "/rows/", family="gw", json={"table_name": "People", "rows": [
        {"Name": "Ann", "Doc": [doc, custom], "Pic": [pic_url, outside],
         "Notes": f"See ![face]({pic_url}) and [there]({outside})"}, {"Name": "Ben"}]})["row_ids"]
    projects = api.ok("POST", "/rows/", family="gw", json={"table_name": "Projects", "rows": [
        {"Title": "P1", "Budget": 10}, {"Title": "P2", "Budget": 3}]})["row_ids"]
    api.ok("POST", "/links/", family="gw", json={
        "link_id": link["data"]["link_id"], "table_name": "People", "other_table_name": "Projects",
        "other_rows_ids_map": {people[0]["_id"]: [projects[0]["_id"], projects[1]["_id"]]}})
    return base


def copy(client: TestClient, token: str, src: int, name: str, dst: int) -> Any:
    return client.post(COPY, data={"src_workspace_id": str(src), "name": name, "dst_workspace_id": str(dst)},
                       headers=headers(token))


def moved(value: Any, src: Base, dst: Base, custom: dict[str, str]) -> Any:
    """``value`` with the source's asset URLs as the copy's."""
    text = json.dumps(value)
    text = text.replace(f"/workspace/{src.workspace_id}/asset/{src.uuid}/",
                        f"/workspace/{dst.workspace_id}/asset/{dst.uuid}/")
    for old, new in custom.items():
        text = text.replace(old, new)
    return json.loads(text)


def counts(app: App, dtable_uuid: str) -> dict[str, int]:
    tables = (schema.rows, schema.row_keys, schema.row_links, schema.assets, schema.asset_dirs,
              schema.dtable_docs)
    with app.ctx.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)
                                     .where(t.c.dtable_uuid == dtable_uuid)).scalar_one() for t in tables}


def test_copy_has_everything_and_opens_its_own_assets(app: App, alice: User, token: str) -> None:
    personal = alice.personal_workspace_id
    assert personal is not None
    src = build_source(app, token, personal)
    before = {t: src.rows(t) for t in ("People", "Projects")}
    src_counts = counts(app, src.uuid)

    resp = copy(app.client, token, personal, "Src", personal)
    assert resp.status_code == 200, resp.text
    made = resp.json()["dtable"]
    assert made["name"] == "Src (1)" and made["workspace_id"] == personal  # SeaTable's free name
    dst = Base(app.client, token, personal, "Src (1)")
    assert made["uuid"] == dst.uuid != src.uuid

    assert counts(app, dst.uuid) == src_counts and src_counts["row_links"] == 2
    assert src_counts["row_keys"] > 0 and src_counts["assets"] == 3
    src_meta, dst_meta = src.metadata(), dst.metadata()
    assert dst_meta == src_meta  # tables, columns (auto-number counter, formula, link), views
    people = next(t for t in dst_meta["tables"] if t["name"] == "People")
    assert [v["name"] for v in people["views"]] == ["Default View", "Named"]

    src_custom = before["People"][0]["Doc"][1]["url"]
    copies = {a.uuid for a in _assets(app, dst.uuid)}
    custom_copy = copy_svc.copied_asset_uuid(dst.uuid, src_custom.split("//")[1].split(".")[0])
    assert custom_copy in copies
    expect = moved(before, src, dst, {src_custom.split("//")[1].split(".")[0]: custom_copy})
    after = {t: dst.rows(t) for t in ("People", "Projects")}
    assert after == expect
    ann = after["People"][0]
    assert ann["No"] == "001" and ann["Pic"][1] == "https://elsewhere.example/x.png"
    assert [r["Double"] for r in after["Projects"]] == [20, 6]
    assert len(ann["Projects"]) == 2
    assert dst.uuid in ann["Doc"][0]["url"] and dst.uuid in ann["Pic"][0]
    assert ann["Notes"] == f"See ![face]({ann['Pic'][0]}) and [there]({ann['Pic'][1]})"  # long text

    # the copy's cells open the copy's assets with the copy's token; byte-identical
    assert dst.bytes_at(ann["Doc"][0]["url"]) == PDF
    assert dst.bytes_at(ann["Pic"][0]) == PNG
    assert dst.custom_bytes("/Main/notes.txt") == CUSTOM_BYTES
    assert dst.bytes_at(before["People"][0]["Doc"][0]["url"]) == 403  # not the source's URL
    # sorting on the copy uses keys computed for it
    name_key = next(c["key"] for c in people["columns"] if c["name"] == "Name")
    dst.api.ok("PUT", "/views/Named/?table_name=People",
               json={"sorts": [{"column_key": name_key, "sort_type": "down"}]})
    named = dst.api.ok("GET", "/rows/", family="gw",
                       params={"table_name": "People", "view_name": "Named", "convert_keys": "True"})
    assert [r["Name"] for r in named["rows"]] == ["Ben", "Ann"]

    # new rows in the copy continue its own auto-number counter; the source is untouched
    dst.api.ok("POST", "/rows/", family="gw", json={"table_name": "People", "rows": [{"Name": "Cy"}]})
    assert [r["No"] for r in dst.rows("People")] == ["001", "002", "003"]
    assert {t: src.rows(t) for t in ("People", "Projects")} == before
    assert counts(app, src.uuid) == src_counts


def totals(app: App) -> dict[str, int]:
    tables = (schema.dtables, schema.rows, schema.row_keys, schema.row_links, schema.assets,
              schema.asset_dirs, schema.dtable_docs)
    with app.ctx.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}


def _assets(app: App, dtable_uuid: str) -> list[Any]:
    with app.ctx.engine.connect() as conn:
        return list(conn.execute(select(schema.assets).where(schema.assets.c.dtable_uuid == dtable_uuid)))


def test_deleting_in_the_copy_keeps_the_original_bytes(app: App, alice: User, token: str) -> None:
    personal = alice.personal_workspace_id
    assert personal is not None
    src = build_source(app, token, personal)
    assert copy(app.client, token, personal, "Src", personal).status_code == 200
    dst = Base(app.client, token, personal, "Src (1)")
    for path in ("/files/2026-11/report.pdf", "/custom/Main/notes.txt"):
        resp = app.client.delete("/api/v2.1/dtable/app-asset/", params={"path": path}, headers=dst.auth())
        assert resp.status_code == 200, resp.text
    new_pic = dst.upload("face.png", b"replaced in the copy", "images/2026-11", replace="1")
    assert dst.bytes_at(new_pic) == b"replaced in the copy"
    ann = src.rows("People")[0]
    assert src.bytes_at(ann["Pic"][0]) == PNG  # replacing in the copy keeps the original's blob
    assert src.bytes_at(ann["Doc"][0]["url"]) == PDF
    assert src.custom_bytes("/Main/notes.txt") == CUSTOM_BYTES
    assert dst.custom_bytes("/Main/notes.txt") in (400, 404)  # gone from the copy (this route: 400)
    assert anyio.run(lambda: maintenance.gc(app.ctx, grace_s=0)) == []  # every blob still in use
    assert src.bytes_at(ann["Doc"][0]["url"]) == PDF and src.bytes_at(ann["Pic"][0]) == PNG
    # deleting the original too: now the blob goes
    resp = app.client.delete("/api/v2.1/dtable/app-asset/", params={"path": "/files/2026-11/report.pdf"},
                             headers=src.auth())
    assert resp.status_code == 200
    assert src.bytes_at(ann["Doc"][0]["url"]) == 404
    assert src.bytes_at(ann["Pic"][0]) == PNG


def test_copy_to_another_workspace_keeps_the_name(app: App, alice: User, token: str) -> None:
    personal = alice.personal_workspace_id
    assert personal is not None
    src = build_source(app, token, personal)
    team = access.create_api_token(app.ctx.engine, base="Other", workspace="Team").dtable.workspace_id
    accounts.add_member(app.ctx.engine, "Team", alice.email, "member")
    resp = copy(app.client, token, personal, "Src", team)
    assert resp.status_code == 200, resp.text
    assert resp.json()["dtable"]["name"] == "Src" and resp.json()["dtable"]["workspace_id"] == team
    dst = Base(app.client, token, team, "Src")
    ann = dst.rows("People")[0]
    assert f"/workspace/{team}/asset/{dst.uuid}/" in ann["Doc"][0]["url"]
    assert dst.bytes_at(ann["Doc"][0]["url"]) == PDF
    assert copy(app.client, token, personal, "Src", team).json()["dtable"]["name"] == "Src (1)"
    assert src.rows("People")[0]["Doc"][0]["url"].startswith(f"{BASE_URL}/workspace/{personal}/")


def test_permissions_and_bad_input(app: App, alice: User, token: str) -> None:
    personal = alice.personal_workspace_id
    assert personal is not None
    build_source(app, token, personal)
    bob = accounts.create_user(app.ctx.engine, "bob@example.com", PASSWORD)
    bob_token = sign_in(app.client, bob.email)
    ro = access.create_api_token(app.ctx.engine, base="Other", workspace="ReadOnly").dtable.workspace_id
    accounts.add_member(app.ctx.engine, "ReadOnly", alice.email, "readonly")
    accounts.add_member(app.ctx.engine, "ReadOnly", bob.email, "readonly")
    assert bob.personal_workspace_id is not None
    before = totals(app)

    def refused(tok: str, src: Any, name: str, dst: Any, status: int, text: str) -> None:
        resp = app.client.post(COPY, data={"src_workspace_id": src, "name": name, "dst_workspace_id": dst},
                               headers=headers(tok))
        assert resp.status_code == status, resp.text
        assert text in resp.json()["error_msg"]

    refused(bob_token, personal, "Src", bob.personal_workspace_id, 403, "Permission denied")  # not a member
    refused(token, personal, "Src", bob.personal_workspace_id, 403, "Permission denied")  # not dst member
    refused(token, personal, "Src", ro, 403, "Permission denied")  # readonly in dst
    refused(token, personal, "Nope", personal, 404, "not found")
    refused(token, 999999, "Src", personal, 404, "not found")
    refused(token, personal, "Src", 999999, 404, "not found")
    refused(token, "x", "Src", personal, 400, "invalid")
    refused(token, personal, "", personal, 400, "invalid")
    assert totals(app) == before
    # readonly in the source is enough to copy out of it
    ok = copy(app.client, bob_token, ro, "Other", bob.personal_workspace_id)
    assert ok.status_code == 200 and ok.json()["dtable"]["name"] == "Other"
    assert app.client.post(COPY).status_code == 403
    with app.ctx.engine.connect() as conn:
        names = set(conn.execute(select(schema.dtables.c.name)).scalars())
    assert names == {"Src", "Other"}


def test_no_free_name_is_a_conflict(app: App, alice: User, token: str,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    personal = alice.personal_workspace_id
    assert personal is not None
    build_source(app, token, personal)
    monkeypatch.setattr(copy_svc, "MAX_NAME_SUFFIX", 1)
    assert copy(app.client, token, personal, "Src", personal).status_code == 200
    resp = copy(app.client, token, personal, "Src", personal)
    assert resp.status_code == 409 and "already exists" in resp.json()["error_msg"]


@pytest.mark.parametrize("step", ["copy_row_links", "insert_assets"])
def test_a_failure_mid_copy_leaves_nothing(app: App, alice: User, token: str, step: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    personal = alice.personal_workspace_id
    assert personal is not None
    src = build_source(app, token, personal)
    src_counts = counts(app, src.uuid)
    total_before = totals(app)

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(base_copy, step, boom)
    with pytest.raises(RuntimeError):
        copy_svc.copy_base_sync(app.ctx.engine, alice, personal, "Src", personal)
    assert totals(app) == total_before and counts(app, src.uuid) == src_counts
    monkeypatch.undo()
    assert copy(app.client, token, personal, "Src", personal).status_code == 200  # nothing left in the way
