"""Operator commands: ``serve`` and ``token create|list|revoke``."""

from __future__ import annotations

import logging
import os
from typing import Any

import anyio
import click

from atoll.config import DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT, Settings
from atoll.services import access, maintenance
from atoll.services.context import Context

SERVERS = ("uvicorn", "granian")
ASGI_FACTORY = "atoll.server.asgi:app_from_env"


def _settings(data_dir: str | None, **overrides: Any) -> Settings:
    return Settings.load(data_dir=data_dir, **overrides)


def _export(settings: Settings) -> None:
    """Hand the settings to the server worker process through its environment."""
    for name in ("host", "port", "data_dir", "public_url", "db_url", "storage", "server"):
        os.environ["ATOLL_" + name.upper()] = str(getattr(settings, name))


@click.command()
@click.option("--host", envvar="ATOLL_HOST", default=DEFAULT_HOST, show_default=True)
@click.option("--port", envvar="ATOLL_PORT", default=DEFAULT_PORT, type=int, show_default=True)
@click.option("--data-dir", envvar="ATOLL_DATA_DIR", default=DEFAULT_DATA_DIR, show_default=True,
              type=click.Path(file_okay=False))
@click.option("--public-url", envvar="ATOLL_PUBLIC_URL", default=None,
              help="URL clients reach this server at; used in every generated link. "
                   "Default: http://HOST:PORT")
@click.option("--server", "server_impl", envvar="ATOLL_SERVER", default="uvicorn",
              type=click.Choice(SERVERS), show_default=True)
def serve(host: str, port: int, data_dir: str, public_url: str | None, server_impl: str) -> None:
    """Run the server (SQLite + local folder under --data-dir by default)."""
    settings = _settings(data_dir, host=host, port=port, public_url=public_url, server=server_impl)
    Context.open(settings)  # create the data dir, migrate, make the secret before workers start
    _export(settings)
    click.echo(f"atoll serving {settings.data_dir} at {settings.public_url} ({server_impl})", err=True)
    if server_impl == "uvicorn":
        import uvicorn

        uvicorn.run(ASGI_FACTORY, factory=True, host=host, port=port, log_level="warning",
                    timeout_keep_alive=30)
        return
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    logging.getLogger("granian").setLevel(logging.WARNING)
    Granian(ASGI_FACTORY, address=host, port=port, interface=Interfaces.ASGI, factory=True,
            workers=1, log_level=LogLevels.warning).serve()


@click.group()
def token() -> None:
    """Create, list and revoke API tokens."""


@token.command("create")
@click.option("--data-dir", envvar="ATOLL_DATA_DIR", default=DEFAULT_DATA_DIR, show_default=True)
@click.option("--base", required=True, help="Base name; created if missing.")
@click.option("--workspace", default="Default", show_default=True, help="Created if missing.")
@click.option("--permission", type=click.Choice(["rw", "r"]), default="rw", show_default=True)
@click.option("--app-name", default=access.DEFAULT_APP_NAME, show_default=True)
def token_create(data_dir: str, base: str, workspace: str, permission: str, app_name: str) -> None:
    """Print a new API token (only the token, on stdout)."""
    ctx = Context.open(_settings(data_dir))
    created = access.create_api_token(
        ctx.engine, base=base, workspace=workspace,
        permission="rw" if permission == "rw" else "r", app_name=app_name,
    )
    click.echo(created.token)


@token.command("list")
@click.option("--data-dir", envvar="ATOLL_DATA_DIR", default=DEFAULT_DATA_DIR, show_default=True)
def token_list(data_dir: str) -> None:
    """List API tokens: token, permission, state, workspace id, base, base uuid."""
    ctx = Context.open(_settings(data_dir))
    for tok, dtable in access.list_api_tokens(ctx.engine):
        state = "revoked" if tok.revoked else "active"
        click.echo(f"{tok.token}\t{tok.permission}\t{state}\t{dtable.workspace_id}\t{dtable.name}\t{dtable.uuid}")


@token.command("revoke")
@click.option("--data-dir", envvar="ATOLL_DATA_DIR", default=DEFAULT_DATA_DIR, show_default=True)
@click.argument("api_token")
def token_revoke(data_dir: str, api_token: str) -> None:
    """Revoke an API token: it stops working at once."""
    ctx = Context.open(_settings(data_dir))
    if not access.revoke_api_token(ctx.engine, api_token):
        raise click.ClickException("no such token")
    click.echo("revoked", err=True)


@click.command()
@click.option("--data-dir", envvar="ATOLL_DATA_DIR", default=DEFAULT_DATA_DIR, show_default=True)
@click.option("--verify-hashes", is_flag=True, help="Also re-hash every blob (reads everything).")
def fsck(data_dir: str, verify_hashes: bool) -> None:
    """Check that every file's bytes are present and intact; list orphan blobs."""
    ctx = Context.open(_settings(data_dir))
    report = anyio.run(lambda: maintenance.fsck(ctx, verify_hashes=verify_hashes))
    for title, items in (("missing", report.missing), ("wrong size", report.bad_size),
                         ("wrong hash", report.bad_hash), ("orphan blob", report.orphans)):
        for item in items:
            click.echo(f"{title}\t{item}")
    click.echo(f"{report.assets} files checked, {len(report.orphans)} orphan blob(s)", err=True)
    if not report.ok:
        raise SystemExit(1)


@click.command()
@click.option("--data-dir", envvar="ATOLL_DATA_DIR", default=DEFAULT_DATA_DIR, show_default=True)
@click.option("--grace", type=float, default=maintenance.DEFAULT_GC_GRACE_S, show_default=True,
              help="Leave orphans younger than this many seconds.")
def gc(data_dir: str, grace: float) -> None:
    """Delete orphan blobs (bytes no file points at) older than --grace seconds."""
    ctx = Context.open(_settings(data_dir))
    reaped = anyio.run(lambda: maintenance.gc(ctx, grace_s=grace))
    click.echo(f"removed {len(reaped)} orphan blob(s)", err=True)


def register(group: click.Group) -> None:
    for command in (serve, token, fsck, gc):
        group.add_command(command)
