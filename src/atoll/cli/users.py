"""Operator commands for user accounts: ``atoll user create|list|disable|enable|delete|
set-password|add-member|remove-member`` (docs/accounts.md). Passwords are never arguments: they
are read from a hidden prompt on a terminal, else from the first line of stdin."""

from __future__ import annotations

import sys

import click

from atoll.cli.operator import open_context
from atoll.cli.options import backend_options, load_settings
from atoll.db.users import ROLES
from atoll.errors import AtollError
from atoll.services import accounts, accounts_removal


def read_password() -> str:
    """A hidden prompt (asked twice) on a terminal; otherwise the first line of stdin."""
    if sys.stdin.isatty():
        value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
        return value
    line = sys.stdin.readline()
    if not line:
        raise click.UsageError("no password on stdin (give it as the first line)")
    return line.rstrip("\r\n")


def _fail(exc: AtollError) -> click.ClickException:
    return click.ClickException(exc.message)


@click.group()
def user() -> None:
    """Create, list, disable and delete users; set passwords; add users to and remove them from
    workspaces."""


@user.command("create")
@backend_options
@click.argument("email")
@click.option("--name", default="", help="Display name (default: the part before @).")
@click.option("--admin", is_flag=True, help="A server administrator (is_staff).")
def user_create(data_dir: str, db_url: str | None, storage: str | None, email: str, name: str,
                admin: bool) -> None:
    """Create a user and their personal workspace; the password is read from a prompt or stdin."""
    ctx = open_context(load_settings(data_dir, db_url, storage))
    password = read_password()
    try:
        created = accounts.create_user(ctx.engine, email, password, name=name, is_admin=admin)
    except AtollError as exc:
        raise _fail(exc) from None
    click.echo(f"created user {created.email} (personal workspace {created.personal_workspace_id})",
               err=True)


@user.command("list")
@backend_options
def user_list(data_dir: str, db_url: str | None, storage: str | None) -> None:
    """List users: email, name, admin or user, active or disabled, personal workspace id, created."""
    ctx = open_context(load_settings(data_dir, db_url, storage))
    for u in accounts.list_users(ctx.engine):
        kind = "admin" if u.is_admin else "user"
        state = "active" if u.is_active else "disabled"
        click.echo(f"{u.email}\t{u.name}\t{kind}\t{state}\t{u.personal_workspace_id}\t{u.created_at}")


def _set_active(data_dir: str, db_url: str | None, storage: str | None, email: str,
                active: bool) -> None:
    ctx = open_context(load_settings(data_dir, db_url, storage))
    try:
        accounts.set_active(ctx.engine, email, active)
    except AtollError as exc:
        raise _fail(exc) from None
    click.echo(("enabled " if active else "disabled ") + email, err=True)


@user.command("disable")
@backend_options
@click.argument("email")
def user_disable(data_dir: str, db_url: str | None, storage: str | None, email: str) -> None:
    """Disable a user: their sign-in, account tokens and temporary API tokens stop working at once."""
    _set_active(data_dir, db_url, storage, email, False)


@user.command("enable")
@backend_options
@click.argument("email")
def user_enable(data_dir: str, db_url: str | None, storage: str | None, email: str) -> None:
    """Enable a disabled user again."""
    _set_active(data_dir, db_url, storage, email, True)


@user.command("set-password")
@backend_options
@click.argument("email")
def user_set_password(data_dir: str, db_url: str | None, storage: str | None, email: str) -> None:
    """Set a user's password (from a prompt or stdin); their account tokens are signed out."""
    ctx = open_context(load_settings(data_dir, db_url, storage))
    password = read_password()
    try:
        accounts.set_password(ctx.engine, email, password)
    except AtollError as exc:
        raise _fail(exc) from None
    click.echo(f"password set for {email}", err=True)


@user.command("add-member")
@backend_options
@click.argument("email")
@click.argument("workspace")
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)
def user_add_member(data_dir: str, db_url: str | None, storage: str | None, email: str,
                    workspace: str, role: str) -> None:
    """Make a user a member of a workspace (by name, e.g. Default) with a role."""
    ctx = open_context(load_settings(data_dir, db_url, storage))
    chosen = next(r for r in ROLES if r == role)
    try:
        accounts.add_member(ctx.engine, workspace, email, chosen)
    except AtollError as exc:
        raise _fail(exc) from None
    click.echo(f"{email} is {role} of {workspace}", err=True)


@user.command("remove-member")
@backend_options
@click.argument("email")
@click.argument("workspace")
def user_remove_member(data_dir: str, db_url: str | None, storage: str | None, email: str,
                       workspace: str) -> None:
    """Take a user out of a workspace (by name): its bases stop opening for them at once."""
    ctx = open_context(load_settings(data_dir, db_url, storage))
    try:
        accounts_removal.remove_member(ctx.engine, workspace, email)
    except AtollError as exc:
        raise _fail(exc) from None
    click.echo(f"{email} is no longer a member of {workspace}", err=True)


@user.command("delete")
@backend_options
@click.argument("email")
def user_delete(data_dir: str, db_url: str | None, storage: str | None, email: str) -> None:
    """Delete a user, their account tokens, memberships and (empty) personal workspace."""
    ctx = open_context(load_settings(data_dir, db_url, storage))
    try:
        accounts_removal.delete_user(ctx.engine, email)
    except AtollError as exc:
        raise _fail(exc) from None
    click.echo(f"deleted user {email}", err=True)


def register(group: click.Group) -> None:
    group.add_command(user)
