"""Fixtures for computed columns: the rows slice's in-process app and API helpers."""

from tests.rows.conftest import api, app, client, ctx

__all__ = ["api", "app", "client", "ctx"]
