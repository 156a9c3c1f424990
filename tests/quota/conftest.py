"""The asset fixtures (a base, its API token, an in-process app) for the quota tests."""

from tests.assets.conftest import env, make_env  # noqa: F401
