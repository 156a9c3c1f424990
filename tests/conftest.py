"""Root fixtures: ``make_app`` builds an in-process app on a fresh namespace of the active backend.

``make_app(**overrides)`` returns an :class:`App` (context and a started test client); keyword
arguments are settings overrides (``make_app(max_upload_bytes=1000)``), so a test that needs a
small limit asks for it instead of writing into the frozen settings. Every app a test makes is
shut down when the test ends.

Every SQLAlchemy engine a test connects through (directly, through a Context, or in an
in-process CLI command) is disposed when the test ends, so pooled database connections are
closed rather than garbage-collected (psycopg's ResourceWarning is an error under the suite's
``filterwarnings = ["error"]``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
from sqlalchemy import Connection, Engine, event
from starlette.testclient import TestClient

from atoll.server.app import create_app
from atoll.services.context import Context
from tests.backends import make_settings

BASE_URL = "http://testserver"  # the test client's host


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


@dataclass
class App:
    ctx: Context
    client: TestClient


class MakeApp(Protocol):
    def __call__(self, **overrides: Any) -> App: ...


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[MakeApp]:
    made = 0

    with ExitStack() as stack:

        def make(**overrides: Any) -> App:
            nonlocal made
            made += 1
            data_dir = tmp_path / ("data" if made == 1 else f"data-{made}")
            ctx = Context.open(make_settings(data_dir, **overrides))
            client = TestClient(create_app(ctx.settings, context=ctx), base_url=BASE_URL)
            return App(ctx, stack.enter_context(client))

        yield make
