"""``atoll zip TABLE``: download the files of a table, a view or a column as one zip (over
``Base.download_zip``); prints {"path", "size", "files", "skipped"} as JSON."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import click

from atoll.cli.connection import Target, connection_options, errors, open_base
from atoll.cli.files import emit, progress_option
from atoll.cli.progress import transfers


def register(group: click.Group) -> None:
    group.add_command(zip_files)


def _counts(path: Path) -> tuple[int, int]:
    """(files zipped, cells skipped) from the archive's manifest (read from its end: no scan)."""
    with zipfile.ZipFile(path) as z:
        lines = json.loads(z.read("manifest.json"))["files"]
    skipped = sum(1 for line in lines if "skipped" in line)
    return len(lines) - skipped, skipped


@click.command("zip", short_help="Download the files of a table, view or column as one zip.")
@click.argument("table")
@click.option(
    "-o",
    "--output",
    "dest",
    default=".",
    show_default=True,
    help="Zip file to write, or a directory to write <TABLE>.zip into.",
)
@click.option("--view", "view_name", default=None, help="Only the rows of this view (its filters).")
@click.option("--column", default=None, help="Only this file or image column.")
@click.option("--row-id", "row_ids", multiple=True, help="Only this row (repeat for several).")
@click.option(
    "--template",
    default=None,
    help="Paths inside the zip; placeholders {row}, {row_name}, {column}, {name}. "
    "Default: {row}/{column}/{name}.",
)
@click.option("--deflate", is_flag=True, help="Compress (default: stored, fastest for media).")
@progress_option
@connection_options
def zip_files(
    table: str,
    dest: str,
    view_name: str | None,
    column: str | None,
    row_ids: tuple[str, ...],
    template: str | None,
    deflate: bool,
    progress: bool | None,
    target: Target,
) -> None:
    """Download every file that TABLE's file and image cells point at as one zip, with a
    manifest.json (row id, column, name, path, size, sha256; cells pointing outside the base
    are listed as skipped). Prints {"path", "size", "files", "skipped"} on stdout."""
    with errors(target):
        base = open_base(target)
        with base, transfers(progress) as shown, shown.file(f"{table}.zip") as bar:
            written = base.download_zip(
                table, dest, view_name=view_name, column=column, row_ids=list(row_ids) or None,
                template=template, compression="deflate" if deflate else None, progress=bar,
            )  # fmt: skip
    files, skipped = _counts(Path(written))
    emit({"path": os.path.abspath(written), "size": Path(written).stat().st_size, "files": files,
          "skipped": skipped})  # fmt: skip
