"""Root fixtures: ``make_app`` builds an in-process app on a fresh namespace of the active backend.

``make_app(**overrides)`` returns an :class:`App` (context and a started test client); keyword
arguments are settings overrides (``make_app(max_upload_bytes=1000)``), so a test that needs a
small limit asks for it instead of writing into the frozen settings. A few keyword-only options
(``base_url``, ``raise_server_exceptions``, ``started``, whole ``settings``, ``context`` stand-ins)
cover the rest; see :func:`app_factory`. Every app a test makes is shut down when the test ends
(``make_module_app``: when the module ends), or earlier with ``app.close()``.

Every SQLAlchemy engine a test connects through (directly, through a Context, or in an
in-process CLI command) is disposed when the test ends, so pooled database connections are
closed rather than garbage-collected (psycopg's ResourceWarning is an error under the suite's
``filterwarnings = ["error"]``); one that was checked out at that moment is closed when it comes
back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest
from sqlalchemy import Connection, Engine, event
from starlette.applications import Starlette
from starlette.testclient import TestClient

from atoll.config import Settings
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
        dispose(engines)


def dispose(engines: set[Engine]) -> None:
    """Close every engine's pooled connections, and each one still checked out once it is back.

    What ``Engine.dispose()`` does, with the old pool told to close late returns: the fresh pool
    is made first, because a pool made by ``recreate()`` copies the old one's listeners."""
    for engine in engines:
        old = engine.pool
        engine.pool = old.recreate()
        event.listen(old, "checkin", _close_late_return)
        old.dispose()


def _close_late_return(dbapi_connection: Any, _record: Any) -> None:
    """A connection checked out while its engine was disposed (a module-scoped app's poller
    mid-read) is handed back to the old pool later, which nothing closes any more: close it now,
    rather than let garbage collection warn in whichever test it falls (CI once:
    test_toast_is_a_new_notification on PostgreSQL)."""
    if dbapi_connection is not None:
        with suppress(Exception):
            dbapi_connection.close()


@dataclass
class App:
    ctx: Context
    client: TestClient
    #: The Starlette application the client talks to (a test may add a route to it).
    starlette: Starlette
    _closing: ExitStack = field(default_factory=ExitStack, repr=False)

    def close(self) -> None:
        """Stop the client (and the app's lifespan) now rather than when the test ends."""
        self._closing.close()

    def __enter__(self) -> App:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MakeApp(Protocol):
    def __call__(
        self,
        *,
        settings: Settings | None = None,
        context: Context | Callable[[Context], Context] | None = None,
        base_url: str = BASE_URL,
        raise_server_exceptions: bool = True,
        started: bool = True,
        **overrides: Any,
    ) -> App: ...


@contextmanager
def app_factory(root: Path) -> Iterator[MakeApp]:
    """Apps on fresh data dirs under ``root``, all closed when the ``with`` ends.

    ``settings`` replaces the active backend's settings (``overrides`` still apply to it);
    ``context`` is either a function that swaps stand-ins (an engine, a blob store) into the
    opened context before the app is made, or a whole context to serve as is (then no settings);
    ``started=False`` leaves the client unstarted (no lifespan, so no start-up sweep).
    """
    made = 0

    with ExitStack() as stack:

        def make(
            *,
            settings: Settings | None = None,
            context: Context | Callable[[Context], Context] | None = None,
            base_url: str = BASE_URL,
            raise_server_exceptions: bool = True,
            started: bool = True,
            **overrides: Any,
        ) -> App:
            nonlocal made
            made += 1
            if isinstance(context, Context):
                ctx = context
            else:
                if settings is None:
                    settings = make_settings(root / ("data" if made == 1 else f"data-{made}"), **overrides)
                elif overrides:
                    settings = settings.with_(**overrides)
                ctx = Context.open(settings)
                if context is not None:
                    ctx = context(ctx)
            starlette = create_app(ctx.settings, context=ctx)
            client = TestClient(starlette, base_url=base_url, raise_server_exceptions=raise_server_exceptions)
            app = App(ctx, client, starlette)
            stack.callback(app.close)
            if started:
                app._closing.enter_context(client)
            else:
                app._closing.callback(client.close)
            return app

        yield make


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[MakeApp]:
    with app_factory(tmp_path) as make:
        yield make


@pytest.fixture(scope="module")
def make_module_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeApp]:
    """``make_app`` for module-scoped fixtures: the apps live until the module's last test."""
    with app_factory(tmp_path_factory.mktemp("apps")) as make:
        yield make
