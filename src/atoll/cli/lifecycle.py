"""Asset lifecycle commands over the SDK: ``atoll refs`` (who uses a file) and ``atoll trash``
(list deleted files, restore one). JSON on stdout, one object per line; ``cli.exitcodes``."""

from __future__ import annotations

import click

from atoll.cli.connection import Target, connection_options, errors, open_base
from atoll.cli.files import asset_path, emit
from atoll.wire import links


def register(group: click.Group) -> None:
    group.add_command(refs)
    group.add_command(trash)


def _checked(path: str) -> str:
    if links.is_custom_asset_url(path):
        raise click.UsageError("custom-asset:// URLs cannot be resolved; name the file by its "
                               "custom-folder path instead (see 'atoll ls')")
    if not path.strip("/"):
        raise click.UsageError(f"{path!r} names no file")
    return path


@click.command(short_help="Which rows use a file: one JSON object per file.")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@connection_options
def refs(paths: tuple[str, ...], target: Target) -> None:
    """Which rows' file and image cells use each file of the base (the token's base): a
    custom-folder file (/Main/report.pdf), a path in the base's asset folder
    (files/2026-12/report.pdf) or a cell URL. Prints per file {"path", "trashed", "total",
    "refs": [{"table_name", "row_id", "column_name", ...}]}. A trashed file is answered too
    (a referenced file is never purged by `atoll gc`)."""
    for path in paths:
        _checked(path)
    with errors(target):
        base = open_base(target)
        with base:
            for path in paths:
                emit(base.get_asset_refs(asset_path(base, path)))


@click.group(short_help="The base's deleted files: list, restore.")
def trash() -> None:
    """Deleted files (`atoll rm`, DELETE app-asset) stay in the base's trash until `atoll gc`
    purges them after trash_retention_s (30 days), unless a row still uses them."""


@trash.command("list", short_help="List the trash: one JSON object per deleted file.")
@connection_options
def trash_list(target: Target) -> None:
    """Every entry of the base's trash, oldest deletion first: {"id", "path", "name", "size",
    "sha256", "deleted_at", "deleted_by", "purge_after", ...} per line."""
    with errors(target):
        base = open_base(target)
        with base:
            after: int | None = None
            while True:
                page = base.list_asset_trash(after=after)
                for entry in page["trash"]:
                    emit(entry)
                after = page.get("next_after")
                if after is None:
                    return


@trash.command("restore", short_help="Restore deleted files by trash id or old path.")
@click.argument("entries", nargs=-1, required=True, metavar="ID|PATH...")
@connection_options
def trash_restore(entries: tuple[str, ...], target: Target) -> None:
    """Put deleted files back: each ENTRY is a trash id (from `atoll trash list`) or the
    file's old path (/Main/report.pdf, files/2026-12/report.pdf: its newest entry). A file
    whose path was taken meanwhile comes back under a conflict name ("report (1).pdf").
    Prints {"path", "name", "renamed"} per file."""
    for entry in entries:
        _checked(entry)
    with errors(target):
        base = open_base(target)
        with base:
            for entry in entries:
                if entry.isdigit():
                    emit(base.restore_asset(int(entry)))
                else:
                    emit(base.restore_asset(path=asset_path(base, entry)))
