"""Engine creation: SQLite in WAL mode with synchronous=FULL, or PostgreSQL."""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Connections kept open (SQLite: each one costs four PRAGMAs to open). Matches the worker threads
#: that may run metadata calls at once.
POOL_SIZE = 20
POOL_OVERFLOW = 20

# SQLite allows one writer at a time. Writers of this process queue on a lock instead of in
# SQLite's busy handler, whose back-off sleeps (up to 100 ms) dominate under concurrent uploads.
_write_locks: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_on_begin)
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")  # first: the next ones may wait
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_on_begin(conn: Connection) -> None:
    # Writers take the lock up front, so two writers never deadlock on a lock upgrade.
    mode = "IMMEDIATE" if conn.get_execution_options().get("atoll_write") else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


def driver_url(url: str) -> str:
    """``postgresql://`` (and ``postgres://``) use psycopg 3, the driver atoll ships with."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain):]
    return url


def make_engine(url: str) -> Engine:
    url = driver_url(url)
    if url.startswith("sqlite"):
        db_file = url.split(":///", 1)[-1]
        if db_file and db_file != ":memory:":
            Path(db_file).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        _write_locks[engine] = threading.Lock()
        return engine
    if not url.startswith("postgresql"):
        raise ValueError(f"unsupported database URL {url.split(':', 1)[0]!r}: use sqlite:/// or postgresql://")
    # pre_ping: a connection broken by a database restart is replaced, not handed out.
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)


def write_lock(engine: Engine) -> threading.Lock | None:
    """The lock this process's writers of ``engine`` queue on (SQLite only; else None)."""
    return _write_locks.get(engine)


@contextmanager
def write_tx(engine: Engine) -> Iterator[Connection]:
    """A write transaction: commits on success, rolls back on error."""
    lock = _write_locks.get(engine)
    with lock if lock is not None else contextlib.nullcontext(), engine.connect() as raw:
        conn = raw.execution_options(atoll_write=True)
        with conn.begin():
            yield conn


@contextmanager
def read_tx(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn, conn.begin():
        yield conn
