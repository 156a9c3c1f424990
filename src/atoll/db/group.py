"""Write jobs and how they commit.

A write job is ``fn(conn) -> T`` that runs inside a write transaction. ``await
Commits.run(fn)`` returns only once the job's work is durable (committed), or raises.

- **SQLite** has one writer at a time and one WAL sync per commit. ``GroupCommit`` lets the jobs
  of concurrent requests share one transaction: jobs queue on the event loop; one leader task
  takes every job queued so far (at most ``max_jobs``), runs each inside its own savepoint on one
  worker thread and commits once, then takes the next batch. A job that fails is rolled back to
  its savepoint and gets its own error; the others commit. If the commit itself fails, no job of
  the batch is durable and each gets that error. Waiting requests hold no thread: a queue of
  threads blocked on a lock woke each other in turn (about 140 futex calls per upload).
- **Quick jobs** (``run(fn, quick=True)``: a few single-row statements, such as an upload's
  commit) run on the event loop itself, and only the COMMIT (the WAL sync) goes to a worker
  thread, once per batch. On a worker thread every statement gives up the GIL and must win it
  back from the busy event loop: a batch of 16 uploads took ~30 ms of wall time for ~7 ms of
  work, and that one leader limited the server's small-upload rate. The loop never waits for a
  lock on this path: it takes the process's write lock only if free and begins with SQLite's
  busy timeout at 0; if another writer (a thread of this process, another process) holds the
  database, the batch goes the worker-thread way instead. Between jobs the loop serves other
  requests; they cannot see the batch's writes before its COMMIT (WAL snapshots).
- **PostgreSQL** commits concurrent transactions in parallel (and groups WAL flushes itself), so
  ``DirectCommit`` gives each job a transaction of its own, on a worker thread.

A job that hits a unique-constraint race (``IntegrityError``) is rolled back and run again, up to
``retries`` times, as a whole transaction would be.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

import anyio.to_thread
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from atoll.db.engine import SQLITE_BUSY_TIMEOUT_MS, write_lock, write_tx

T = TypeVar("T")

#: Jobs one group commit takes at most (bounds the time one transaction holds the write lock).
MAX_GROUP_JOBS = 64
#: Quick jobs of one batch run on the event loop for at most this long before it serves others.
INLINE_SLICE_S = 0.005
#: Runs of a job that keeps hitting unique-constraint races before its error is raised.
JOB_RETRIES = 5


class Commits(Protocol):
    async def run(self, fn: Callable[[Connection], T], *, quick: bool = False) -> T:
        """``fn``'s result once durable. ``quick``: ``fn`` runs a few short statements and nothing
        else (no sleeping, no other I/O), so it may run on the event loop (SQLite)."""
        ...


def _integrity_errors(engine: Engine) -> tuple[type[BaseException], ...]:
    return (IntegrityError, engine.dialect.loaded_dbapi.IntegrityError)


class DirectCommit:
    """One transaction per job (PostgreSQL)."""

    def __init__(self, engine: Engine, *, retries: int = JOB_RETRIES) -> None:
        self._engine = engine
        self._retries = retries
        self._integrity = _integrity_errors(engine)

    async def run(self, fn: Callable[[Connection], T], *, quick: bool = False) -> T:
        return await anyio.to_thread.run_sync(self.run_sync, fn)

    def run_sync(self, fn: Callable[[Connection], T]) -> T:
        for attempt in range(self._retries):
            try:
                with write_tx(self._engine) as conn:
                    return fn(conn)
            except self._integrity:
                if attempt == self._retries - 1:
                    raise
        raise AssertionError("unreachable")


class _Job(Generic[T]):
    def __init__(self, fn: Callable[[Connection], T], future: asyncio.Future[T], quick: bool) -> None:
        self.fn = fn
        self.future = future
        self.quick = quick
        self.value: T | None = None
        self.error: BaseException | None = None

    def settle(self) -> None:
        """Hand the outcome to the waiting request (on the event loop)."""
        if self.future.done():  # the request went away; the job committed (or not) all the same
            return
        if self.error is not None:
            self.future.set_exception(self.error)
        else:
            self.future.set_result(self.value)  # type: ignore[arg-type]  # set when error is None


class GroupCommit:
    """Concurrent jobs share one transaction and one commit (SQLite)."""

    def __init__(self, engine: Engine, *, max_jobs: int = MAX_GROUP_JOBS, retries: int = JOB_RETRIES) -> None:
        self._engine = engine
        self._max_jobs = max_jobs
        self._retries = retries
        self._integrity = _integrity_errors(engine)
        self._queue: list[_Job[Any]] = []
        self._leader: asyncio.Task[None] | None = None
        #: Commits made and jobs they carried (for tests and the bench).
        self.commits = 0
        self.jobs = 0

    async def run(self, fn: Callable[[Connection], T], *, quick: bool = False) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        job = _Job(fn, future, quick)
        self._queue.append(job)
        if self._leader is None or self._leader.done() or self._leader.get_loop() is not loop:
            self._leader = loop.create_task(self._lead())
        return await future

    async def _lead(self) -> None:
        """Commit batches until no job waits. A batch handed to the worker thread is seen
        through (the thread is never abandoned) and its jobs settled, even on cancellation."""
        while self._queue:
            batch = self._next_batch()
            try:
                if batch[0].quick and await self._commit_inline(batch):
                    continue
                await anyio.to_thread.run_sync(self._commit, batch)
            finally:
                for job in batch:
                    job.settle()

    def _next_batch(self) -> list[_Job[Any]]:
        """The queued jobs up to ``max_jobs``, as long as they are all quick or all not."""
        kind = self._queue[0].quick
        n = 1
        while n < min(self._max_jobs, len(self._queue)) and self._queue[n].quick == kind:
            n += 1
        batch = self._queue[:n]
        del self._queue[:n]
        return batch

    async def _commit_inline(self, batch: list[_Job[Any]]) -> bool:
        """Run quick jobs on the event loop and COMMIT on a worker thread. False, having done
        nothing, when the database is taken by another writer right now."""
        lock = write_lock(self._engine)
        if lock is not None and not lock.acquire(blocking=False):
            return False
        try:
            conn = self._engine.connect().execution_options(atoll_write=True)
            try:
                if not _begin_without_waiting(conn):
                    conn.close()
                    return False
                await self._run_jobs_inline(conn, batch)
            except BaseException:
                conn.close()  # rolls back what is open
                raise
            try:
                await anyio.to_thread.run_sync(_commit_and_close, conn)
                self.commits += 1
                self.jobs += len(batch)
            except BaseException as exc:  # nothing of the batch is durable
                _fail(batch, exc)
            return True
        finally:
            if lock is not None:
                lock.release()

    async def _run_jobs_inline(self, conn: Connection, batch: list[_Job[Any]]) -> None:
        """Each job in its savepoint, on the event loop; other requests get the loop every
        ``INLINE_SLICE_S`` (waiting a loop turn after every job made a batch take ~16 turns)."""
        started = time.perf_counter()
        for job in batch:
            self._run_job(conn, job)
            if time.perf_counter() - started >= INLINE_SLICE_S:
                await asyncio.sleep(0)
                started = time.perf_counter()

    def _commit(self, batch: list[_Job[Any]]) -> None:
        try:
            with write_tx(self._engine) as conn:
                for job in batch:
                    self._run_job(conn, job)
            self.commits += 1
            self.jobs += len(batch)
        except BaseException as exc:  # BEGIN or COMMIT failed: nothing of the batch is durable
            _fail(batch, exc)

    def _run_job(self, conn: Connection, job: _Job[Any]) -> None:
        cursor = _savepoints(conn)
        try:
            for attempt in range(self._retries):
                cursor.execute("SAVEPOINT atoll_job")
                try:
                    job.value = job.fn(conn)
                except BaseException as exc:
                    _undo(cursor, exc)
                    if isinstance(exc, self._integrity) and attempt < self._retries - 1:
                        continue
                    job.error = exc
                    return
                cursor.execute("RELEASE SAVEPOINT atoll_job")
                return
        finally:
            cursor.close()


def _fail(batch: list[_Job[Any]], exc: BaseException) -> None:
    for job in batch:
        if job.error is None:
            job.error, job.value = exc, None


def _begin_without_waiting(conn: Connection) -> bool:
    """BEGIN IMMEDIATE on ``conn`` if no other connection holds SQLite's write lock (False if
    one does), with the busy timeout at 0 meanwhile: the event loop never sleeps on a lock."""
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    dbapi.execute("PRAGMA busy_timeout=0")
    try:
        conn.begin()
    except OperationalError as exc:
        if getattr(exc.orig, "sqlite_errorcode", None) != sqlite3.SQLITE_BUSY:
            raise
        return False
    finally:
        dbapi.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    return True


def _commit_and_close(conn: Connection) -> None:
    """COMMIT (SQLite syncs the WAL here) and hand the connection back, on a worker thread."""
    try:
        conn.commit()
    finally:
        conn.close()


def _undo(cursor: Any, cause: BaseException) -> None:
    """Roll the job back to its savepoint. SQLite rolls the whole transaction back by itself on
    a full disk or an I/O error; then the savepoint is gone and the batch fails with the cause."""
    try:
        cursor.execute("ROLLBACK TO SAVEPOINT atoll_job")
        cursor.execute("RELEASE SAVEPOINT atoll_job")
    except Exception:
        raise cause from None


def _savepoints(conn: Connection) -> Any:
    """A raw cursor on the transaction's connection (savepoints without SQLAlchemy's bookkeeping:
    the job's own statements may nest SQLAlchemy savepoints inside)."""
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    return dbapi.cursor()


def commits_for(engine: Engine) -> Commits:
    """Group commit on SQLite, a transaction per job elsewhere."""
    if engine.dialect.name == "sqlite":
        return GroupCommit(engine)
    return DirectCommit(engine)
