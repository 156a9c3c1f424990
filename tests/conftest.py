"""Root fixtures.

Every SQLAlchemy engine a test connects through (directly, through a Context, or in an
in-process CLI command) is disposed when the test ends, so pooled database connections are
closed rather than garbage-collected (psycopg's ResourceWarning is an error under the suite's
``filterwarnings = ["error"]``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, event


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    engines: set[Engine] = set()

    def connected(conn: Connection) -> None:
        engines.add(conn.engine)

    event.listen(Engine, "engine_connect", connected)
    try:
        yield
    finally:
        event.remove(Engine, "engine_connect", connected)
        for engine in engines:
            engine.dispose()
