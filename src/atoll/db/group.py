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
- **PostgreSQL** commits concurrent transactions in parallel (and groups WAL flushes itself), so
  ``DirectCommit`` gives each job a transaction of its own, on a worker thread.

A job that hits a unique-constraint race (``IntegrityError``) is rolled back and run again, up to
``retries`` times, as a whole transaction would be.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

import anyio.to_thread
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from atoll.db.engine import write_tx

T = TypeVar("T")

#: Jobs one group commit takes at most (bounds the time one transaction holds the write lock).
MAX_GROUP_JOBS = 64
#: Runs of a job that keeps hitting unique-constraint races before its error is raised.
JOB_RETRIES = 5


class Commits(Protocol):
    async def run(self, fn: Callable[[Connection], T]) -> T: ...


def _integrity_errors(engine: Engine) -> tuple[type[BaseException], ...]:
    return (IntegrityError, engine.dialect.loaded_dbapi.IntegrityError)


class DirectCommit:
    """One transaction per job (PostgreSQL)."""

    def __init__(self, engine: Engine, *, retries: int = JOB_RETRIES) -> None:
        self._engine = engine
        self._retries = retries
        self._integrity = _integrity_errors(engine)

    async def run(self, fn: Callable[[Connection], T]) -> T:
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
    def __init__(self, fn: Callable[[Connection], T], future: asyncio.Future[T]) -> None:
        self.fn = fn
        self.future = future
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

    async def run(self, fn: Callable[[Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        job = _Job(fn, future)
        self._queue.append(job)
        if self._leader is None or self._leader.done() or self._leader.get_loop() is not loop:
            self._leader = loop.create_task(self._lead())
        return await future

    async def _lead(self) -> None:
        """Commit batches until no job waits. A batch handed to the worker thread is seen
        through (the thread is never abandoned) and its jobs settled, even on cancellation."""
        while self._queue:
            batch = self._queue[: self._max_jobs]
            del self._queue[: self._max_jobs]
            try:
                await anyio.to_thread.run_sync(self._commit, batch)
            finally:
                for job in batch:
                    job.settle()

    def _commit(self, batch: list[_Job[Any]]) -> None:
        try:
            with write_tx(self._engine) as conn:
                for job in batch:
                    self._run_job(conn, job)
            self.commits += 1
            self.jobs += len(batch)
        except BaseException as exc:  # BEGIN or COMMIT failed: nothing of the batch is durable
            for job in batch:
                if job.error is None:
                    job.error, job.value = exc, None

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
