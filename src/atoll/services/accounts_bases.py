"""What a signed-in user may see and open: their workspaces and bases, a new base, and the
temporary API token of ``get_base`` (docs/accounts.md).

A user sees and opens only the bases of workspaces they are a member of. Roles owner, admin and
member may add bases and get read-write tokens; readonly members get read-only ones.

The temporary API token is a JWT (HS256, the server's signing secret) with the audience
``TEMP_TOKEN_AUDIENCE``: ``{username, uid, dtable_uuid, permission, exp}``. It is accepted
wherever an API token is (``services.access.authenticate_api_token``), and on every use the
user must still be active and a member of the base's workspace (checked in the database, no
cache). Its audience keeps it from passing as an access token, and an access token from
passing as it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from atoll.db import access as dq
from atoll.db import users as q
from atoll.db.engine import read_tx, write_tx
from atoll.db.users import BaseRecord, Membership, User
from atoll.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound, PermissionDenied
from atoll.models import Dtable, Permission, Principal
from atoll.services.context import Context
from atoll.services.membership import member_role, writing_role
from atoll.timeutil import utcnow

TEMP_TOKEN_AUDIENCE = "atoll:temp-api-token"
TEMP_TOKEN_ALGORITHM = "HS256"
#: The app name rows and logs show for a temporary API token (SeaTable's: "scripts").
TEMP_TOKEN_APP_NAME = "scripts"
#: Longest base name; names may not contain these characters (they end a URL path segment).
MAX_BASE_NAME_CHARS = 255
FORBIDDEN_BASE_NAME_CHARS = "/\\"
GROUP_OWNER_SUFFIX = "@seafile_group"


@dataclass(frozen=True)
class WorkspaceView:
    membership: Membership
    bases: list[BaseRecord]


def _workspaces(engine: Engine, user: User) -> list[WorkspaceView]:
    with read_tx(engine) as conn:
        members = q.memberships(conn, user)
        bases = q.bases_in(conn, [m.workspace.id for m in members]) if members else []
    by_ws: dict[int, list[BaseRecord]] = {}
    for base in bases:
        by_ws.setdefault(base.dtable.workspace_id, []).append(base)
    return [WorkspaceView(m, by_ws.get(m.workspace.id, [])) for m in members]


async def list_workspaces(ctx: Context, user: User) -> list[WorkspaceView]:
    return await ctx.run_db(_workspaces, ctx.engine, user)


def check_base_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput("name invalid.")
    if len(name) > MAX_BASE_NAME_CHARS or any(c in name for c in FORBIDDEN_BASE_NAME_CHARS) \
            or any(ord(c) < 32 for c in name):
        raise InvalidInput(f"name invalid: at most {MAX_BASE_NAME_CHARS} characters, "
                           "no slash, backslash or control character.")
    return name


def resolve_workspace(user: User, *, owner: str | None, workspace_id: str | None) -> int:
    """The workspace add_base means: ``workspace_id``, or ``owner`` (the user's email: their
    personal workspace; ``<id>@seafile_group``: that group workspace)."""
    raw: str | None = workspace_id
    if not raw and owner:
        owner = owner.strip()
        if owner.lower() == user.email:
            if user.personal_workspace_id is None:
                raise NotFound("Workspace not found.")
            return user.personal_workspace_id
        if owner.endswith(GROUP_OWNER_SUFFIX):
            raw = owner[: -len(GROUP_OWNER_SUFFIX)]
        else:
            raise PermissionDenied("Permission denied.")
    if not raw:
        raise InvalidInput("owner or workspace_id invalid.")
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput("workspace_id invalid.") from None


def _add_base(engine: Engine, user: User, workspace_id: int, name: str) -> BaseRecord:
    try:
        with write_tx(engine) as conn:
            writing_role(conn, user, workspace_id)
            if q.base_by_name(conn, workspace_id, name) is not None:
                raise Conflict(f"Table {name} already exists.")
            now = utcnow().isoformat()
            dtable = Dtable(uuid=str(uuid.uuid4()), name=name, workspace_id=workspace_id)
            dq.insert_dtable(conn, dtable, now)
            return BaseRecord(dtable, now)
    except IntegrityError:  # the same name added at the same moment
        raise Conflict(f"Table {name} already exists.") from None


async def add_base(ctx: Context, user: User, workspace_id: int, name: str) -> BaseRecord:
    return await ctx.run_db(_add_base, ctx.engine, user, workspace_id, check_base_name(name))


def _member_base(engine: Engine, user: User, workspace_id: int,
                 name: str) -> tuple[BaseRecord, q.Role]:
    with read_tx(engine) as conn:
        role = member_role(conn, user, workspace_id)
        base = q.base_by_name(conn, workspace_id, name)
    if base is None:
        raise NotFound(f"dtable {name} not found.")
    return base, role


def permission_of(role: q.Role) -> Permission:
    return "rw" if role in q.WRITE_ROLES else "r"


async def temp_api_token(ctx: Context, user: User, workspace_id: int, name: str) -> str:
    """get_base: a short-lived token for a base of a workspace the user belongs to."""
    base, role = await ctx.run_db(_member_base, ctx.engine, user, workspace_id, name)
    now = int(utcnow().timestamp())
    claims: dict[str, Any] = {
        "aud": TEMP_TOKEN_AUDIENCE,
        "username": user.email,
        "uid": user.id,
        "dtable_uuid": base.dtable.uuid,
        "permission": permission_of(role),
        "iat": now,
        "exp": now + ctx.settings.temp_api_token_ttl_s,
    }
    return jwt.encode(claims, ctx.secret, algorithm=TEMP_TOKEN_ALGORITHM)


def is_temp_api_token(token: str) -> bool:
    """Whether a token is shaped like a temporary API token (its audience, not verified)."""
    if token.count(".") != 2:
        return False
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return False
    return claims.get("aud") == TEMP_TOKEN_AUDIENCE


def _claims(token: str, keys: tuple[bytes, ...]) -> dict[str, Any]:
    for key in keys:
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=[TEMP_TOKEN_ALGORITHM], audience=TEMP_TOKEN_AUDIENCE,
                options={"require": ["exp", "aud"]},
            )
            return claims
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError:
            break
    raise AuthenticationFailed("Permission denied.")


def _current_role(engine: Engine, user_id: int, dtable_uuid: str) -> tuple[Dtable, q.Role] | None:
    with read_tx(engine) as conn:
        dtable = dq.get_dtable(conn, dtable_uuid)
        if dtable is None:
            return None
        role = q.active_role(conn, dtable.workspace_id, user_id)
    return (dtable, role) if role is not None else None


async def authenticate_temp_api_token(ctx: Context, token: str) -> Principal:
    """A temporary API token -> the Principal of its base, if its user is still active and a
    member of the base's workspace; the permission is the lesser of the token's and the role's.
    Anything else (forged, expired, disabled user, no longer a member) -> 403 as a bad API token."""
    claims = _claims(token, ctx.verify_keys)
    uid, dtable_uuid, perm = claims.get("uid"), claims.get("dtable_uuid"), claims.get("permission")
    if not isinstance(uid, int) or not isinstance(dtable_uuid, str) or perm not in ("rw", "r"):
        raise AuthenticationFailed("Permission denied.")
    found = await ctx.run_db(_current_role, ctx.engine, uid, dtable_uuid)
    if found is None:
        raise AuthenticationFailed("Permission denied.")
    dtable, role = found
    permission: Permission = "rw" if perm == "rw" and permission_of(role) == "rw" else "r"
    return Principal(dtable=dtable, permission=permission, app_name=TEMP_TOKEN_APP_NAME)
