"""Versioned schema migrations. Each step runs once, in order, inside one transaction.

Add a step by appending ``(version, function)``; never edit a released step.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, inspect, select

from atoll.db import schema

Step = Callable[[Connection], None]


def _v1_initial(conn: Connection) -> None:
    schema.metadata.create_all(conn, checkfirst=True)


STEPS: list[tuple[int, Step]] = [
    (1, _v1_initial),
]

LATEST = STEPS[-1][0]


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table("schema_version"):
        return 0
    found = conn.execute(select(schema.schema_version.c.version)).scalars().all()
    return max(found, default=0)


def migrate(engine: Engine) -> int:
    """Bring the database to the latest version; return it. Safe to call on every start."""
    with engine.begin() as conn:
        version = current_version(conn)
        for number, step in STEPS:
            if number <= version:
                continue
            step(conn)
            conn.execute(
                schema.schema_version.insert().values(
                    version=number, applied_at=datetime.now(UTC).isoformat()
                )
            )
            version = number
    return version
