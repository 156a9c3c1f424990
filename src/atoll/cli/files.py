"""File commands over the SDK: ``atoll upload``, ``atoll download``, ``atoll ls``, ``atoll mkdir``.

Thin: option parsing, JSON on stdout, a progress line on stderr (only on a terminal, unless
``--progress``), and one-line errors that say what to do next. Every command takes
``--server-url`` (``ATOLL_SERVER_URL``) and ``--api-token`` (``ATOLL_API_TOKEN``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import unquote

import click
import httpx

from atoll.client import AtollHTTPError, AuthError, Base, TransferError
from atoll.wire import links
from atoll.wire.columns import FILE_CELL_TYPES, ColumnType

F = TypeVar("F", bound=Callable[..., Any])

#: Seconds between redraws of the progress line (on a terminal), and between progress lines
#: when ``--progress`` is asked for on something that is not one.
REDRAW_S = 0.1
LINE_EVERY_S = 1.0
NOT_AN_ANSWER = "not an atoll or SeaTable message"


def _connection_options(fn: F) -> F:
    fn = click.option(
        "--timeout",
        type=float,
        default=30.0,
        show_default=True,
        help="Seconds per network operation (connect, each read or write); 0 = none.",
    )(fn)
    fn = click.option(
        "--api-token",
        envvar="ATOLL_API_TOKEN",
        required=True,
        show_envvar=True,
        help="API token of the base (scripts/serve prints one; `atoll token create` makes one).",
    )(fn)
    fn = click.option(
        "--server-url",
        envvar="ATOLL_SERVER_URL",
        required=True,
        show_envvar=True,
        help="Server URL, e.g. http://127.0.0.1:8000 or https://atoll.example.com.",
    )(fn)
    return fn


def _progress_option(fn: F) -> F:
    return click.option(
        "--progress/--no-progress",
        default=None,
        help="Show bytes done/total, rate and ETA on stderr. Default: only when stderr is a "
        "terminal.",
    )(fn)


def _emit(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False))


# ---- errors ------------------------------------------------------------------------------


def token_hint(token: str) -> str:
    """An API token as messages show it: its last 4 characters only."""
    return f"…{token[-4:]}" if len(token) > 8 else "(too short to be one)"


@dataclass
class _Target:
    """What a command talks to, for messages: the server URL, the token and (after auth) the
    base's name."""

    server_url: str
    api_token: str
    base: Base | None = None

    def explain(self, exc: AtollHTTPError) -> str:
        text = str(exc)
        url, token = self.server_url.rstrip("/"), token_hint(self.api_token)
        authed = self.base is not None and self.base.is_authed
        if isinstance(exc, AuthError) and not authed:
            return (f"{text} The API token {token} was refused by {url}: check --api-token or "
                    f"ATOLL_API_TOKEN (on the server, `atoll token list` shows the tokens and "
                    f"`atoll token create --base NAME` makes one).")
        if isinstance(exc, AuthError):
            name = self.base.dtable_name if self.base is not None else None
            return f"{text} (API token {token} of base \"{name}\" at {url}.)"
        if isinstance(exc, TransferError) and isinstance(exc.__cause__, httpx.ConnectError):
            return f"{text}. Is atoll running there, and is --server-url / ATOLL_SERVER_URL right?"
        if NOT_AN_ANSWER in text:
            return (f"{text}. Is {url} an atoll or SeaTable server? --server-url is the server's "
                    "root URL, e.g. http://127.0.0.1:8000.")
        return text


@contextmanager
def _errors(target: _Target) -> Iterator[None]:
    """Turn SDK and OS errors into one ``Error: ...`` line and exit status 1."""
    try:
        yield
    except AtollHTTPError as exc:
        raise click.ClickException(target.explain(exc)) from exc
    except (OSError, ValueError, TypeError) as exc:
        raise click.ClickException(str(exc) or type(exc).__name__) from exc


