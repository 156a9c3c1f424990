"""Fixtures of the thumbnail tests: the asset tests' app with a Demo base, and image makers."""

from __future__ import annotations

from tests.assets.conftest import env, make_env

__all__ = ["env", "make_env"]
