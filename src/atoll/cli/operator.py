"""Operator commands: ``serve`` and ``token create|list|revoke``."""

from __future__ import annotations

import logging
import os
import resource

import anyio
import click

from atoll.cli.options import backend_options, load_settings
from atoll.config import (
    DEFAULT_HOST,
    DEFAULT_LOG_FORMAT,
    DEFAULT_LOG_LEVEL,
    DEFAULT_PORT,
    LOG_FORMATS,
    LOG_LEVELS,
    Settings,
)
from atoll.errors import AtollError
from atoll.services import access, maintenance
from atoll.services import fsck as fsck_service
from atoll.services.context import Context

log = logging.getLogger("atoll")

SERVERS = ("uvicorn", "granian")
ASGI_FACTORY = "atoll.server.asgi:app_from_env"
#: Descriptors a process needs besides client connections (database, blobs, logs).
FD_HEADROOM = 64
#: granian's read buffer, which also caps a request head (431 beyond): its default. A buffer as
#: small as max_header_bytes (64 KiB) cost 40 % more CPU per uploaded GiB (measured, bench);
#: the ASGI layer refuses heads over max_header_bytes that fit in it (431).
GRANIAN_MIN_BUFFER = 8192 + 4096 * 100
GRANIAN_MAX_HEADER_TIMEOUT_MS = 60_000
#: granian's logging config (main process and worker): no handlers of its own, so its records
#: reach the root handler of configure_logging, in atoll's format.
GRANIAN_LOGGING: dict[str, object] = {
    "version": 1,
    "disable_existing_loggers": False,
    "loggers": {
        "_granian": {"handlers": [], "propagate": True},
        "granian.access": {"handlers": [], "propagate": False},
    },
}


def open_context(settings: Settings) -> Context:
    """Connect to the configured database and blob store, or exit with the reason. Inside a
    command, its database connections are closed when the command ends (run in-process, as the
    tests do, they would otherwise stay open until garbage collection)."""
    try:
        ctx = Context.open(settings)
    except (AtollError, ValueError) as exc:
        raise click.ClickException(getattr(exc, "message", None) or str(exc)) from None
    command = click.get_current_context(silent=True)
    if command is not None:
        command.call_on_close(lambda: _release(ctx))
    return ctx


def _release(ctx: Context) -> None:
    ctx.close()
    ctx.engine.dispose()


def _safe(url: str) -> str:
    """A database URL without its password, for messages."""
    head, at, tail = url.rpartition("@")
    if not at or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, userinfo = head.partition("//")
    return f"{scheme}//{userinfo.split(':', 1)[0]}:***@{tail}"


def _export(settings: Settings) -> None:
    """Hand the settings to the server worker process through its environment."""
    for name in ("host", "port", "data_dir", "public_url", "db_url", "storage", "server",
                 "log_format", "log_level"):
        os.environ["ATOLL_" + name.upper()] = str(getattr(settings, name))


@click.command()
@click.option("--host", envvar="ATOLL_HOST", default=DEFAULT_HOST, show_default=True,
              help="Address to listen on (0.0.0.0 for every interface).")
@click.option("--port", envvar="ATOLL_PORT", default=DEFAULT_PORT, type=int, show_default=True,
              help="TCP port to listen on.")
@backend_options
@click.option("--public-url", envvar="ATOLL_PUBLIC_URL", default=None,
              help="URL clients reach this server at; used in every generated link. "
                   "Default: http://HOST:PORT")
@click.option("--server", "server_impl", envvar="ATOLL_SERVER", default="uvicorn",
              help="HTTP server: uvicorn (default) or granian (docs/deployment.md compares them).",
              type=click.Choice(SERVERS), show_default=True)
@click.option("--log-format", envvar="ATOLL_LOG_FORMAT", default=DEFAULT_LOG_FORMAT,
              type=click.Choice(LOG_FORMATS, case_sensitive=False), show_default=True,
              help="Log on stderr: one text line or one JSON object per record.")
@click.option("--log-level", envvar="ATOLL_LOG_LEVEL", default=DEFAULT_LOG_LEVEL,
              type=click.Choice(LOG_LEVELS, case_sensitive=False), show_default=True,
              help="Least severe record logged; access lines are info.")
