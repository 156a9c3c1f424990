"""Where the client commands connect, and how their failures read.

Every client command (upload, download, ls, mkdir, rm, sync) takes the server URL and the API
token from, in this order: a flag (``--server``/``--token``, or today's ``--server-url``/
``--api-token``), an environment variable (``ATOLL_SERVER``/``ATOLL_TOKEN``, or
``ATOLL_SERVER_URL``/``ATOLL_API_TOKEN``), or a profile of the config file (``--profile NAME``
or ``ATOLL_PROFILE``, else the profile named ``default``). The config file is TOML::

    [default]
    server = "https://atoll.example.com"
    token = "0123456789abcdef0123456789abcdef01234567"
    timeout = 60          # optional, seconds

    [local]
    server = "http://127.0.0.1:8000"
    token = "..."

at ``$ATOLL_CONFIG``, else ``$XDG_CONFIG_HOME/atoll/config.toml``, else
``~/.config/atoll/config.toml``. A file that holds a token and that every user may read is
refused (``chmod 600`` it).
"""

from __future__ import annotations

import functools
import os
import stat
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import click
import httpx
from click.core import ParameterSource

from atoll.cli.exitcodes import (
    NOT_AN_ANSWER,
    CommandError,
    Exit,
    Interrupted,
    for_http,
    for_os,
)
from atoll.client import AtollHTTPError, AuthError, Base, TransferError

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_PROFILE = "default"
DEFAULT_TIMEOUT_S = 30.0
PROFILE_KEYS = ("server", "token", "timeout")
SERVER_ENV = ("ATOLL_SERVER", "ATOLL_SERVER_URL")
TOKEN_ENV = ("ATOLL_TOKEN", "ATOLL_API_TOKEN")
INTERRUPTED = "interrupted"
INTERRUPTED_RESUMABLE = "interrupted; run the same command again to resume"


def config_path(environ: dict[str, str] | None = None) -> Path:
    """``$ATOLL_CONFIG``, else ``$XDG_CONFIG_HOME/atoll/config.toml``, else
    ``~/.config/atoll/config.toml``."""
    env = os.environ if environ is None else environ
    if env.get("ATOLL_CONFIG"):
        return Path(env["ATOLL_CONFIG"])
    xdg = env.get("XDG_CONFIG_HOME", "")
    root = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".config"
    return root / "atoll" / "config.toml"


def _config_error(path: Path, text: str) -> click.UsageError:
    return click.UsageError(f"config file {path}: {text}")


def read_profiles(path: Path) -> dict[str, dict[str, Any]]:
    """The profiles of a config file ({} if there is none); refuses a token every user can read."""
    try:
        raw = path.read_bytes()
        mode = path.stat().st_mode
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise _config_error(path, exc.strerror or str(exc)) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _config_error(path, f"not valid TOML: {exc}") from None
    profiles: dict[str, dict[str, Any]] = {}
    for name, table in data.items():
        if not isinstance(table, dict):
            raise _config_error(path, f"{name!r} is not a profile; write [{name}] and its "
                                      f"keys ({', '.join(PROFILE_KEYS)}) below it")
        unknown = sorted(set(table) - set(PROFILE_KEYS))
        if unknown:
            raise _config_error(path, f"profile {name!r}: unknown key {unknown[0]!r} (known: "
                                      f"{', '.join(PROFILE_KEYS)})")
        profiles[name] = table
    if mode & stat.S_IROTH and any("token" in p for p in profiles.values()):
        raise _config_error(path, f"holds an API token and every user may read it; run "
                                  f"`chmod 600 {path}`")
    return profiles


@dataclass
class Target:
    """What a command talks to: the server URL, the token, where each came from (for
    messages), and, once authenticated, the base."""

    server_url: str
    api_token: str
    timeout: float = DEFAULT_TIMEOUT_S
    server_from: str = "--server"
    token_from: str = "--token"
    base: Base | None = field(default=None, repr=False)

    def explain(self, exc: AtollHTTPError) -> str:
        text = str(exc)
        url, token = self.server_url.rstrip("/"), token_hint(self.api_token)
        authed = self.base is not None and self.base.is_authed
        if isinstance(exc, AuthError) and not authed:
            return (f"{text} The API token {token} was refused by {url}: check {self.token_from} "
                    f"(on the server, `atoll token list` shows the tokens and "
                    f"`atoll token create --base NAME` makes one).")
        if isinstance(exc, AuthError):
            name = self.base.dtable_name if self.base is not None else None
            return f"{text} (API token {token} of base \"{name}\" at {url}.)"
        if isinstance(exc, TransferError) and isinstance(exc.__cause__, httpx.ConnectError):
            return f"{text}. Is atoll running there, and is {self.server_from} right?"
        if NOT_AN_ANSWER in text:
            return (f"{text}. Is {url} an atoll or SeaTable server? {self.server_from} is the "
                    "server's root URL, e.g. http://127.0.0.1:8000.")
        return text


