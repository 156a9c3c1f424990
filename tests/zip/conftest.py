"""A base with a table of file and image cells for the zip tests: ``zbase`` (per test)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from atoll.services.access import create_api_token
from atoll.services.context import Context
from atoll.wire.links import asset_path_from_url, asset_url
from tests.conftest import BASE_URL, MakeApp

COLUMNS = [
    {"column_name": "Name", "column_type": "text"},
    {"column_name": "Files", "column_type": "file"},
    {"column_name": "Pics", "column_type": "image"},
    {"column_name": "Kind", "column_type": "text"},
]


@dataclass
class ZBase:
    ctx: Context
    client: TestClient
    token: str
    access: str
    uuid: str
    workspace_id: int
    #: sha256 -> bytes of every uploaded file
    blobs: dict[str, bytes] = field(default_factory=dict)
    rows: dict[str, str] = field(default_factory=dict)  # row name -> row id

    def web(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Token {token or self.token}"}

    def gw(self, method: str, path: str, **kw: Any) -> Any:
        headers = {"Authorization": f"Token {self.access}"}
        r = self.client.request(
            method, f"/api-gateway/api/v2/dtables/{self.uuid}{path}", headers=headers, **kw
        )
        assert r.status_code == 200, r.text
        return r.json()

    def upload(self, name: str, content: bytes, kind: str = "file") -> str:
        """Upload, and the cell URL of the new asset."""
        link = self.client.get("/api/v2.1/dtable/app-upload-link/", headers=self.web()).json()
        relative = link["img_relative_path" if kind == "image" else "file_relative_path"]
        r = self.client.post(link["upload_link"] + "?ret-json=1",
                             data={"parent_dir": link["parent_path"], "relative_path": relative},
                             files={"file": (name, content)})  # fmt: skip
        assert r.status_code == 200, r.text
        stored = r.json()[0]["name"]
        self.blobs[hashlib.sha256(content).hexdigest()] = content
        return asset_url(BASE_URL, workspace_id=self.workspace_id, dtable_uuid=self.uuid,
                         relative_path=relative, name=stored)  # fmt: skip

    def file_cell(self, name: str, content: bytes) -> dict[str, Any]:
        return {"type": "file", "name": name, "size": len(content), "url": self.upload(name, content)}

    def add_row(self, row: dict[str, Any], table: str = "T") -> str:
        res = self.gw("POST", "/rows/", json={"table_name": table, "rows": [row]})
        row_id: str = res["first_row"]["_id"]
        self.rows[str(row.get("Name"))] = row_id
        return row_id

    def zip(self, token: str | None = None, **params: str) -> httpx.Response:
        return self.client.get("/api/v2.1/dtable/app-zip/", params=params, headers=self.web(token))


def make_zbase(make_app: MakeApp, **overrides: Any) -> ZBase:
    app = make_app(public_url=BASE_URL, **overrides)
    made = create_api_token(app.ctx.engine, base="Z")
    r = app.client.get("/api/v2.1/dtable/app-access-token/", headers={"Authorization": f"Token {made.token}"})
    z = ZBase(
        app.ctx, app.client, made.token, r.json()["access_token"], made.dtable.uuid, made.dtable.workspace_id
    )
    z.gw("POST", "/tables/", json={"table_name": "T", "lang": "en", "columns": COLUMNS})
    return z


@pytest.fixture
def zbase(make_app: MakeApp) -> ZBase:
    """Three rows: two files and an image in "alpha" (kind a), one file in "beta" (kind b) with
    the same name as one of alpha's, and "gamma" (kind a) with a foreign URL and a missing file."""
    z = make_zbase(make_app)
    one, two, same = os.urandom(5000), b"second file\n" * 100, b"beta's bytes"
    pic = os.urandom(2000)
    z.add_row({"Name": "alpha", "Kind": "a", "Files": [z.file_cell("a.txt", one), z.file_cell("b.bin", two)],
               "Pics": [z.upload("p.png", pic, "image")]})  # fmt: skip
    z.add_row({"Name": "beta", "Kind": "b", "Files": [z.file_cell("a.txt", same)]})
    foreign = {"type": "file", "name": "far.pdf", "size": 3, "url": "https://elsewhere.example/far.pdf"}
    gone = dict(z.file_cell("gone.txt", b"soon gone"))
    path = asset_path_from_url(gone["url"], dtable_uuid=z.uuid)
    z.add_row({"Name": "gamma", "Kind": "a", "Files": [foreign, gone]})
    assert (
        z.client.delete("/api/v2.1/dtable/app-asset/", params={"path": path}, headers=z.web()).status_code
        == 200
    )
    return z
