"""Fixtures for the asset lifecycle (references, trash, gc): an in-process app with base "Demo",
its API token, a table T (Name text, F file, P image) and helpers over the use cases."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from atoll.db import schema
from atoll.models import Dtable, Principal
from atoll.services import asset_refs, tables
from atoll.services import rows as row_svc
from atoll.services.access import create_api_token
from atoll.services.structure import TableRef
from atoll.wire.links import asset_url
from tests.assets.conftest import PUBLIC_URL, Env, MakeEnv, env, make_env  # noqa: F401

R = TypeVar("R")
T = TableRef("T")
COLUMNS = [
    {"column_name": "Name", "column_type": "text"},
    {"column_name": "F", "column_type": "file"},
    {"column_name": "P", "column_type": "image"},
]


def run(use_case: Coroutine[Any, Any, R]) -> R:
    return asyncio.run(use_case)


@dataclass
class Life:
    env: Env
    base: Principal

    @property
    def ctx(self) -> Any:
        return self.env.ctx

    def upload(self, name: str, content: bytes, folder: str = "files/2026-11") -> str:
        """Upload one file; its asset URL (what a cell stores)."""
        r = self.env.upload(name, content, relative_path=folder)
        assert r.status_code == 200, r.text  # type: ignore[attr-defined]
        return asset_url(PUBLIC_URL, workspace_id=self.env.workspace_id, dtable_uuid=self.env.uuid,
                         relative_path=folder, name=name)  # fmt: skip

    def asset_uuid(self, path: str) -> str:
        dir_path, _, name = ("/" + path.strip("/")).rpartition("/")
        a = schema.assets
        with self.ctx.engine.connect() as conn:
            found = conn.execute(
                select(a.c.uuid).where(
                    a.c.dtable_uuid == self.env.uuid, a.c.dir_path == dir_path, a.c.name == name
                )
            ).scalar_one()
        return str(found)

    def uses(self, path: str) -> set[tuple[str, str, str]]:
        """(table name, row id, column name) of every cell that uses the asset at ``path``."""
        found = run(asset_refs.asset_uses(self.ctx, self.base, path))
        return {(u.table_name, u.row_id, u.column_name) for u in found.uses}

    def append(self, *rows: dict[str, Any], ref: TableRef = T) -> list[str]:
        made = run(row_svc.append_rows(self.ctx, self.base, ref, rows=list(rows)))
        return [r.row_id for r in made]

    def download(self, path: str, token: str | None = None) -> bytes:
        r = self.env.download_link(path, token)
        assert r.status_code == 200, r.text  # type: ignore[attr-defined]
        got = self.env.client.get(r.json()["download_link"])  # type: ignore[attr-defined]
        assert got.status_code == 200
        return got.content


def file_cell(url: str, name: str = "a.txt", size: int = 1) -> dict[str, Any]:
    return {"name": name, "size": size, "type": "file", "url": url}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def life(env: Env) -> Life:  # noqa: F811
    base = Principal(Dtable(env.uuid, "Demo", env.workspace_id), "rw", "app")
    run(tables.add_table(env.ctx, base, table_name="T", columns=COLUMNS))
    return Life(env, base)


def readonly_token(env: Env) -> str:  # noqa: F811
    return create_api_token(env.ctx.engine, base="Demo", permission="r").token
