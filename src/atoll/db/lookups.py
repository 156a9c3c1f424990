"""Lookups: the hot single-row reads (a token, a base, an asset by path), without SQLAlchemy's
per-call work and, on SQLite, without a worker thread.

A ``Lookup`` is one SELECT written with SQLAlchemy Core (so the schema stays the one source),
compiled once per dialect and then run on a raw DBAPI connection: about 10 µs on SQLite instead
of about 150 µs through ``Connection.execute`` plus a transaction. Every call is one statement
and reads the latest committed state (SQLite in WAL mode takes a fresh read snapshot per
statement in autocommit mode; PostgreSQL's READ COMMITTED does the same), so a replace, a delete
or a revoked token is seen by the next request on every process. Nothing is cached.

``Lookups`` runs them:

- **SQLite**: on the calling thread (the event loop's), over a connection of that thread's own
  that is read-only (``query_only``) and never waits for a lock (``busy_timeout=0``). A busy
  database (a checkpoint, a recovery) raises ``Busy`` and the caller retries on a worker thread
  with the pool's normal connection and its 30 s busy timeout; the event loop never blocks on a lock.
- **PostgreSQL**: on a worker thread over a pooled connection (a network round trip must not run
  on the event loop); psycopg prepares the statement on the server after a few uses.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import Engine, bindparam, select

from atoll.db import assets, schema
from atoll.db.access import dtable_of, token_of
from atoll.db.prepared import Lookup
from atoll.models import ApiToken, Dtable

T = TypeVar("T")


class Busy(Exception):
    """The inline SQLite connection found the database locked: retry on a worker thread."""


# ---- the lookups -------------------------------------------------------------------------------

_t, _d = schema.api_tokens, schema.dtables

#: An asset by base, folder and name; a folder by path (``db.assets``, where the upload commit
#: uses them too).
ASSET = assets.GET_ASSET
DIR = assets.DIR

#: A base by uuid.
DTABLE = Lookup[Dtable](select(_d).where(_d.c.uuid == bindparam("uuid")), dtable_of)

#: An API token with its base (inner join: a token of a deleted base finds nothing).
TOKEN = Lookup[tuple[ApiToken, Dtable]](
    select(_t, _d.c.uuid, _d.c.name, _d.c.workspace_id)
    .join(_d, _d.c.uuid == _t.c.dtable_uuid)
    .where(_t.c.token == bindparam("token")),
    lambda row: (token_of(row), dtable_of(row)),
)


# ---- running them ------------------------------------------------------------------------------


class Lookups:
    """Runs lookups for one engine (see the module docstring for where they run)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        url = engine.url
        file = url.database if url.get_backend_name() == "sqlite" else None
        #: The SQLite file, when lookups can run inline (not for in-memory databases).
        self.inline_file = file if file and file != ":memory:" else None
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    @property
    def inline(self) -> bool:
        return self.inline_file is not None

    def run_inline(self, lookup: Lookup[T], values: Mapping[str, Any]) -> T | None:
        """On the calling thread; raises Busy when SQLite would have to wait for a lock."""
        cursor = self._thread_connection().cursor()
        try:
            return lookup.first(cursor, self.dialect, values)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise Busy() from exc
            raise
        finally:
            cursor.close()

    def run_pooled(self, lookup: Lookup[T], values: Mapping[str, Any]) -> T | None:
        """Blocking, over a pooled connection (call it from a worker thread)."""
        conn = self.engine.raw_connection()
        try:
            cursor = conn.cursor()
            try:
                return lookup.first(cursor, self.dialect, values)
            finally:
                cursor.close()
        finally:
            conn.close()  # back to the pool, which ends the transaction (rollback)

    def _thread_connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            assert self.inline_file is not None
            conn = sqlite3.connect(self.inline_file, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA query_only=ON")
            conn.execute("PRAGMA busy_timeout=0")
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    def close(self) -> None:
        """Close the inline connections (each thread's); later lookups open new ones."""
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()
        self._local = threading.local()

