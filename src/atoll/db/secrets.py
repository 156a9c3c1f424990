"""The signing secret kept in the metadata database, so every process that shares it agrees."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from atoll.db import schema
from atoll.db.engine import read_tx, write_tx

SIGNING_SECRET = "signing_secret"


def _read(engine: Engine) -> str | None:
    t = schema.server_settings
    with read_tx(engine) as conn:
        value: str | None = conn.execute(select(t.c.value).where(t.c.name == SIGNING_SECRET)).scalar()
        return value


def stored_secret(engine: Engine, make: Callable[[], str]) -> str:
    """The stored secret; the first caller stores ``make()``. Race-free across processes: the
    primary key lets exactly one insert win, and the losers read the winner's."""
    found = _read(engine)
    if found is not None:
        return found
    try:
        with write_tx(engine) as conn:
            conn.execute(schema.server_settings.insert().values(name=SIGNING_SECRET, value=make()))
    except IntegrityError:
        pass
    found = _read(engine)
    assert found is not None
    return found