def _base(target: _Target, timeout: float) -> Base:
    if not target.server_url.startswith(("http://", "https://")):
        raise click.UsageError(
            f"--server-url {target.server_url!r} must start with http:// or https:// "
            "(e.g. http://127.0.0.1:8000)"
        )
    base = Base(target.api_token, target.server_url, timeout=timeout if timeout > 0 else None)
    target.base = base
    try:
        base.auth()
    except BaseException:
        base.close()  # the caller's ``with base`` is not reached
        raise
    return base


# ---- progress ----------------------------------------------------------------------------


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _clock(seconds: float) -> str:
    s = int(seconds + 0.5)
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """``progress(done, total)`` for the SDK: draws ``name  3.0 MiB / 10.0 MiB  30%  1.5 MiB/s
    ETA 0:05`` on ``stream``, redrawn in place on a terminal, else one line a second."""

    def __init__(self, label: str, stream: IO[str], *, tty: bool,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.label, self.stream, self.tty, self.clock = label, stream, tty, clock
        self.start = clock()
        self.last_draw = -1e9
        self.last_done = -1
        self.width = 0

    def line(self, done: int, total: int | None, now: float) -> str:
        elapsed = max(now - self.start, 1e-9)
        rate = done / elapsed
        parts = [self.label, human_bytes(done) + (f" / {human_bytes(total)}" if total else "")]
        if total:
            parts.append(f"{100 * done // total}%")
        parts.append(f"{human_bytes(rate)}/s")
        if total and done < total and rate > 0:
            parts.append(f"ETA {_clock((total - done) / rate)}")
        elif total and done >= total:
            parts.append(f"in {_clock(elapsed)}")
        return "  ".join(parts)

    def __call__(self, done: int, total: int | None) -> None:
        now = self.clock()
        if done < self.last_done:  # a retry restarted the transfer
            self.start = now
        self.last_done = done
        final = total is not None and done >= total
        if not final and now - self.last_draw < (REDRAW_S if self.tty else LINE_EVERY_S):
            return
        self.last_draw = now
        text = self.line(done, total, now)
        if self.tty:
            pad = max(0, self.width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self.width = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.width:
            self.stream.write("\n")
            self.stream.flush()
            self.width = 0


@contextmanager
def _progress(label: str, wanted: bool | None) -> Iterator[Callable[[int, int | None], None] | None]:
    """A progress callback on stderr: when ``wanted`` (``--progress``), or by default when
    stderr is a terminal; else ``None`` and nothing is written."""
    stream = sys.stderr
    tty = stream.isatty()
    if not (wanted if wanted is not None else tty):
        yield None
        return
    bar = Progress(label, stream, tty=tty)
    try:
        yield bar
    finally:
        bar.close()


# ---- commands ----------------------------------------------------------------------------


def register(group: click.Group) -> None:
    group.add_command(upload)
    group.add_command(download)
    group.add_command(ls)
    group.add_command(mkdir)


@click.command(short_help="Upload files; print one cell-ready JSON object per file.")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--type",
    "file_type",
    type=click.Choice(FILE_CELL_TYPES),
    default=ColumnType.FILE.value,
    show_default=True,
    help="Upload into the base's files/ or images/ folder.",
)
@click.option("--replace", is_flag=True, help="Overwrite a file of the same name.")
@click.option(
    "--custom-folder",
    metavar="PATH",
    help="Upload into this existing custom folder (e.g. /Main/) instead; never replaces. "
    "`atoll mkdir /Main` creates one.",
)
@click.option("--name", help="Name to store the file under (only with a single FILE).")
@_progress_option
@_connection_options
def upload(
    files: tuple[str, ...],
    file_type: str,
    replace: bool,
    custom_folder: str | None,
    name: str | None,
    progress: bool | None,
    server_url: str,
    api_token: str,
    timeout: float,
) -> None:
    """Upload FILE(s); print one cell-ready JSON object per file on stdout, with the name the
    file was stored under (`a (1).txt` when `a.txt` existed and --replace was not given).

    A file cell takes the object as is; an image cell takes its "url".
    """
    if name and len(files) > 1:
        raise click.UsageError("--name works with a single FILE only")
    if custom_folder and replace:
        raise click.UsageError("--replace is not available for custom folders")
    target = _Target(server_url, api_token)
    with _errors(target):
        base = _base(target, timeout)
        with base:
            for path in files:
                label = name or os.path.basename(path)
                with _progress(label, progress) as bar:
                    if custom_folder:
                        cell = base.upload_local_file_to_custom_folder(
                            path, custom_folder, name, progress=bar
                        )
                    else:
                        cell = base.upload_local_file(
                            path, name, file_type=file_type, replace=replace, progress=bar
                        )
                _emit(cell)


@click.command(short_help="Download a file; print the written path and size as JSON.")
@click.argument("source", metavar="URL_OR_PATH")
@click.option(
    "-o",
    "--output",
    "dest",
    default=".",
    show_default=True,
    help="File to write, or a directory to write into under the file's own name.",
)
@_progress_option
@_connection_options
def download(
    source: str, dest: str, progress: bool | None, server_url: str, api_token: str, timeout: float
) -> None:
    """Download an asset; print {"path", "size"} of the written file on stdout.

    URL_OR_PATH is a cell URL (http(s)://.../workspace/<id>/asset/<uuid>/files/..., or a
    relative /workspace/... URL), a custom-folder path starting with / (as "atoll ls" shows
    them, e.g. /Main/sky.png), or a path inside the base's asset folder without a leading /
    (e.g. files/2025-08/report.pdf).
    """
    if links.is_custom_asset_url(source):
        raise click.ClickException(
            "custom-asset:// URLs cannot be resolved; download the file by its custom-folder "
            "path instead (see 'atoll ls')"
        )
    target = _Target(server_url, api_token)
    with _errors(target):
        base = _base(target, timeout)
        label = unquote(os.path.basename(source.rstrip("/"))) or source
        with base, _progress(label, progress) as bar:
            if "://" in source or source.startswith("/workspace/"):
                written = base.download_file(source, dest, progress=bar)
            elif source.startswith("/"):
                written = base.download_custom_file(source, dest, progress=bar)
            else:
                written = base.download_asset(source, dest, progress=bar)
        _emit({"path": os.path.abspath(written), "size": Path(written).stat().st_size})


@click.command(short_help="List a custom folder (default /) as JSON.")
@click.argument("path", default="/", metavar="[PATH]")
@_connection_options
def ls(path: str, server_url: str, api_token: str, timeout: float) -> None:
    """List a custom folder (default /): print {"dir": [...], "file": [...]} on stdout.

    Custom folder paths start with / (/Main, /Main/photos); `atoll mkdir` creates them.
    """
    target = _Target(server_url, api_token)
    with _errors(target):
        base = _base(target, timeout)
        with base:
            _emit(base.list_custom_assets(path))


@click.command(short_help="Create custom folders (and their parents).")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@_connection_options
def mkdir(paths: tuple[str, ...], server_url: str, api_token: str, timeout: float) -> None:
    """Create custom folders, e.g. /Main or /Main/photos, with their parents; an existing folder
    is fine. Prints {"path": ...} per folder on stdout.

    Custom folders are where `atoll upload --custom-folder` and the official client's
    upload_local_file_to_custom_folder put files; SeaTable makes them in its web UI, atoll with
    this command (or POST /api/v2.1/dtable/custom/app-asset-dir/?path=/Main with the API token).
    """
    for path in paths:
        if not path.startswith("/") or not path.strip("/"):
            raise click.UsageError(
                f"custom folder paths start with / and name a folder, e.g. /Main (got {path!r})"
            )
    target = _Target(server_url, api_token)
    with _errors(target):
        base = _base(target, timeout)
        with base:
            for path in paths:
                base.create_custom_folder(path)
                _emit({"path": "/" + path.strip("/")})
