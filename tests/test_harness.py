"""The suite's own fixtures: what ``tests/conftest.py`` promises about database connections."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text

from tests.conftest import MakeApp, dispose


def test_a_connection_handed_back_after_its_engine_was_disposed_is_closed(make_app: MakeApp) -> None:
    """A module-scoped app's poller may hold a connection while a test ends; given back to the
    disposed pool, it would stay open until garbage collection (psycopg then warns, an error in
    whichever later test it falls)."""
    engine = make_app(started=False).ctx.engine
    conn = engine.connect()
    conn.execute(text("SELECT 1"))
    dbapi = conn.connection.dbapi_connection
    dispose({engine})
    assert _is_open(dbapi)  # still in use: disposing never closes a checked-out connection
    conn.close()
    assert not _is_open(dbapi)
    for _ in range(3):  # the engine goes on with a fresh pool, whose connections stay open
        with engine.connect() as again:
            assert again.execute(text("SELECT 1")).scalar() == 1
    with engine.connect() as again:
        assert _is_open(again.connection.dbapi_connection)


def _is_open(dbapi: object) -> bool:
    if isinstance(dbapi, sqlite3.Connection):
        try:
            dbapi.execute("SELECT 1")
        except sqlite3.ProgrammingError:
            return False
        return True
    closed = getattr(dbapi, "closed", None)
    if closed is None:
        pytest.fail(f"unknown driver connection {dbapi!r}")
    return not closed
