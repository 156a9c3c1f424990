"""ASGI entry point for ``atoll serve``: settings come from ``ATOLL_*`` (set by the CLI)."""

from __future__ import annotations

from starlette.applications import Starlette

from atoll.config import Settings
from atoll.server.accesslog import configure_logging
from atoll.server.app import create_app


def app_from_env() -> Starlette:
    settings = Settings.load()
    configure_logging(settings.log_format, settings.log_level)  # granian's worker is a new process
    return create_app(settings)
