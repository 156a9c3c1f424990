"""An installation with real data: bases, tokens, a table with rows, folders and files."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field

from sqlalchemy import Engine

from atoll.config import Settings
from atoll.db import assets as db_assets
from atoll.db.engine import write_tx
from atoll.models import Asset, Principal
from atoll.services import access, rows, tables
from atoll.services.context import Context
from atoll.services.structure import TableRef
from atoll.storage import open_blob_store
from atoll.storage.base import BlobStore, new_key
from atoll.timeutil import utcnow

BASES = ("Alpha", "Beta")
ROWS_PER_BASE = 25
#: Signs nothing that outlives the seeding (the rows use cases need a Context).
SEED_SECRET = b"s" * 32


def context_on(engine: Engine, store: BlobStore) -> Context:
    """A Context over an engine and a store made by the test (the use cases take one)."""
    return Context(Settings.load(), engine, store, SEED_SECRET, (SEED_SECRET,))


def open_store(url: str) -> BlobStore:
    """The store at ``url``, with settings from the environment (AWS_* for S3), as the CLI."""
    return open_blob_store(url, Settings.load())


@dataclass
class Seeded:
    tokens: list[str] = field(default_factory=list)
    #: blob key -> (base name, path, bytes)
    files: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)


def content(i: int) -> bytes:
    """Distinct file bodies of varied sizes (some empty, some over several chunks)."""
    return (f"file {i} ".encode() * (i * 37))[: i * 301]


async def add_file(engine: Engine, store: BlobStore, dtable_uuid: str, base: str, path: str,
                   data: bytes, seeded: Seeded) -> str:
    writer = await store.create(new_key(), size_hint=len(data))
    await writer.write(data)
    info = await writer.commit()
    dir_path, name = path.rsplit("/", 1)
    dir_path = dir_path or "/"
    with write_tx(engine) as conn:
        db_assets.ensure_dirs(conn, dtable_uuid, dir_path, utcnow().isoformat())
        db_assets.insert_asset(conn, Asset(
            id=0, dtable_uuid=dtable_uuid, dir_path=dir_path, name=name, blob_key=info.key,
            size=info.size, sha256=info.sha256, mtime=utcnow(), uuid=str(uuid.uuid4()),
        ))
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    seeded.files[info.key] = (base, path, data)
    return info.key


async def seed(engine: Engine, store: BlobStore, files_per_base: int = 6) -> Seeded:
    seeded = Seeded()
    ctx = context_on(engine, store)
    n = 0
    for base in BASES:
        token = access.create_api_token(engine, base=base, workspace="Team", permission="rw",
                                        app_name="seed")
        seeded.tokens.append(token.token)
        uuid_ = token.dtable.uuid
        principal = Principal(token.dtable, "rw", "seed")
        await tables.add_table(ctx, principal, table_name="Tasks",
                               columns=[{"column_name": "Name", "column_type": "text"}])
        await rows.append_rows(ctx, principal, TableRef(name="Tasks"),
                               rows=[{"Name": f"{base} ünïcode row {i}"} for i in range(ROWS_PER_BASE)])
        for _ in range(files_per_base):
            n += 1
            await add_file(engine, store, uuid_, base, f"/files/2026-11/f{n}.bin", content(n), seeded)
    return seeded
