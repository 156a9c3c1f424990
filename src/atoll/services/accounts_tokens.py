"""A base's API tokens over HTTP, for signed-in users (``…/dtable/<name>/api-tokens/``;
docs/accounts.md): list, create, change the permission of and delete them by app name.

Only members who may write the base's workspace (owner, admin, member) manage its tokens: the
list shows the tokens themselves. Tokens are identified by app name, as in SeaTable: one active
token per app name and base here (``atoll token create`` may have made several: the route then
acts on all of them).
"""

from __future__ import annotations

import secrets

from sqlalchemy import Connection, Engine

from atoll.db import access as dq
from atoll.db import base_tokens as q
from atoll.db import users as uq
from atoll.db.engine import read_tx, write_tx
from atoll.db.users import User
from atoll.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from atoll.models import ApiToken, Dtable, Permission
from atoll.services.access import API_TOKEN_HEX_BYTES
from atoll.services.context import Context
from atoll.services.membership import member_role
from atoll.timeutil import utcnow

#: Longest app name accepted.
MAX_APP_NAME_CHARS = 255


def check_app_name(app_name: str) -> str:
    name = app_name.strip()
    if not name or len(name) > MAX_APP_NAME_CHARS or any(ord(c) < 32 for c in name) or "/" in name:
        raise InvalidInput(f"app_name invalid: 1 to {MAX_APP_NAME_CHARS} characters, no slash or "
                           "control character.")
    return name


def check_permission(permission: str) -> Permission:
    if permission == "rw":
        return "rw"
    if permission == "r":
        return "r"
    raise InvalidInput("permission invalid: rw or r.")


def _writable_base(conn: Connection, user: User, workspace_id: int, name: str) -> Dtable:
    role = member_role(conn, user, workspace_id)
    base = uq.base_by_name(conn, workspace_id, name)
    if base is None:
        raise NotFound(f"dtable {name} not found.")
    if role not in uq.WRITE_ROLES:
        raise PermissionDenied("Permission denied.")
    return base.dtable


def _list(engine: Engine, user: User, workspace_id: int, name: str) -> list[ApiToken]:
    with read_tx(engine) as conn:
        return q.active_tokens(conn, _writable_base(conn, user, workspace_id, name).uuid)


def _create(engine: Engine, user: User, workspace_id: int, name: str, app_name: str,
            permission: Permission) -> ApiToken:
    with write_tx(engine) as conn:
        dtable = _writable_base(conn, user, workspace_id, name)
        if q.active_by_app(conn, dtable.uuid, app_name):
            raise Conflict(f"API token for {app_name} already exists.")
        token = ApiToken(token=secrets.token_hex(API_TOKEN_HEX_BYTES), dtable_uuid=dtable.uuid,
                         app_name=app_name, permission=permission, created_at=utcnow(),
                         generated_by=user.email)
        dq.insert_token(conn, token)
    return token


def _update(engine: Engine, user: User, workspace_id: int, name: str, app_name: str,
            permission: Permission) -> ApiToken:
    with write_tx(engine) as conn:
        dtable = _writable_base(conn, user, workspace_id, name)
        if not q.active_by_app(conn, dtable.uuid, app_name):
            raise NotFound(f"API token for {app_name} not found.")
        q.set_permission(conn, dtable.uuid, app_name, permission)
        return q.active_by_app(conn, dtable.uuid, app_name)[0]


def _delete(engine: Engine, user: User, workspace_id: int, name: str, app_name: str) -> None:
    with write_tx(engine) as conn:
        dtable = _writable_base(conn, user, workspace_id, name)
        if not q.revoke_app(conn, dtable.uuid, app_name):
            raise NotFound(f"API token for {app_name} not found.")


async def list_tokens(ctx: Context, user: User, workspace_id: int, name: str) -> list[ApiToken]:
    return await ctx.run_db(_list, ctx.engine, user, workspace_id, name)


async def create_token(ctx: Context, user: User, workspace_id: int, name: str, app_name: str,
                       permission: str) -> ApiToken:
    return await ctx.run_db(_create, ctx.engine, user, workspace_id, name,
                            check_app_name(app_name), check_permission(permission))


async def update_token(ctx: Context, user: User, workspace_id: int, name: str, app_name: str,
                       permission: str) -> ApiToken:
    return await ctx.run_db(_update, ctx.engine, user, workspace_id, name, app_name,
                            check_permission(permission))


async def delete_token(ctx: Context, user: User, workspace_id: int, name: str, app_name: str) -> None:
    await ctx.run_db(_delete, ctx.engine, user, workspace_id, name, app_name)
