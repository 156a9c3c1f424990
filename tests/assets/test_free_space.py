"""The free-space reserve (min_free_bytes) and the 507 mapping, in process, on both backends.

A store's free space is faked (the real statvfs is tested in tests/storage/test_sinks_faults.py
and on a real full disk in tests/reliability/test_disk_full.py)."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import create_engine, text

from atoll.errors import InsufficientStorage, StorageUnavailable
from atoll.services.access import create_api_token
from atoll.services.context import Context, database_full
from atoll.services.space import SpaceGuard, sqlite_folder
from atoll.wire.errors import status_for
from tests.assets.conftest import PUBLIC_URL, Env
from tests.backends import make_settings
from tests.conftest import MakeApp

MiB = 1024 * 1024
RESERVE = 64 * MiB


class FreeSpace:
    """The real store, reporting ``free`` bytes minus what was written through it since."""

    def __init__(self, inner: Any, free: int) -> None:
        self._inner = inner
        self.free = free
        self.asked = 0

        self.written = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def create(self, key: str | None = None, *, size_hint: int | None = None) -> Any:
        return Counting(await self._inner.create(key, size_hint=size_hint), self)

    async def free_bytes(self) -> int | None:
        self.asked += 1
        return self.free - self.written


class Counting:
    def __init__(self, inner: Any, store: FreeSpace) -> None:
        self._inner = inner
        self._store = store
        self.key = inner.key

    async def write(self, data: Any) -> None:
        self._store.written += len(data)
        await self._inner.write(data)

    def unwritten_bytes(self) -> int:
        return 0  # counted as written at once

    async def commit(self) -> Any:
        return await self._inner.commit()

    async def abort(self) -> None:
        self._store.written = 0  # the fake frees what it counted
        await self._inner.abort()


@dataclass
class Spaced:
    env: Env
    store: FreeSpace


@pytest.fixture
def spaced(make_app: MakeApp) -> Spaced:
    # a SQLite database's folder counts too, but has far more free space than the fake
    def faked(ctx: Context) -> Context:
        return dataclasses.replace(ctx, blobs=FreeSpace(ctx.blobs, RESERVE + 10 * MiB))

    app = make_app(public_url=PUBLIC_URL, min_free_bytes=RESERVE, free_space_check_bytes=4 * MiB,
                   context=faked)
    ctx, store = app.ctx, app.ctx.blobs
    assert isinstance(store, FreeSpace)
    created = create_api_token(ctx.engine, base="Space")
    env = Env(ctx, app.client, created.token, created.dtable.uuid, created.dtable.workspace_id,
              ctx.settings.data_dir)
    return Spaced(env, store)


def test_declared_size_over_the_reserve_is_refused_before_the_body(spaced: Spaced) -> None:
    env = spaced.env
    link = env.upload_link()
    before = env.state()
    read: list[int] = []

    def body() -> Iterator[bytes]:
        for _ in range(12):
            read.append(1)
            yield b"x" * MiB

    r = env.client.post(link["upload_link"] + "?ret-json=1", content=body(),
                        headers={"content-type": "multipart/form-data; boundary=b",
                                 "content-length": str(12 * MiB)})
    assert r.status_code == 507, r.text
    assert "storage space" in r.text
    assert env.state() == before
    # one that fits goes through
    assert env.upload("fits.bin", b"y" * MiB).status_code == 200  # type: ignore[attr-defined]


def _chunked(link: dict[str, str], size: int) -> Iterator[bytes]:
    yield (f'--b\r\nContent-Disposition: form-data; name="parent_dir"\r\n\r\n{link["parent_path"]}\r\n'
           '--b\r\nContent-Disposition: form-data; name="file"; filename="c.bin"\r\n\r\n').encode()
    for _ in range(size // MiB):
        yield b"z" * MiB
    yield b"\r\n--b--\r\n"


def test_chunked_upload_is_refused_when_it_would_cross_the_reserve(spaced: Spaced) -> None:
    env = spaced.env
    link = env.upload_link()
    before = env.state()
    r = env.client.post(link["upload_link"] + "?ret-json=1", content=_chunked(link, 12 * MiB),
                        headers={"content-type": "multipart/form-data; boundary=b"})
    assert r.status_code == 507, r.text
    assert env.state() == before
    r = env.client.post(link["upload_link"] + "?ret-json=1", content=_chunked(link, 8 * MiB),
                        headers={"content-type": "multipart/form-data; boundary=b"})
    assert r.status_code == 200, r.text


def test_under_the_reserve_nothing_is_accepted_and_ready_says_so(spaced: Spaced) -> None:
    env = spaced.env
    spaced.store.free = RESERVE - 1
    link = env.upload_link()
    before = env.state()
    assert env.upload("small.bin", b"s", link=link).status_code == 507  # type: ignore[attr-defined]
    assert env.state() == before
    r = env.client.get("/api/ready")
    assert r.status_code == 503
    assert r.json()["space"] == {"status": "low", "free_bytes": RESERVE - 1, "min_free_bytes": RESERVE}
    assert r.json()["checks"] == {"database": "ok", "storage": "ok"}
    spaced.store.free = RESERVE + 2 * MiB
    r = env.client.get("/api/ready")
    assert r.status_code == 200 and r.json()["space"]["status"] == "ok"
    assert env.upload("small.bin", b"s").status_code == 200  # type: ignore[attr-defined]


def test_a_reserve_of_zero_never_asks_for_free_space(tmp_path: Path) -> None:
    ctx = Context.open(make_settings(tmp_path / "data", min_free_bytes=0))
    store = FreeSpace(ctx.blobs, 0)
    ctx.blobs = store  # type: ignore[assignment]

    async def run() -> None:
        guard = SpaceGuard(ctx, 10 * MiB)
        await guard.admit()
        await guard.grow(10 * MiB)

    anyio.run(run)
    assert store.asked == 0


def test_guard_rereads_free_space_every_check_interval(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", min_free_bytes=MiB, free_space_check_bytes=4 * MiB)
    ctx = Context.open(settings)
    store = FreeSpace(ctx.blobs, 100 * MiB)
    ctx.blobs = store  # type: ignore[assignment]

    async def run() -> None:
        guard = SpaceGuard(ctx, None)
        await guard.admit()
        for _ in range(16):
            await guard.grow(MiB)
        assert 1 + 4 <= store.asked <= 1 + 6  # about every 4 MiB, not per piece
        store.free = MiB + MiB // 2 + store.written  # another writer filled the disk meanwhile
        with pytest.raises(InsufficientStorage):
            for _ in range(4):
                await guard.grow(MiB)

    anyio.run(run)


def test_guard_counts_bytes_the_writer_has_not_written_yet(tmp_path: Path) -> None:
    """statvfs sees only what the writer thread has written; the bytes still in its queue must
    count too, or a slow writer lets an upload run past the reserve (a 200 on a full disk)."""
    settings = make_settings(tmp_path / "data", min_free_bytes=16 * MiB, free_space_check_bytes=4 * MiB)
    ctx = Context.open(settings)
    store = FreeSpace(ctx.blobs, 64 * MiB)
    ctx.blobs = store  # type: ignore[assignment]
    lag = 12 * MiB  # the writer is this far behind what was received

    async def run() -> int:
        guard = SpaceGuard(ctx, None)
        await guard.admit()
        accepted = 0
        with pytest.raises(InsufficientStorage):
            for _ in range(64):
                await guard.grow(MiB, unwritten=accepted - store.written)
                accepted += MiB
                store.written = max(accepted - lag, 0)
        return accepted

    accepted = anyio.run(run)
    assert 44 * MiB <= accepted <= 48 * MiB  # 64 MiB free, 16 MiB reserve


def test_sqlite_full_is_507_and_other_database_errors_503(tmp_path: Path) -> None:
    ctx = Context.open(make_settings(tmp_path / "data"))
    engine = create_engine(f"sqlite:///{tmp_path / 'tiny.sqlite3'}")

    def fill_up() -> None:
        with engine.begin() as conn:
            conn.execute(text("PRAGMA max_page_count = 8"))  # SQLite's own "disk" limit
            conn.execute(text("CREATE TABLE t (x BLOB)"))
            for _ in range(100):
                conn.execute(text("INSERT INTO t VALUES (randomblob(4096))"))

    def broken() -> None:
        with engine.begin() as conn:
            conn.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(InsufficientStorage) as full:
        anyio.run(lambda: ctx.run_db(fill_up))
    assert status_for(full.value) == 507
    assert "disk is full" in full.value.message
    with pytest.raises(StorageUnavailable) as other:
        anyio.run(lambda: ctx.run_db(broken))
    assert status_for(other.value) == 503
    engine.dispose()


def test_database_full_recognises_drivers_codes() -> None:
    err = sqlite3.OperationalError("database or disk is full")
    err.sqlite_errorcode = 13  # type: ignore[attr-defined]
    assert database_full(err)

    class PgDiskFull(Exception):
        sqlstate = "53100"

    assert database_full(PgDiskFull())
    assert not database_full(sqlite3.OperationalError("database is locked"))
    assert not database_full(None)


def test_sqlite_folder() -> None:
    assert sqlite_folder("sqlite:////var/lib/atoll/atoll.sqlite3") == Path("/var/lib/atoll")
    assert sqlite_folder("sqlite://") is None
    assert sqlite_folder("postgresql+psycopg://u@h/db") is None
