"""Where the client commands connect: flag > environment > profile of the config file, and the
config file's rules (TOML, known keys, not readable by every user when it holds a token)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from atoll.cli.connection import Target, config_path, connection_options
from atoll.cli.exitcodes import Exit
from tests.client.cli_env import isolate

TOKEN_A = "a" * 36 + "aaaa"
TOKEN_B = "b" * 36 + "bbbb"


@click.command()
@connection_options
def show(target: Target) -> None:
    """Print where a command would connect."""
    click.echo(json.dumps({"server": target.server_url, "token": target.api_token,
                           "timeout": target.timeout, "server_from": target.server_from,
                           "token_from": target.token_from}))


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


def write_config(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config" / "atoll" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


PROFILES = f"""
[default]
server = "http://127.0.0.1:1001"
token = "{TOKEN_A}"

[work]
server = "https://atoll.example.com"
token = "{TOKEN_B}"
timeout = 90
"""


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner(env=env).invoke(show, list(args))


def shown(result: Result) -> dict[str, object]:
    assert result.exit_code == 0, result.output
    out: dict[str, object] = json.loads(result.stdout)
    return out


def test_config_path_follows_atoll_config_then_xdg_then_home() -> None:
    assert config_path({"ATOLL_CONFIG": "/etc/a.toml", "XDG_CONFIG_HOME": "/x"}) == Path("/etc/a.toml")
    assert config_path({"XDG_CONFIG_HOME": "/x"}) == Path("/x/atoll/config.toml")
    home = Path.home() / ".config" / "atoll" / "config.toml"
    assert config_path({}) == home
    assert config_path({"XDG_CONFIG_HOME": "relative"}) == home  # the spec ignores relative ones


def test_nothing_given_is_a_usage_error_that_names_all_three_ways(tmp_path: Path) -> None:
    res = run()
    assert res.exit_code == 2 and res.exit_code == Exit.USAGE
    path = tmp_path / "config" / "atoll" / "config.toml"
    assert (f'no server: give --server URL, set ATOLL_SERVER, or put server = "URL" under '
            f"[default] in {path}") in res.stderr
    res = run("--server", "http://h")
    assert res.exit_code == 2 and "no API token: give --token TOKEN, set ATOLL_TOKEN" in res.stderr


def test_the_default_profile_is_used_without_flags(tmp_path: Path) -> None:
    path = write_config(tmp_path, PROFILES)
    got = shown(run())
    assert got["server"] == "http://127.0.0.1:1001" and got["token"] == TOKEN_A
    assert got["timeout"] == 30.0
    assert got["token_from"] == f"token of profile 'default' in {path}"


def test_flag_beats_environment_beats_profile(tmp_path: Path) -> None:
    write_config(tmp_path, PROFILES)
    env = {"ATOLL_SERVER": "http://env:1", "ATOLL_TOKEN": TOKEN_B}
    got = shown(run(env=env))
    assert (got["server"], got["token"]) == ("http://env:1", TOKEN_B)
    assert (got["server_from"], got["token_from"]) == ("ATOLL_SERVER", "ATOLL_TOKEN")
    got = shown(run("--server", "http://flag:2", env=env))
    assert (got["server"], got["token"]) == ("http://flag:2", TOKEN_B)
    assert got["server_from"] == "--server"
    # field by field: the token may come from the profile while the server is a flag
    got = shown(run("--server", "http://flag:2"))
    assert (got["server"], got["token"]) == ("http://flag:2", TOKEN_A)


def test_todays_names_still_work_and_the_new_ones_win() -> None:
    got = shown(run("--server-url", "http://old:1", "--api-token", TOKEN_A))
    assert (got["server"], got["token"]) == ("http://old:1", TOKEN_A)
    env = {"ATOLL_SERVER_URL": "http://old:1", "ATOLL_API_TOKEN": TOKEN_A}
    got = shown(run(env=env))
    assert (got["server"], got["token"], got["token_from"]) == ("http://old:1", TOKEN_A,
                                                                "ATOLL_API_TOKEN")
    got = shown(run(env={**env, "ATOLL_SERVER": "http://new:2", "ATOLL_TOKEN": TOKEN_B}))
    assert (got["server"], got["token"]) == ("http://new:2", TOKEN_B)


def test_a_named_profile_by_flag_or_environment(tmp_path: Path) -> None:
    write_config(tmp_path, PROFILES)
    got = shown(run("--profile", "work"))
    assert (got["server"], got["token"], got["timeout"]) == ("https://atoll.example.com",
                                                             TOKEN_B, 90.0)
    assert shown(run(env={"ATOLL_PROFILE": "work"}))["token"] == TOKEN_B
    assert shown(run("--profile", "work", "--timeout", "5"))["timeout"] == 5.0
    res = run("--profile", "home")
    assert res.exit_code == 2
    assert "no profile 'home' in" in res.stderr and "(profiles: default, work)" in res.stderr


def test_a_token_every_user_may_read_is_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path, PROFILES, mode=0o644)
    res = run()
    assert res.exit_code == 2
    assert (f"config file {path}: holds an API token and every user may read it; run "
            f"`chmod 600 {path}`") in res.stderr
    assert TOKEN_A not in res.output
    path.chmod(0o640)  # group-readable: the user's choice
    assert shown(run())["token"] == TOKEN_A
    write_config(tmp_path, '[default]\nserver = "http://h:1"\n', mode=0o644)  # no token: fine
    assert shown(run("--token", TOKEN_B))["server"] == "http://h:1"


@pytest.mark.parametrize(("text", "message"), [
    ("[default\n", "not valid TOML"),
    ('server = "http://h"\n', "'server' is not a profile; write [server]"),
    ('[default]\nserver_url = "http://h"\n', "profile 'default': unknown key 'server_url' "
                                             "(known: server, token, timeout)"),
    ("[default]\nserver = 1\n", "server must be a string"),
    ('[default]\nserver = "http://h"\ntoken = "t"\ntimeout = "x"\n', "timeout must be a number"),
])
def test_a_bad_config_file_says_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = write_config(tmp_path, text)
    res = run()
    assert res.exit_code == 2
    assert f"config file {path}: " in res.stderr and message in res.stderr, res.stderr


def test_atoll_config_names_the_file(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere.toml"
    other.write_text(PROFILES)
    os.chmod(other, 0o600)
    assert shown(run(env={"ATOLL_CONFIG": str(other)}))["token"] == TOKEN_A


def test_a_server_without_scheme_names_where_it_came_from(tmp_path: Path) -> None:
    path = write_config(tmp_path, f'[default]\nserver = "127.0.0.1:8000"\ntoken = "{TOKEN_A}"\n')
    res = run()
    assert res.exit_code == 2
    assert (f"server '127.0.0.1:8000' (from server of profile 'default' in {path}) must start "
            "with http:// or https://") in res.stderr
