"""Operator commands ``export`` and ``import``: a base to and from a file (docs/export.md)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import anyio
import click

from atoll.cli.operator import open_context
from atoll.cli.options import backend_options, load_settings
from atoll.errors import AtollError

MiB = 1024 * 1024


@click.command("export")
@backend_options
@click.argument("base")
@click.option("-o", "--output", required=True, help="Archive to write (a tar); - for standard output.")
@click.option("--workspace", default=None, help="The base's workspace, when its name is in several.")
def export_cmd(
    data_dir: str, db_url: str | None, storage: str | None, base: str, output: str, workspace: str | None
) -> None:
    """Write base BASE (name or uuid) with all its files to a tar archive, streamed."""
    from atoll.services.archive_io.export import export_base

    ctx = open_context(load_settings(data_dir, db_url, storage))
    started = time.monotonic()
    try:
        if output == "-":
            summary = anyio.run(lambda: export_base(ctx, base, sys.stdout.buffer, workspace=workspace))
        else:
            with open(output, "wb") as out:
                summary = anyio.run(lambda: export_base(ctx, base, out, workspace=workspace))
    except BaseException as exc:
        if output != "-":
            Path(output).unlink(missing_ok=True)  # a partial archive is no archive
        if isinstance(exc, AtollError):
            raise click.ClickException(exc.message) from None
        raise
    elapsed = time.monotonic() - started
    click.echo(
        f"exported {summary.base}: {summary.rows} rows, {summary.links} links, {summary.assets} "
        f"files ({summary.asset_bytes} bytes); archive {summary.archive_bytes} bytes in "
        f"{elapsed:.1f} s ({summary.archive_bytes / MiB / max(elapsed, 1e-9):.1f} MiB/s)",
        err=True,
    )


@click.command("import")
@backend_options
@click.argument("archive")
@click.option("--as", "name", default=None, help="Name of the new base (default: the archive's).")
@click.option("--workspace", default=None, help="Workspace of the new base (made if missing).")
@click.option(
    "--public-url",
    envvar="ATOLL_PUBLIC_URL",
    default=None,
    help="URL this server is reached at: asset URLs in cells are rewritten to it.",
)
def import_cmd(
    data_dir: str,
    db_url: str | None,
    storage: str | None,
    archive: str,
    name: str | None,
    workspace: str | None,
    public_url: str | None,
) -> None:
    """Restore a base from ARCHIVE: an `atoll export` tar or a SeaTable .dtable file (told
    apart by content). Prints what was imported and lists what could not be carried over."""
    from atoll.services.archive_io.detect import import_archive

    ctx = open_context(load_settings(data_dir, db_url, storage, public_url=public_url))
    started = time.monotonic()
    try:
        report = anyio.run(
            lambda: import_archive(ctx, archive, name=name, workspace=workspace, stdin=sys.stdin.buffer)
        )
    except AtollError as exc:
        raise click.ClickException(f"{exc.message} (nothing was imported)") from None
    click.echo(
        f"imported base {report.base!r} (uuid {report.uuid}, workspace {report.workspace_id}): "
        f"{report.tables} tables, {report.rows} rows, {report.links} links, {report.assets} files "
        f"({report.asset_bytes} bytes) in {time.monotonic() - started:.1f} s"
    )
    if report.not_imported:
        click.echo(f"not imported ({len(report.not_imported)}):")
        for line in report.not_imported:
            click.echo(f"  - {line}")


def register(group: click.Group) -> None:
    group.add_command(export_cmd)
    group.add_command(import_cmd)
