"""``atoll thumbnail``: save the thumbnail of an image or PDF asset (over the SDK)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote

import click

from atoll.cli.connection import Target, connection_options, errors, open_base
from atoll.cli.files import _is_url, emit
from atoll.client._assets_extra import custom_asset_path


def register(group: click.Group) -> None:
    group.add_command(thumbnail)


@click.command(short_help="Save an image's or PDF's thumbnail; print the written path as JSON.")
@click.argument("source", metavar="URL_OR_PATH")
@click.option("-s", "--size", type=int, default=256, show_default=True,
              help="Edge length in pixels: one of the server's thumbnail_sizes.")
@click.option("-o", "--output", "dest", default=".", show_default=True,
              help="File to write, or a directory to write into as thumb<size>-<name>.")
@connection_options
def thumbnail(source: str, size: int, dest: str, target: Target) -> None:
    """Save the thumbnail of an image (JPEG, PNG, GIF, WebP, HEIC) or of a PDF's first page;
    print {"path", "size"} of the written file (a JPEG, or a PNG when the image has
    transparency) on stdout.

    URL_OR_PATH is a cell URL, a custom-folder path starting with / (e.g. /Main/sky.png), or a
    path inside the base's asset folder (e.g. images/2026-01/photo.jpg). A file that is not an
    image, is broken or too large gets an error and exit status 1, like any refused request.
    """
    with errors(target):
        base = open_base(target)
        custom = source.startswith("/") and not _is_url(source)
        source_path = custom_asset_path(unquote(source)) if custom else source
        with base:
            written = base.get_thumbnail(source_path, dest, size=size)
        emit({"path": os.path.abspath(written), "size": Path(written).stat().st_size})
