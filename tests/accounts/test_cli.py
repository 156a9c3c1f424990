"""``atoll user …``: passwords from stdin (never an argument), list, disable, set-password,
add-member, remove-member, delete; on the active backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from atoll.cli import main
from atoll.config import Settings
from atoll.services import accounts
from atoll.services.context import Context
from tests.backends import server_env


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**server_env(), "ATOLL_DATA_DIR": str(tmp_path / "data")}


def atoll(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin, env=env, catch_exceptions=False)


def test_user_commands(env: dict[str, str]) -> None:
    made = atoll(env, "user", "create", "Ann@Example.com", "--name", "Ann", "--admin",
                 stdin="first password\n")
    assert made.exit_code == 0, made.output
    assert atoll(env, "user", "create", "ann@example.com", stdin="first password\n").exit_code == 1
    short = atoll(env, "user", "create", "c@example.com", stdin="short\n")
    assert short.exit_code == 1 and "at least 8" in short.output
    listed = atoll(env, "user", "list").output.splitlines()
    assert len(listed) == 1 and listed[0].split("\t")[:4] == ["ann@example.com", "Ann", "admin", "active"]
    ctx = Context.open(Settings.load(environ=env))
    try:
        user = accounts.find_user(ctx.engine, "ann@example.com")
        assert user is not None and user.is_admin
        assert atoll(env, "user", "disable", "ann@example.com").exit_code == 0
        assert "\tdisabled\t" in atoll(env, "user", "list").output
        assert atoll(env, "user", "enable", "ann@example.com").exit_code == 0
        assert atoll(env, "user", "disable", "nobody@example.com").exit_code == 1
        assert atoll(env, "user", "set-password", "ann@example.com", stdin="second password\n").exit_code == 0
        after = accounts.find_user(ctx.engine, "ann@example.com")
        assert after is not None and after.password_hash != user.password_hash
        assert atoll(env, "token", "create", "--base", "B", "--workspace", "Team").exit_code == 0
        added = atoll(env, "user", "add-member", "ann@example.com", "Team", "--role", "readonly")
        assert added.exit_code == 0, added.output
        assert atoll(env, "user", "add-member", "ann@example.com", "Nope").exit_code == 1
        assert atoll(env, "user", "remove-member", "ann@example.com", "Team").exit_code == 0
        again = atoll(env, "user", "remove-member", "ann@example.com", "Team")
        assert again.exit_code == 1 and "not a member" in again.output
        assert atoll(env, "user", "delete", "ann@example.com").exit_code == 0
        assert atoll(env, "user", "list").output == ""
        assert atoll(env, "user", "delete", "ann@example.com").exit_code == 1
    finally:
        ctx.close()


def test_a_password_is_never_an_argument(env: dict[str, str]) -> None:
    refused = CliRunner().invoke(main, ["user", "create", "a@example.com", "--password", "secret12"],
                                 env=env)
    assert refused.exit_code == 2
    empty = atoll(env, "user", "create", "a@example.com", stdin="")
    assert empty.exit_code == 2 and "stdin" in empty.output