def token_hint(token: str) -> str:
    """An API token as messages show it: its last 4 characters only."""
    return f"…{token[-4:]}" if len(token) > 8 else "(too short to be one)"


def _origin(ctx: click.Context, param: str, flag: str, envs: tuple[str, ...]) -> str | None:
    source = ctx.get_parameter_source(param)
    if source == ParameterSource.COMMANDLINE:
        return flag
    if source == ParameterSource.ENVIRONMENT:
        return next((e for e in envs if os.environ.get(e)), envs[0])
    return None


def resolve(
    ctx: click.Context,
    server: str | None,
    token: str | None,
    profile: str | None,
    timeout: float | None,
) -> Target:
    """Flag > environment > profile, field by field."""
    path = config_path()
    profiles = read_profiles(path)
    name = profile or DEFAULT_PROFILE
    chosen = profiles.get(name, {})
    if profile and profile not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise click.UsageError(f"no profile {profile!r} in {path} (profiles: {known})")
    where = f"profile {name!r} in {path}"
    server_from = _origin(ctx, "server", "--server", SERVER_ENV) or f"server of {where}"
    token_from = _origin(ctx, "token", "--token", TOKEN_ENV) or f"token of {where}"
    server = server or _text(chosen, "server", path)
    token = token or _text(chosen, "token", path)
    if not server:
        raise click.UsageError(f"no server: give --server URL, set ATOLL_SERVER, or put "
                               f"server = \"URL\" under [{name}] in {path}")
    if not token:
        raise click.UsageError(f"no API token: give --token TOKEN, set ATOLL_TOKEN, or put "
                               f"token = \"...\" under [{name}] in {path}")
    if timeout is None:
        value = chosen.get("timeout", DEFAULT_TIMEOUT_S)
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise _config_error(path, f"profile {name!r}: timeout must be a number of seconds")
        timeout = float(value)
    if not server.startswith(("http://", "https://")):
        raise click.UsageError(f"server {server!r} (from {server_from}) must start with http:// "
                               "or https:// (e.g. http://127.0.0.1:8000)")
    return Target(server, token, timeout, server_from, token_from)


def _text(profile: dict[str, Any], key: str, path: Path) -> str | None:
    value = profile.get(key)
    if value is not None and not isinstance(value, str):
        raise _config_error(path, f"{key} must be a string")
    return value


def connection_options(fn: F) -> F:
    """``--server``, ``--token``, ``--profile``, ``--timeout``; the command receives
    ``target: Target`` instead."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        target = resolve(click.get_current_context(), kwargs.pop("server"),
                         kwargs.pop("token"), kwargs.pop("profile"), kwargs.pop("timeout"))
        return fn(*args, target=target, **kwargs)

    cmd = cast(F, wrapper)
    cmd = click.option(
        "--timeout", type=click.FloatRange(min=0), default=None,
        help=f"Seconds per network operation (connect, each read or write); 0 = none. "
             f"Default: the profile's timeout, else {DEFAULT_TIMEOUT_S:g}.",
    )(cmd)
    cmd = click.option(
        "--profile", envvar="ATOLL_PROFILE", show_envvar=True, metavar="NAME",
        help=f"Profile of the config file to take the server and token from (default: "
             f"[{DEFAULT_PROFILE}]). The file: $ATOLL_CONFIG, else "
             f"$XDG_CONFIG_HOME/atoll/config.toml, else ~/.config/atoll/config.toml.",
    )(cmd)
    cmd = click.option(
        "--token", "--api-token", "token", envvar=list(TOKEN_ENV), show_envvar=True,
        metavar="TOKEN", help="API token of the base (`atoll token create` makes one).",
    )(cmd)
    cmd = click.option(
        "--server", "--server-url", "server", envvar=list(SERVER_ENV), show_envvar=True,
        metavar="URL",
        help="Server URL, e.g. http://127.0.0.1:8000 or https://atoll.example.com.",
    )(cmd)
    return cmd


def open_base(target: Target) -> Base:
    """An authenticated ``Base`` (closed again if authentication fails)."""
    base = Base(target.api_token, target.server_url,
                timeout=target.timeout if target.timeout > 0 else None)
    target.base = base
    try:
        base.auth()
    except BaseException:
        base.close()  # the caller's ``with base`` is not reached
        raise
    return base


@contextmanager
def errors(target: Target, *, resumable: bool = False) -> Iterator[None]:
    """Turn SDK and OS errors into one ``Error: ...`` line and the exit status of
    ``exitcodes``; Ctrl-C into ``interrupted`` and 130."""
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted(INTERRUPTED_RESUMABLE if resumable else INTERRUPTED) from None
    except AtollHTTPError as exc:
        raise CommandError(target.explain(exc), for_http(exc)) from exc
    except OSError as exc:
        raise CommandError(str(exc) or type(exc).__name__, for_os(exc)) from exc
    except (ValueError, TypeError) as exc:
        raise CommandError(str(exc) or type(exc).__name__, Exit.FAILURE) from exc
