"""The mechanisms behind the small-file speed (issue 9): prepared lookups (inline on SQLite,
falling back to a worker thread when the database is busy) and group commit.

Each runs against the active backend where it applies; the SQLite-only mechanisms (inline
lookups, group commit) also run on a SQLite file of their own on the PostgreSQL run.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import Connection, Engine, create_engine, text

from atoll.db import lookups
from atoll.db.engine import make_engine, write_tx
from atoll.db.group import DirectCommit, GroupCommit, commits_for
from atoll.db.migrations import ensure_schema
from atoll.errors import StorageUnavailable
from atoll.services import access
from atoll.services.context import Context
from tests.backends import make_settings, on_postgres_s3
from tests.db.jobs import insert_job as _insert
from tests.db.jobs import names as _names
from tests.db.jobs import submit_all


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    ctx = Context.open(make_settings(tmp_path / "data"))
    yield ctx
    ctx.close()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'own.sqlite3'}")
    ensure_schema(engine)
    return engine


def _token(ctx: Context) -> str:
    return access.create_api_token(ctx.engine, base="B").token


# ---- lookups ---------------------------------------------------------------------------------


def test_lookup_sees_a_commit_made_elsewhere_at_once(ctx: Context, tmp_path: Path) -> None:
    """Another engine stands in for another process: its commits are seen by the next lookup,
    and a revoked token opens nothing on the very next request (nothing is cached)."""
    token = _token(ctx)
    assert anyio.run(access.authenticate_api_token, ctx, token).dtable.name == "B"
    other = make_engine(ctx.settings.db_url)
    try:
        assert access.revoke_api_token(other, token)
    finally:
        other.dispose()
    with pytest.raises(Exception, match="Permission denied"):
        anyio.run(access.authenticate_api_token, ctx, token)


def test_inline_only_on_a_sqlite_file(ctx: Context, sqlite_engine: Engine) -> None:
    assert ctx.lookups.inline is not on_postgres_s3()
    assert lookups.Lookups(sqlite_engine).inline
    memory = create_engine("sqlite://")
    assert not lookups.Lookups(memory).inline
    memory.dispose()


def test_busy_database_falls_back_to_a_worker_thread(tmp_path: Path) -> None:
    """A connection that holds SQLite's exclusive lock makes the inline read busy: the lookup
    waits on a worker thread instead, and the event loop keeps running meanwhile."""
    ctx = Context.open(make_settings(tmp_path / "data", db_url=f"sqlite:///{tmp_path / 'busy.sqlite3'}"))
    token = _token(ctx)
    ctx.engine.dispose()  # exclusive locking mode needs every other connection closed
    blocker = sqlite3.connect(str(tmp_path / "busy.sqlite3"), isolation_level=None, check_same_thread=False)
    blocker.execute("PRAGMA locking_mode=EXCLUSIVE")
    blocker.execute("BEGIN EXCLUSIVE")
    blocker.execute("UPDATE api_tokens SET app_name = app_name")  # takes and keeps the lock
    ticks: list[float] = []

    async def go() -> Any:
        async def tick() -> None:
            while len(ticks) < 5:
                ticks.append(time.monotonic())
                await anyio.sleep(0.05)

        def release() -> None:
            time.sleep(0.4)
            blocker.execute("COMMIT")
            blocker.close()  # drops the exclusive lock

        threading.Thread(target=release).start()
        async with anyio.create_task_group() as tg:
            tg.start_soon(tick)
            principal = await access.authenticate_api_token(ctx, token)
        return principal

    try:
        started = time.monotonic()
        principal = anyio.run(go)
        assert principal.dtable.name == "B"
        assert time.monotonic() - started >= 0.3  # it did wait for the lock...
        assert len(ticks) == 5 and ticks[1] - ticks[0] < 0.3  # ...without blocking the loop
    finally:
        blocker.close()  # again, if the test failed before the release
        ctx.close()
        ctx.engine.dispose()


def test_prepared_lookup_survives_a_schema_change(sqlite_engine: Engine, tmp_path: Path) -> None:
    """A statement compiled (and cached by the driver) before a schema change still answers
    right after it: SQLite re-prepares, the lookup names its columns."""
    ctx = Context(make_settings(tmp_path / "d"), sqlite_engine, None, b"k" * 32, (b"k" * 32,))  # type: ignore[arg-type]
    token = access.create_api_token(sqlite_engine, base="S").token
    assert anyio.run(access.authenticate_api_token, ctx, token).dtable.name == "S"
    with sqlite_engine.begin() as conn:
        conn.execute(text("ALTER TABLE api_tokens ADD COLUMN note TEXT"))
        conn.execute(text("ALTER TABLE dtables ADD COLUMN colour TEXT"))
    assert anyio.run(access.authenticate_api_token, ctx, token).dtable.name == "S"
    ctx.close()


def test_database_gone_is_503_on_the_lookup_path(tmp_path: Path) -> None:
    """The SQLite file's folder vanished: the inline connection cannot open it, nor can the
    worker thread's: 503, not a 500."""
    folder = tmp_path / "db"
    folder.mkdir()
    ctx = Context.open(make_settings(tmp_path / "data", db_url=f"sqlite:///{folder / 'gone.sqlite3'}"))
    ctx.engine.dispose()
    shutil.rmtree(folder)
    try:
        with pytest.raises(StorageUnavailable):
            anyio.run(access.authenticate_api_token, ctx, "0" * 40)
    finally:
        ctx.close()


