"""File commands over the SDK: ``atoll upload``, ``download``, ``ls``, ``mkdir`` and ``rm``
(``atoll sync`` is in ``cli.sync``).

Thin: option parsing, JSON on stdout, progress bars on stderr (``cli.progress``: only on a
terminal, unless ``--progress``), and one-line errors that say what to do next with the exit
statuses of ``cli.exitcodes``. Where they connect: ``cli.connection``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

import click

from atoll.cli.connection import Target, connection_options, errors, open_base
from atoll.cli.progress import Quiet, Transfers, transfers
from atoll.client import Base
from atoll.client._assets_extra import custom_asset_path, delete_asset
from atoll.wire import links
from atoll.wire.columns import FILE_CELL_TYPES, ColumnType

F = TypeVar("F", bound=Callable[..., Any])
#: ``--attach TABLE ROW COLUMN`` with this ROW creates a new row.
NEW_ROW = "new"


def progress_option(fn: F) -> F:
    return click.option(
        "--progress/--no-progress",
        default=None,
        help="Show bytes done/total, rate and ETA per file (and a total line for several "
        "files) on stderr. Default: only when stderr is a terminal.",
    )(fn)


def emit(data: Any, via: Transfers | Quiet | None = None) -> None:
    """One result: a JSON object on a line of stdout (``via`` the progress display while one is
    drawn: on a terminal that is stdout too, the line goes above the bars)."""
    (via or Quiet()).result(json.dumps(data, ensure_ascii=False))


def custom_folder_path(path: str, what: str = "custom folder") -> str:
    """A custom-folder path as given (``/Main``), refused without its leading ``/``."""
    if not path.startswith("/"):
        raise click.UsageError(f"{what} paths start with / (try /{path.lstrip('/')})")
    return path


# ---- commands ----------------------------------------------------------------------------


def register(group: click.Group) -> None:
    group.add_command(upload)
    group.add_command(download)
    group.add_command(ls)
    group.add_command(mkdir)
    group.add_command(rm)


@click.command(short_help="Upload files; print one cell-ready JSON object per file.")
@click.argument("files", nargs=-1, required=True, metavar="PATH...",
                type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--type",
    "file_type",
    type=click.Choice(FILE_CELL_TYPES),
    default=ColumnType.FILE.value,
    show_default=True,
    help="Upload into the base's files/ or images/ folder.",
)
@click.option("--image", is_flag=True, help="Same as --type image.")
@click.option("--replace", is_flag=True, help="Overwrite a file of the same name.")
@click.option(
    "--folder",
    "--custom-folder",
    "folder",
    metavar="CUSTOM",
    help="Upload into this existing custom folder (e.g. /Main) instead; never replaces. "
    "`atoll mkdir /Main` creates one.",
)
@click.option("--name", help="Name to store the file under (only with a single PATH).")
@click.option(
    "--attach",
    type=(str, str, str),
    default=None,
    metavar="TABLE ROW COLUMN",
    help="Also append the file to this file or image cell, in the same transaction: ROW is a "
    f"row id, or `{NEW_ROW}` for a new row (one per file).",
)
@click.option(
    "--resumable/--no-resumable",
    default=None,
    help="Upload in resumable chunks (tus), so that a rerun after Ctrl-C or a broken "
    "connection continues. Default: for files from 8 MiB on and with --attach, when the "
    "server offers it.",
)
@progress_option
@connection_options
def upload(
    files: tuple[str, ...],
    file_type: str,
    image: bool,
    replace: bool,
    folder: str | None,
    name: str | None,
    attach: tuple[str, str, str] | None,
    resumable: bool | None,
    progress: bool | None,
    target: Target,
) -> None:
    """Upload PATH(s); print one cell-ready JSON object per file on stdout, with the name the
    file was stored under (`a (1).txt` when `a.txt` existed and --replace was not given).

    A file cell takes the object as is; an image cell takes its "url". Interrupted (Ctrl-C, a
    lost connection), a resumable upload continues when the same command runs again.
    """
    if name and len(files) > 1:
        raise click.UsageError("--name works with a single PATH only")
    if folder is not None and replace:
        raise click.UsageError("--replace is not available for custom folders")
    if image:
        file_type = ColumnType.IMAGE.value
    table = row_id = column = None
    if attach is not None:
        table, row, column = attach
        row_id = None if row == NEW_ROW else row
    sizes = [os.path.getsize(path) for path in files]
    with errors(target, resumable=True):
        base = open_base(target)
        with base, transfers(progress, files=len(files), total_bytes=sum(sizes)) as shown:
            for path, size in zip(files, sizes, strict=True):
                with shown.file(name or os.path.basename(path), size) as bar:
                    if folder is not None:
                        cell = base.upload_local_file_to_custom_folder(
                            path, folder, name, progress=bar, resumable=resumable,
                            table=table, row_id=row_id, column=column,
                        )
                    else:
                        cell = base.upload_local_file(
                            path, name, file_type=file_type, replace=replace, progress=bar,
                            resumable=resumable, table=table, row_id=row_id, column=column,
                        )
                emit(cell, shown)


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
@progress_option
@connection_options
def download(source: str, dest: str, progress: bool | None, target: Target) -> None:
    """Download an asset; print {"path", "size"} of the written file on stdout.

    URL_OR_PATH is a cell URL (http(s)://.../workspace/<id>/asset/<uuid>/files/..., or a
    relative /workspace/... URL), a custom-folder path starting with / (as "atoll ls" shows
    them, e.g. /Main/sky.png), or a path inside the base's asset folder without a leading /
    (e.g. files/2025-08/report.pdf).
    """
    if links.is_custom_asset_url(source):
        raise click.UsageError(
            "custom-asset:// URLs cannot be resolved; download the file by its custom-folder "
            "path instead (see 'atoll ls')"
        )
    with errors(target):
        base = open_base(target)
        label = unquote(os.path.basename(source.rstrip("/"))) or source
        with base, transfers(progress) as shown, shown.file(label) as bar:
            if _is_url(source):
                written = base.download_file(source, dest, progress=bar)
            elif source.startswith("/"):
                written = base.download_custom_file(source, dest, progress=bar)
            else:
                written = base.download_asset(source, dest, progress=bar)
        emit({"path": os.path.abspath(written), "size": Path(written).stat().st_size})


def _is_url(source: str) -> bool:
    return "://" in source or source.startswith("/workspace/")


@click.command(short_help="List a custom folder (default /) as JSON.")
@click.argument("path", default="/", metavar="[PATH]")
@connection_options
def ls(path: str, target: Target) -> None:
    """List a custom folder (default /): print {"dir": [...], "file": [...]} on stdout.

    Custom folder paths start with / (/Main, /Main/photos); `atoll mkdir` creates them.
    """
    with errors(target):
        base = open_base(target)
        with base:
            emit(base.list_custom_assets(path))


@click.command(short_help="Create custom folders (and their parents).")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@connection_options
def mkdir(paths: tuple[str, ...], target: Target) -> None:
    """Create custom folders, e.g. /Main or /Main/photos, with their parents; an existing folder
    is fine. Prints {"path": ...} per folder on stdout.

    Custom folders are where `atoll upload --folder` and the official client's
    upload_local_file_to_custom_folder put files; SeaTable makes them in its web UI, atoll with
    this command (or POST /api/v2.1/dtable/custom/app-asset-dir/?path=/Main with the API token).
    """
    for path in paths:
        if not path.startswith("/") or not path.strip("/"):
            raise click.UsageError(
                f"custom folder paths start with / and name a folder, e.g. /Main (got {path!r})"
            )
    with errors(target):
        base = open_base(target)
        with base:
            for path in paths:
                base.create_custom_folder(path)
                emit({"path": "/" + path.strip("/")})


def asset_path(base: Base, source: str) -> str:
    """What ``rm`` deletes, as a path in the base's asset folder: a cell URL's path, a
    custom-folder file (``/Main/x.pdf`` -> ``custom/Main/x.pdf``), or the path as given."""
    if _is_url(source):
        return links.asset_path_from_url(source, dtable_uuid=str(base.dtable_uuid))
    if source.startswith("/"):
        return custom_asset_path(unquote(source))
    return source


@click.command(short_help="Delete files of the base; print {\"deleted\": PATH} per file.")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@connection_options
def rm(paths: tuple[str, ...], target: Target) -> None:
    """Delete files of the base: a custom-folder file (/Main/report.pdf, as `atoll ls` shows
    it), a path in the base's asset folder (files/2026-12/report.pdf) or a cell URL. Prints
    {"deleted": PATH} per file on stdout, in order; stops at the first failure.

    Deleted files go to the base's trash (`atoll trash list`, `atoll trash restore`) until
    `atoll gc` purges them. Cells that point at a deleted file keep their URL (which answers
    404 until the file is restored); `atoll refs` lists them.
    """
    for path in paths:
        if links.is_custom_asset_url(path):
            raise click.UsageError("custom-asset:// URLs cannot be resolved; name the file by "
                                   "its custom-folder path instead (see 'atoll ls')")
        if not path.strip("/"):
            raise click.UsageError(f"{path!r} names no file")
    with errors(target):
        base = open_base(target)
        with base:
            for path in paths:
                delete_asset(base, asset_path(base, path))
                emit({"deleted": path})
