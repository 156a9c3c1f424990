"""Quick jobs of SQLite's group commit (``db.group``): they run on the event loop and only the
COMMIT goes to a worker thread; a database held by another writer sends the batch the
worker-thread way instead, and the event loop never waits for that lock.

SQLite-only (the group commit is): on the PostgreSQL run these use a SQLite file of their own.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import Connection, Engine, text

import atoll.db.group as group_mod
from atoll.db.engine import make_engine, write_lock
from atoll.db.group import GroupCommit
from atoll.db.migrations import ensure_schema
from tests.db.jobs import insert_job as _insert
from tests.db.jobs import names as _names
from tests.db.jobs import submit_all


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'own.sqlite3'}")
    ensure_schema(engine)
    return engine


def _submit_all(group: GroupCommit, jobs: list[tuple[Any, bool]]) -> tuple[list[Any], int]:
    return submit_all(group, jobs)


def test_quick_jobs_run_on_the_loop_and_share_one_commit(sqlite_engine: Engine) -> None:
    group = GroupCommit(sqlite_engine)
    threads: list[int] = []
    results, loop_thread = _submit_all(group, [(_insert(f"q{i}", threads), True) for i in range(20)])
    assert results == [f"q{i}" for i in range(20)]
    assert _names(sqlite_engine) == set(results)
    assert set(threads) == {loop_thread}  # on the event loop, not on a worker thread
    assert group.jobs == 20 and group.commits == 1


def test_quick_and_other_jobs_mixed_all_commit(sqlite_engine: Engine) -> None:
    group = GroupCommit(sqlite_engine)
    threads: list[int] = []
    jobs = [(_insert(f"m{i}", threads), i % 3 == 0) for i in range(12)]
    results, loop_thread = _submit_all(group, jobs)
    assert results == [f"m{i}" for i in range(12)]
    assert _names(sqlite_engine) == set(results)
    on_loop = [t == loop_thread for t in threads]
    assert on_loop.count(True) == 4  # exactly the quick ones ran on the loop


def test_a_failing_quick_job_leaves_its_batch_alone(sqlite_engine: Engine) -> None:
    group = GroupCommit(sqlite_engine)

    def bad(conn: Connection) -> str:
        conn.execute(text("INSERT INTO workspaces (name) VALUES ('half-done')"))
        raise ValueError("this job fails after writing")

    jobs = [(_insert("a"), True), (bad, True), (_insert("b"), True), (_insert("a"), True)]
    results, _ = _submit_all(group, jobs)
    assert results[0] == "a" and results[2] == "b"
    assert isinstance(results[1], ValueError)
    assert isinstance(results[3], Exception)  # the second "a": a unique violation, retried, refused
    assert _names(sqlite_engine) == {"a", "b"}


def test_a_failed_inline_commit_fails_every_job_of_the_batch(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_commit(conn: Connection) -> None:
        conn.close()  # rolls back
        raise OSError("the WAL sync failed")

    monkeypatch.setattr(group_mod, "_commit_and_close", failing_commit)
    group = GroupCommit(sqlite_engine)
    results, _ = _submit_all(group, [(_insert(f"x{i}"), True) for i in range(6)])
    assert all(isinstance(r, OSError) for r in results)
    assert _names(sqlite_engine) == set()
    assert write_lock(sqlite_engine).acquire(blocking=False)  # released after the failure


def test_a_database_held_elsewhere_sends_the_batch_to_a_thread_and_the_loop_runs_on(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """Another process (here: another engine on the same file) holds the write lock for a while;
    the quick job neither fails nor blocks the event loop, and commits once the lock is free."""
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        other = sqlite3.connect(tmp_path / "own.sqlite3", isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("INSERT INTO workspaces (name) VALUES ('elsewhere')")
            holding.set()
            release.wait(5)
            other.execute("COMMIT")
        finally:
            other.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(5)
    group = GroupCommit(sqlite_engine)
    threads: list[int] = []
    ticks = 0

    async def main() -> tuple[str, int]:
        nonlocal ticks

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await anyio.sleep(0.01)

        async with anyio.create_task_group() as tg:
            tg.start_soon(ticker)
            threading.Timer(0.3, release.set).start()
            started = time.perf_counter()
            name = await group.run(_insert("quick", threads), quick=True)
            assert time.perf_counter() - started >= 0.25  # it waited for the other writer
            tg.cancel_scope.cancel()
        return name, threading.get_ident()

    try:
        name, loop_thread = anyio.run(main)
    finally:
        release.set()
        holder.join()
    assert name == "quick"
    assert ticks >= 10  # the loop went on while the job waited for the lock
    assert threads and threads[-1] != loop_thread  # it ran on a worker thread
    assert _names(sqlite_engine) == {"elsewhere", "quick"}


def test_a_thread_writer_of_this_process_sends_the_batch_to_a_thread(sqlite_engine: Engine) -> None:
    """This process's write lock is taken (a worker thread is writing): no waiting on the loop."""
    lock = write_lock(sqlite_engine)
    assert lock is not None
    lock.acquire()
    threading.Timer(0.2, lock.release).start()
    threads: list[int] = []
    results, loop_thread = _submit_all(GroupCommit(sqlite_engine), [(_insert("t", threads), True)])
    assert results == ["t"]
    assert threads == [threads[0]] and threads[0] != loop_thread