def serve(host: str, port: int, data_dir: str, db_url: str | None, storage: str | None,
          public_url: str | None, server_impl: str, log_format: str, log_level: str) -> None:
    """Run the server (SQLite + local folder under --data-dir by default)."""
    from atoll.server.accesslog import configure_logging

    settings = load_settings(data_dir, db_url, storage, host=host, port=port, public_url=public_url,
                             server=server_impl, log_format=log_format, log_level=log_level)
    configure_logging(settings.log_format, settings.log_level)
    open_context(settings)  # schema and secret ready (or a clear refusal) before workers start
    _export(settings)
    log.info("atoll serving at %s (%s); metadata %s, blobs %s", settings.public_url, server_impl,
             _safe(settings.db_url), settings.storage)
    _warn_if_fds_below(settings.max_connections)
    if server_impl == "uvicorn":
        _serve_uvicorn(settings)
    else:
        _serve_granian(settings)


def _warn_if_fds_below(max_connections: int) -> None:
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < max_connections + FD_HEADROOM:
        log.warning("the open-file limit (%d) is below max_connections (%d) + %d; raise it "
                    "(ulimit -n, LimitNOFILE) or lower ATOLL_MAX_CONNECTIONS",
                    soft, max_connections, FD_HEADROOM)


def _serve_uvicorn(settings: Settings) -> None:
    import uvicorn

    from atoll.server.limits import Limits
    from atoll.server.protocol import protocol_class

    # log_config=None: uvicorn keeps its hands off logging, so its warnings reach the handler
    # configure_logging put on the root logger; atoll writes the access log itself.
    uvicorn.run(ASGI_FACTORY, factory=True, host=settings.host, port=settings.port,
                log_config=None, log_level="warning", access_log=False,
                http=protocol_class(Limits.of(settings)),
                timeout_keep_alive=settings.keepalive_timeout_s)


def _serve_granian(settings: Settings) -> None:
    """granian with the same limits where it has them (docs/deployment.md says what differs)."""
    from granian import Granian
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings, HTTP2Settings
    from granian.log import LogLevels

    logging.getLogger("granian").setLevel(logging.WARNING)
    head = max(GRANIAN_MIN_BUFFER, settings.max_header_bytes)
    Granian(ASGI_FACTORY, address=settings.host, port=settings.port, interface=Interfaces.ASGI,
            factory=True, workers=1, log_level=LogLevels.warning, log_access=False,
            log_dictconfig=GRANIAN_LOGGING,
            backpressure=settings.max_connections,
            http1_settings=HTTP1Settings(
                header_read_timeout=min(GRANIAN_MAX_HEADER_TIMEOUT_MS,
                                        settings.header_read_timeout_s * 1000),
                max_buffer_size=head),
            http2_settings=HTTP2Settings(max_headers_size=head)).serve()


@click.group()
def token() -> None:
    """Create, list and revoke API tokens."""


@token.command("create")
@backend_options
@click.option("--base", required=True, help="Base name; created if missing.")
@click.option("--workspace", default="Default", show_default=True, help="Created if missing.")
@click.option("--permission", type=click.Choice(["rw", "r"]), default="rw", show_default=True)
@click.option("--app-name", default=access.DEFAULT_APP_NAME, show_default=True)
def token_create(data_dir: str, db_url: str | None, storage: str | None, base: str, workspace: str,
                 permission: str, app_name: str) -> None:
    """Print a new API token (only the token, on stdout)."""
    ctx = open_context(load_settings(data_dir, db_url, storage))
    created = access.create_api_token(
        ctx.engine, base=base, workspace=workspace,
        permission="rw" if permission == "rw" else "r", app_name=app_name,
    )
    click.echo(created.token)


@token.command("list")
@backend_options
def token_list(data_dir: str, db_url: str | None, storage: str | None) -> None:
    """List API tokens: token, permission, state, workspace id, base, base uuid, app name, and
    who made it (a user's email, or "-" for this command)."""
    ctx = open_context(load_settings(data_dir, db_url, storage))
    for tok, dtable in access.list_api_tokens(ctx.engine):
        state = "revoked" if tok.revoked else "active"
        click.echo(f"{tok.token}\t{tok.permission}\t{state}\t{dtable.workspace_id}\t{dtable.name}\t{dtable.uuid}"
                   f"\t{tok.app_name}\t{tok.generated_by or '-'}")


