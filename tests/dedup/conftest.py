"""Fixtures for dedup and integrity: the asset fixtures, plus a second base and blob-row reads."""

from __future__ import annotations

from dataclasses import dataclass

import anyio
import pytest
from sqlalchemy import select

from atoll.db import schema
from atoll.services.access import create_api_token
from tests.assets.conftest import Env, MakeEnv, env, make_env

__all__ = ["Env", "MakeEnv", "env", "make_env"]


@dataclass(frozen=True)
class BlobRow:
    key: str
    sha256: str
    size: int
    refs: int


def blob_rows(env: Env) -> list[BlobRow]:
    with env.ctx.engine.connect() as conn:
        rows = conn.execute(select(schema.blobs).order_by(schema.blobs.c.key)).mappings()
        return [BlobRow(r["key"], r["sha256"], int(r["size"]), int(r["refs"])) for r in rows]


def stored_keys(env: Env) -> set[str]:
    """Committed blobs in the store (any backend)."""

    async def listing() -> set[str]:
        return {stat.key async for stat in env.ctx.blobs.list()}

    return anyio.run(listing)


def asset_keys(env: Env) -> dict[tuple[str, str], str]:
    """(base uuid, "dir/name") -> blob key, for every asset."""
    a = schema.assets
    with env.ctx.engine.connect() as conn:
        rows = conn.execute(select(a.c.dtable_uuid, a.c.dir_path, a.c.name, a.c.blob_key))
        return {(u, f"{d.rstrip('/')}/{n}"): k for u, d, n, k in rows}


def other_base(env: Env, name: str = "Other") -> Env:
    """The same app, with an API token for a second base."""
    created = create_api_token(env.ctx.engine, base=name)
    return Env(env.ctx, env.client, created.token, created.dtable.uuid, created.dtable.workspace_id,
               env.data_dir)


@pytest.fixture
def two(env: Env) -> tuple[Env, Env]:
    return env, other_base(env)
