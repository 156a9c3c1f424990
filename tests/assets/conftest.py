"""In-process fixtures for the asset paths: a fresh data dir, app and API token per test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from atoll.db import schema
from atoll.services.access import create_api_token
from atoll.services.context import Context
from tests.backends import blob_state
from tests.conftest import BASE_URL, MakeApp

PUBLIC_URL = BASE_URL


@dataclass
class Env:
    ctx: Context
    client: TestClient
    token: str
    uuid: str
    workspace_id: int
    data_dir: Path

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Token {token or self.token}"}

    def upload_link(self, token: str | None = None) -> dict[str, str]:
        r = self.client.get("/api/v2.1/dtable/app-upload-link/", headers=self.auth(token))
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def upload(
        self,
        name: str,
        content: bytes,
        *,
        relative_path: str | None = "files/2026-11",
        replace: str | None = "0",
        link: dict[str, str] | None = None,
        parent_dir: str | None = None,
        query: str = "?ret-json=1",
    ) -> object:
        link = link or self.upload_link()
        data = {"parent_dir": parent_dir if parent_dir is not None else link["parent_path"]}
        if relative_path is not None:
            data["relative_path"] = relative_path
        if replace is not None:
            data["replace"] = replace
        return self.client.post(link["upload_link"] + query, data=data, files={"file": (name, content)})

    def download_link(self, path: str, token: str | None = None) -> object:
        return self.client.get(
            "/api/v2.1/dtable/app-download-link/", params={"path": path}, headers=self.auth(token)
        )

    def state(self) -> tuple[tuple[frozenset[str], frozenset[str]], int, int]:
        """Everything an upload could leave behind: blobs, unfinished writes, asset and dir rows."""
        files = self.client.portal.call(blob_state, self.ctx.blobs)  # type: ignore[union-attr]
        with self.ctx.engine.connect() as conn:
            assets = conn.execute(select(func.count()).select_from(schema.assets)).scalar_one()
            dirs = conn.execute(select(func.count()).select_from(schema.asset_dirs)).scalar_one()
        return files, assets, dirs


class MakeEnv(Protocol):
    def __call__(self, **overrides: Any) -> Env: ...


@pytest.fixture
def make_env(make_app: MakeApp) -> MakeEnv:
    """An app with a Demo base and its API token; keyword arguments override settings."""

    def make(**overrides: Any) -> Env:
        app = make_app(public_url=PUBLIC_URL, **overrides)
        created = create_api_token(app.ctx.engine, base="Demo")
        return Env(app.ctx, app.client, created.token, created.dtable.uuid, created.dtable.workspace_id,
                   app.ctx.settings.data_dir)

    return make


@pytest.fixture
def env(make_env: MakeEnv) -> Env:
    return make_env()
