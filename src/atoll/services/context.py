"""What every use case needs: settings, the metadata engine, the blob store, the secret."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy import Engine

from atoll.config import Settings
from atoll.db.engine import make_engine
from atoll.db.migrations import migrate
from atoll.storage import BlobStore, open_blob_store

T = TypeVar("T")
SECRET_BYTES = 32


def load_or_create_secret(path: Path) -> bytes:
    """The server secret (HS256 key for access tokens and tickets), kept in the data dir."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    value = secrets.token_bytes(SECRET_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, value.hex().encode())
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        raise
    os.close(fd)
    return value


@dataclass
class Context:
    settings: Settings
    engine: Engine
    blobs: BlobStore
    secret: bytes

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        engine: Engine | None = None,
        blobs: BlobStore | None = None,
    ) -> Context:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = engine or make_engine(settings.db_url)
        migrate(engine)
        blobs = blobs or open_blob_store(settings.storage, chunk_bytes=settings.chunk_bytes)
        return cls(settings, engine, blobs, load_or_create_secret(settings.legacy_secret_path))

    async def run_db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking metadata call in a worker thread."""
        return await anyio.to_thread.run_sync(fn, *args)
