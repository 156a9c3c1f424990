"""ASGI entry point for ``atoll serve``: settings come from ``ATOLL_*`` (set by the CLI)."""

from __future__ import annotations

from starlette.applications import Starlette

from atoll.config import Settings
from atoll.server.app import create_app


def app_from_env() -> Starlette:
    return create_app(Settings.load())
