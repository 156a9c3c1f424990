"""Which backend the suite runs on: ``ATOLL_TEST_BACKEND=sqlite-local`` (default) or
``postgres-s3`` (a throwaway PostgreSQL cluster and moto's S3 server, see ``tests/services.py``).

Every fixture that makes settings or starts a server asks here, so the same tests run on both.
Each call gives a fresh namespace: a new PostgreSQL schema and a new S3 prefix.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import anyio

from atoll.config import Settings
from atoll.storage import BlobStore
from tests import services

SQLITE_LOCAL = "sqlite-local"
POSTGRES_S3 = "postgres-s3"
BACKEND = os.environ.get("ATOLL_TEST_BACKEND", SQLITE_LOCAL)
if BACKEND not in (SQLITE_LOCAL, POSTGRES_S3):
    raise RuntimeError(f"ATOLL_TEST_BACKEND must be {SQLITE_LOCAL} or {POSTGRES_S3}, not {BACKEND!r}")


def on_postgres_s3() -> bool:
    return BACKEND == POSTGRES_S3


def server_env() -> dict[str, str]:
    """Environment for a server process (or CLI) on a fresh namespace of the active backend."""
    if not on_postgres_s3():
        return {}
    moto = services.moto()
    return {
        **moto.env,
        "ATOLL_DB_URL": services.postgres().new_url(),
        "ATOLL_STORAGE": moto.new_storage_url(),
    }


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings on a fresh namespace of the active backend (``overrides`` win)."""
    return Settings.load(environ=server_env(), data_dir=data_dir, **overrides)


async def blob_state(blobs: BlobStore) -> tuple[frozenset[str], frozenset[str]]:
    """(committed blob keys, unfinished writes): what an upload could leave behind."""
    keys = frozenset([stat.key async for stat in blobs.list()])
    return keys, frozenset(await blobs.pending())


def blob_state_sync(blobs: BlobStore) -> tuple[frozenset[str], frozenset[str]]:
    return anyio.run(blob_state, blobs)
