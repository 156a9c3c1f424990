"""Moving data: ``atoll db status|upgrade|migrate`` and ``atoll storage migrate``.

Both migrate commands copy, never switch: they end by printing the setting to change. Progress
goes to stderr, the outcome to stdout; the exit status is 0 only when everything arrived intact.
"""

from __future__ import annotations

import time

import anyio
import click
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from atoll.cli.options import backend_options, load_settings
from atoll.config import Settings
from atoll.db import copy
from atoll.db.engine import make_engine
from atoll.db.migrations import (
    ASSET_REFS_VERSION,
    COMPUTED_CELLS_VERSION,
    LATEST,
    ROW_KEYS_VERSION,
    current_version,
    migrate,
)
from atoll.errors import StorageError
from atoll.services import rowkeys
from atoll.services.asset_refs import backfill as asset_refs_backfill
from atoll.services.formula.backfill import backfill as formula_backfill
from atoll.services.moving import MoveReport, move_blobs
from atoll.storage import open_blob_store

#: Seconds between progress lines on stderr.
PROGRESS_EVERY_S = 1.0
MiB = 1024 * 1024


def _safe(url: str) -> str:
    """A database URL for messages: the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def _version(engine: Engine) -> int:
    with engine.connect() as conn:
        return current_version(conn)


def _mib(n: int) -> str:
    return f"{n / MiB:.1f} MiB"


class _Throttle:
    def __init__(self) -> None:
        self.last = 0.0

    def due(self, final: bool = False) -> bool:
        now = time.monotonic()
        if final or now - self.last >= PROGRESS_EVERY_S:
            self.last = now
            return True
        return False


# ---- db ------------------------------------------------------------------------------------


@click.group()
def db() -> None:
    """Metadata database: status, upgrade, migrate to another database."""


@db.command("status")
@backend_options
def db_status(data_dir: str, db_url: str | None, storage: str | None) -> None:
    """Show the database's schema version and this atoll's."""
    settings = load_settings(data_dir, db_url, storage)
    found = _version(make_engine(settings.db_url))
    click.echo(f"database {_safe(settings.db_url)}")
    click.echo(f"schema version {found}, this atoll's {LATEST}")
    if found < LATEST:
        click.echo("behind: run `atoll db upgrade` (or start the server, which upgrades)")
    elif found > LATEST:
        click.echo("ahead: this database was written by a newer atoll; upgrade atoll")
    else:
        click.echo("up to date")


@db.command("upgrade")
@backend_options
def db_upgrade(data_dir: str, db_url: str | None, storage: str | None) -> None:
    """Apply the schema migrations this atoll has and the database lacks."""
    settings = load_settings(data_dir, db_url, storage)
    engine = make_engine(settings.db_url)
    before = _version(engine)
    if before > LATEST:
        raise click.ClickException(f"the database is at schema version {before}, newer than this "
                                   f"atoll ({LATEST}); upgrade atoll instead")
    migrate(engine)
    after = _version(engine)
    if 0 < before < ROW_KEYS_VERSION <= after:
        tables = rowkeys.backfill(engine)
        click.echo(f"computed the sort keys of {tables} tables")
    if 0 < before < COMPUTED_CELLS_VERSION <= after:
        tables = formula_backfill(engine)
        click.echo(f"computed the formula and auto-number cells of {tables} tables")
    if 0 < before < ASSET_REFS_VERSION <= after:
        tables = asset_refs_backfill(engine)
        click.echo(f"computed the asset references of {tables} tables")
    if after == before:
        click.echo(f"already at schema version {after}")
    else:
        click.echo(f"upgraded schema version {before} -> {after}")


def _print_copied(done: list[copy.TableCopied]) -> None:
    for one in done:
        click.echo(f"  {one.table}: {one.source_rows} rows ({one.inserted} copied, "
                   f"{one.already} already there)")


def _print_checks(checks: list[copy.TableCheck]) -> bool:
    ok = True
    for check in checks:
        if check.ok:
            click.echo(f"  {check.table}: {check.source_rows} rows, digest {check.source_digest[:16]} ok")
        else:
            ok = False
            click.echo(f"  {check.table}: MISMATCH source {check.source_rows} rows "
                       f"{check.source_digest[:16]}, target {check.target_rows} rows "
                       f"{check.target_digest[:16]}")
    return ok


@db.command("migrate")
@backend_options
@click.option("--to", "to_url", required=True,
              help="Target database URL (sqlite:///path or postgresql://user@host/db).")
@click.option("--verify", is_flag=True, help="Afterwards compare row counts and digests of every table.")
def db_migrate(data_dir: str, db_url: str | None, storage: str | None, to_url: str, verify: bool) -> None:
    """Copy the metadata to another database. Resumable; switches nothing."""
    settings = load_settings(data_dir, db_url, storage)
    try:
        if make_url(to_url) == make_url(settings.db_url):
            raise click.UsageError("--to is the current database")
        source, target = make_engine(settings.db_url), make_engine(to_url)
    except (ValueError, ArgumentError) as exc:
        raise click.UsageError(f"--to: {exc}") from None
    click.echo(f"copying {_safe(settings.db_url)} -> {_safe(to_url)}", err=True)
    throttle = _Throttle()

    def progress(table: str, done: int, total: int) -> None:
        if throttle.due(final=done == total):
            click.echo(f"  {table}: {done}/{total} rows", err=True)

    try:
        before, after = copy.prepare(source, target)
        if before != after:
            click.echo(f"target schema version {before} -> {after}", err=True)
        copy.check_not_foreign(source, target)
        done = copy.copy_all(source, target, progress=progress)
        copy.reset_sequences(target)
    except copy.CopyRefused as exc:
        raise click.ClickException(exc.message) from None
    except OperationalError as exc:
        raise click.ClickException(f"a database cannot be reached: {exc.orig}") from None
    inserted, already = sum(d.inserted for d in done), sum(d.already for d in done)
    click.echo(f"copied {inserted} rows, {already} were already there")
    _print_copied(done)
    if verify:
        click.echo("verifying (row counts and digests):")
        if not _print_checks(copy.compare(source, target)):
            raise click.ClickException("the target differs from the source; nothing was switched")
    click.echo("\nThe data is copied; nothing was switched. Stop atoll, re-run this command if "
               "anything was written meanwhile, then set")
    click.echo(f"  ATOLL_DB_URL={to_url}   (or --db-url {to_url})")


# ---- storage -------------------------------------------------------------------------------


@click.group()
def storage() -> None:
    """Blob store: migrate the blobs to another store."""


def _progress_line(report: MoveReport) -> str:
    return (f"  blobs {report.done}/{report.blobs} (copied {report.copied}, already there "
            f"{report.already}, failed {len(report.failures)}), {_mib(report.bytes_copied)} copied "
            f"of {_mib(report.bytes_total)}")


async def _move(settings: Settings, engine: Engine, to_url: str, verify: bool) -> MoveReport:
    source = open_blob_store(settings.storage, settings)
    try:
        target = open_blob_store(to_url, settings)
    except ValueError as exc:
        await source.aclose()
        raise click.UsageError(f"--to: {exc}") from None
    except (OSError, StorageError) as exc:
        await source.aclose()
        raise click.ClickException(f"the target store {to_url} cannot be used: {exc}") from None
    throttle = _Throttle()

    def progress(report: MoveReport) -> None:
        if throttle.due(final=report.done == report.blobs):
            click.echo(_progress_line(report), err=True)

    try:
        try:
            await target.check()
        except StorageError as exc:
            raise click.ClickException(f"the target store {target.url} cannot be used: {exc}") from None
        return await move_blobs(engine, source, target, verify=verify, progress=progress)
    finally:
        await source.aclose()
        await target.aclose()


def _print_report(report: MoveReport, source_url: str) -> None:
    click.echo(f"{report.blobs} blobs referenced ({_mib(report.bytes_total)}): {report.copied} copied "
               f"({_mib(report.bytes_copied)}), {report.already} already there"
               + (f", {report.verified} read back and verified" if report.verified else ""))
    if report.orphans:
        listed = ", ".join(report.orphan_keys)
        more = report.orphans - len(report.orphan_keys)
        click.echo(f"{report.orphans} blobs at the source ({_mib(report.orphan_bytes)}) are used by no "
                   f"file and were not copied (`atoll gc` removes them): {listed}"
                   + (f" and {more} more" if more > 0 else ""))
    if report.failures:
        click.echo(f"{len(report.failures)} blobs FAILED (source {source_url}):")
        for failure in report.failures:
            click.echo(f"  {failure.describe()}")


@storage.command("migrate")
@backend_options
@click.option("--to", "to_url", required=True, help="Target blob store URL (file:///path, s3://bucket/prefix).")
@click.option("--verify", is_flag=True,
              help="Read every blob back from the target and check its SHA-256 (also those already there).")
def storage_migrate(
    data_dir: str, db_url: str | None, storage: str | None, to_url: str, verify: bool
) -> None:
    """Copy every blob the metadata references to another store. Resumable; switches nothing."""
    settings = load_settings(data_dir, db_url, storage)
    if to_url.rstrip("/") == settings.storage.rstrip("/"):
        raise click.UsageError("--to is the current blob store")
    engine = make_engine(settings.db_url)
    found = _version(engine)
    if found != LATEST:
        raise click.ClickException(f"the database is at schema version {found}, this atoll expects "
                                   f"{LATEST}: run `atoll db upgrade` first")
    click.echo(f"copying blobs {settings.storage} -> {to_url}" + (" (verifying)" if verify else ""), err=True)
    report = anyio.run(_move, settings, engine, to_url, verify)
    _print_report(report, settings.storage)
    if not report.ok:
        raise click.ClickException(f"{len(report.failures)} blobs are not at the target intact; nothing "
                                   "was switched. Fix the causes above and run this command again")
    if report.already and not verify:
        click.echo(f"({report.already} blobs already there were checked by size only; --verify reads "
                   "them back and checks their SHA-256)")
    click.echo("\nEvery referenced blob is at the target and verified; nothing was switched. Stop atoll, "
               "re-run this command if files were uploaded meanwhile, then set")
    click.echo(f"  ATOLL_STORAGE={to_url}   (or --storage {to_url})")


def register(group: click.Group) -> None:
    group.add_command(db)
    group.add_command(storage)