@token.command("revoke")
@backend_options
@click.argument("api_token")
def token_revoke(data_dir: str, db_url: str | None, storage: str | None, api_token: str) -> None:
    """Revoke an API token: it stops working at once."""
    ctx = open_context(load_settings(data_dir, db_url, storage))
    if not access.revoke_api_token(ctx.engine, api_token):
        raise click.ClickException("no such token")
    click.echo("revoked", err=True)


@click.command()
@backend_options
@click.option("--verify", "--verify-hashes", "verify_hashes", is_flag=True,
              help="Also re-read every blob and check its SHA-256 (reads everything).")
@click.option("--repair", is_flag=True,
              help="Fix reference counts and missing blob rows (never deletes or rewrites bytes).")
def fsck(data_dir: str, db_url: str | None, storage: str | None, verify_hashes: bool, repair: bool) -> None:
    """Check every blob's bytes, size (and SHA-256) and reference count; list orphan blobs."""
    ctx = open_context(load_settings(data_dir, db_url, storage))
    report = anyio.run(lambda: fsck_service.fsck(ctx, verify_hashes=verify_hashes, repair=repair))
    for title, items in (("missing", report.missing), ("wrong size", report.bad_size),
                         ("wrong hash", report.bad_hash), ("refcount", report.refcounts),
                         ("unrecorded", report.unrecorded), ("metadata", report.metadata),
                         ("orphan blob", report.orphans), ("repaired", report.repaired)):
        for item in items:
            click.echo(f"{title}\t{item}")
    click.echo(f"{report.assets} files and {report.blobs} blobs checked, "
               f"{len(report.orphans)} orphan blob(s), {len(report.repaired)} repair(s)", err=True)
    if not report.ok:
        raise SystemExit(1)


@click.command()
@backend_options
@click.option("--grace", type=float, default=maintenance.DEFAULT_GC_GRACE_S, show_default=True,
              help="Leave orphans younger than this many seconds.")
@click.option("--retention", type=float, default=None,
              help="Purge trashed files deleted more than this many seconds ago "
                   "[default: the trash_retention_s setting, 30 days].")
@click.option("--dry-run", is_flag=True, help="Only list what would go; change nothing.")
def gc(data_dir: str, db_url: str | None, storage: str | None, grace: float, retention: float | None,
       dry_run: bool) -> None:
    """Purge trashed files past the retention that no row uses, and delete orphan blobs (bytes
    no file or trash entry points at) older than --grace seconds. Never touches a file a row
    references or an upload in progress. Prints one line per item on stdout:
    "purged|would purge <base uuid>:<path> <trash id>", "kept (referenced) ...",
    "orphan|would remove orphan <blob key>", "thumbnail <blob key>" (a cached thumbnail of
    content no file holds any more)."""
    ctx = open_context(load_settings(data_dir, db_url, storage))
    report = anyio.run(
        lambda: maintenance.collect(ctx, grace_s=grace, retention_s=retention, dry_run=dry_run)
    )
    verb = "would purge" if dry_run else "purged"
    for entry in report.purged:
        click.echo(f"{verb}\t{entry.asset.dtable_uuid}:{entry.asset.path}\t{entry.id}")
    for entry in report.kept_referenced:
        click.echo(f"kept (referenced)\t{entry.asset.dtable_uuid}:{entry.asset.path}\t{entry.id}")
    for key in report.orphans:
        click.echo(f"{'would remove orphan' if dry_run else 'orphan'}\t{key}")
    for key in report.thumbnails:
        click.echo(f"thumbnail\t{key}")
    if dry_run:
        click.echo(f"dry run: would purge {len(report.purged)} trashed file(s) and remove "
                   f"{len(report.orphans)} orphan blob(s); nothing changed", err=True)
    else:
        click.echo(f"purged {len(report.purged)} trashed file(s), kept {len(report.kept_referenced)} "
                   f"referenced, removed {len(report.orphans)} orphan blob(s)", err=True)


def register(group: click.Group) -> None:
    for command in (serve, token, fsck, gc):
        group.add_command(command)