# ---- group commit ----------------------------------------------------------------------------


def _run_concurrently(commits: Any, jobs: list[Any]) -> list[Any]:
    """Every job submitted at once, as concurrent requests do; each one's result or error."""
    return submit_all(commits, [(job, False) for job in jobs])[0]


def test_concurrent_jobs_share_commits_and_each_gets_its_own_result(sqlite_engine: Engine) -> None:
    group = GroupCommit(sqlite_engine)

    def first(conn: Connection) -> str:  # holds the first transaction open a moment,
        time.sleep(0.2)  # so the others queue up behind it and commit as one group
        return _insert("w-first")(conn)

    jobs = [first, *[_insert(f"w{i}") for i in range(31)]]
    results = _run_concurrently(group, jobs)
    assert results == ["w-first", *[f"w{i}" for i in range(31)]]
    assert _names(sqlite_engine) == set(results)
    assert group.jobs == 32 and group.commits <= 3  # grouped: the first alone, the rest together
    # the same group on a new event loop (a later anyio.run) leads again
    assert _run_concurrently(group, [_insert("again")]) == ["again"]


def test_a_request_that_goes_away_does_not_stop_the_group(sqlite_engine: Engine) -> None:
    group = GroupCommit(sqlite_engine)

    def slow(conn: Connection) -> str:
        time.sleep(0.3)
        return _insert("slow")(conn)

    async def go() -> Any:
        with anyio.move_on_after(0.05):  # the client of the slow job disconnects meanwhile
            await group.run(slow)
        return await group.run(_insert("next"))

    assert anyio.run(go) == "next"
    assert _names(sqlite_engine) == {"slow", "next"}  # the abandoned job committed all the same


def test_a_failing_job_leaves_its_batch_alone(sqlite_engine: Engine) -> None:
    group = GroupCommit(sqlite_engine)

    def bad(conn: Connection) -> str:
        conn.execute(text("INSERT INTO workspaces (name) VALUES ('half-done')"))
        raise ValueError("this job fails after writing")

    jobs = [_insert("a"), bad, _insert("b"), _insert("a")]  # the second "a" is a unique violation
    results = _run_concurrently(group, jobs)
    assert [type(r) for r in results].count(str) == 2
    assert any(isinstance(r, ValueError) for r in results)
    assert sum(1 for r in results if isinstance(r, Exception)) == 2
    assert _names(sqlite_engine) == {"a", "b"}  # nothing of the failed jobs, not "half-done"


def test_a_failed_commit_fails_every_job_of_the_batch(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = GroupCommit(sqlite_engine)
    real = write_tx

    def failing_commit(engine: Engine) -> Any:
        class Tx:
            def __enter__(self) -> Connection:
                self.cm = real(engine)
                return self.cm.__enter__()

            def __exit__(self, *exc: Any) -> None:
                self.cm.__exit__(RuntimeError, RuntimeError("disk gone"), None)  # rolls back
                raise OSError("the commit failed")

        return Tx()

    monkeypatch.setattr("atoll.db.group.write_tx", failing_commit)
    results = _run_concurrently(group, [_insert(f"x{i}") for i in range(8)])
    assert all(isinstance(r, OSError) for r in results)
    assert _names(sqlite_engine) == set()


def test_direct_commit_retries_a_unique_race(sqlite_engine: Engine) -> None:
    tries = {"n": 0}

    def racy(conn: Connection) -> str:
        tries["n"] += 1
        name = "taken" if tries["n"] == 1 else f"free{len(_names(sqlite_engine))}"
        conn.execute(text("INSERT INTO workspaces (name) VALUES (:n)"), {"n": name})
        return name

    with write_tx(sqlite_engine) as conn:
        conn.execute(text("INSERT INTO workspaces (name) VALUES ('taken')"))
    assert anyio.run(DirectCommit(sqlite_engine).run, racy) == "free1" and tries["n"] == 2
    tries["n"] = 0
    assert anyio.run(GroupCommit(sqlite_engine).run, racy) == "free2" and tries["n"] == 2


def test_each_backend_gets_its_kind_of_commit(ctx: Context) -> None:
    kind = DirectCommit if on_postgres_s3() else GroupCommit
    assert isinstance(ctx.commits, kind)
    assert isinstance(commits_for(ctx.engine), kind)
