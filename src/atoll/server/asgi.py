"""ASGI entry point for ``atoll serve``: settings come from ``ATOLL_*`` (set by the CLI)."""

from __future__ import annotations

from starlette.applications import Starlette

from atoll.config import Settings
from atoll.server import collector
from atoll.server.accesslog import configure_logging
from atoll.server.app import create_app


def app_from_env() -> Starlette:
    settings = Settings.load()
    configure_logging(settings.log_format, settings.log_level)  # granian's worker is a new process
    app = create_app(settings)
    collector.tune(settings.gc_young_threshold)  # once per server process, after the app is built
    return app
