"""File commands over the SDK: ``atoll upload``, ``atoll download``, ``atoll ls``.

Thin: option parsing, a progress bar on stderr, JSON on stdout, one-line errors. Every command
takes ``--server-url`` (``ATOLL_SERVER_URL``) and ``--api-token`` (``ATOLL_API_TOKEN``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

import click

from atoll.client import AtollHTTPError, Base
from atoll.client._requests_files import resolve_save_path
from atoll.wire import urls

F = TypeVar("F", bound=Callable[..., Any])


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
        help="API token of the base.",
    )(fn)
    fn = click.option(
        "--server-url",
        envvar="ATOLL_SERVER_URL",
        required=True,
        show_envvar=True,
        help="Server URL, e.g. https://atoll.example.com.",
    )(fn)
    return fn


def _emit(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False))


@contextmanager
def _errors() -> Iterator[None]:
    """Turn SDK and OS errors into one ``Error: ...`` line and exit status 1."""
    try:
        yield
    except AtollHTTPError as exc:
        raise click.ClickException(str(exc)) from exc
    except (OSError, ValueError, TypeError) as exc:
        raise click.ClickException(str(exc) or type(exc).__name__) from exc


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int | None], None]]:
    """A ``progress(done, total)`` callback drawing a click progress bar on stderr (only when
    the total size is known)."""
    state: dict[str, Any] = {"bar": None, "done": 0}

    def update(done: int, total: int | None) -> None:
        bar = state["bar"]
        if bar is None or done < state["done"]:  # first call, or a retry restarted the transfer
            if bar is not None:
                bar.__exit__(None, None, None)
                state["bar"] = None
            if not total:
                return
            bar = click.progressbar(length=total, label=label, file=sys.stderr)
            bar.__enter__()
            state["bar"], state["done"] = bar, 0
        bar.update(done - state["done"])
        state["done"] = done

    try:
        yield update
    finally:
        if state["bar"] is not None:
            state["bar"].__exit__(None, None, None)


def _base(server_url: str, api_token: str, timeout: float) -> Base:
    base = Base(api_token, server_url, timeout=timeout if timeout > 0 else None)
    base.auth()
    return base


def register(group: click.Group) -> None:
    group.add_command(upload)
    group.add_command(download)
    group.add_command(ls)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--type",
    "file_type",
    type=click.Choice(["file", "image"]),
    default="file",
    show_default=True,
    help="Upload into the base's files/ or images/ folder.",
)
@click.option("--replace", is_flag=True, help="Overwrite a file of the same name.")
@click.option(
    "--custom-folder",
    metavar="PATH",
    help="Upload into this existing custom folder (e.g. /Main/) instead; never replaces.",
)
@click.option("--name", help="Name to store the file under (only with a single FILE).")
@_connection_options
def upload(
    files: tuple[str, ...],
    file_type: str,
    replace: bool,
    custom_folder: str | None,
    name: str | None,
    server_url: str,
    api_token: str,
    timeout: float,
) -> None:
    """Upload FILE(s); print one cell-ready JSON object per file.

    A file cell takes the object as is; an image cell takes its "url".
    """
    if name and len(files) > 1:
        raise click.UsageError("--name works with a single FILE only")
    if custom_folder and replace:
        raise click.UsageError("--replace is not available for custom folders")
    with _errors():
        base = _base(server_url, api_token, timeout)
        with base:
            for path in files:
                label = name or os.path.basename(path)
                with _progress(label) as progress:
                    if custom_folder:
                        cell = base.upload_local_file_to_custom_folder(
                            path, custom_folder, name, progress=progress
                        )
                    else:
                        cell = base.upload_local_file(
                            path, name, file_type=file_type, replace=replace, progress=progress
                        )
                _emit(cell)


@click.command()
@click.argument("source", metavar="URL_OR_PATH")
@click.option(
    "-o",
    "--output",
    "dest",
    default=".",
    show_default=True,
    help="File to write, or a directory to write into under the file's own name.",
)
@_connection_options
def download(source: str, dest: str, server_url: str, api_token: str, timeout: float) -> None:
    """Download an asset; print {"path", "size"} of the written file.

    URL_OR_PATH is a cell URL (http(s)://.../workspace/<id>/asset/<uuid>/files/..., or a
    relative /workspace/... URL), a custom-folder path starting with / (as "atoll ls" shows
    them, e.g. /Main/sky.png), or a path inside the base's asset folder without a leading /
    (e.g. files/2025-08/report.pdf).
    """
    if urls.is_custom_asset_url(source):
        raise click.ClickException(
            "custom-asset:// URLs cannot be resolved; download the file by its custom-folder "
            "path instead (see 'atoll ls')"
        )
    with _errors():
        base = _base(server_url, api_token, timeout)
        label = unquote(os.path.basename(source.rstrip("/"))) or source
        with base, _progress(label) as progress:
            if "://" in source or source.startswith("/workspace/"):
                asset_path = urls.asset_path_from_url(source, str(base.dtable_uuid))
                target = resolve_save_path(dest, urls.asset_name(asset_path))
                base.download_file(source, dest, progress=progress)
            elif source.startswith("/"):
                target = resolve_save_path(dest, urls.asset_name(source))
                base.download_custom_file(source, dest, progress=progress)
            else:
                target = base.download_asset(source, dest, progress=progress)
        _emit({"path": os.path.abspath(target), "size": Path(target).stat().st_size})


@click.command()
@click.argument("path", default="/", metavar="[PATH]")
@_connection_options
def ls(path: str, server_url: str, api_token: str, timeout: float) -> None:
    """List a custom folder (default /): print {"dir": [...], "file": [...]}."""
    with _errors():
        base = _base(server_url, api_token, timeout)
        with base:
            _emit(base.list_custom_assets(path))
