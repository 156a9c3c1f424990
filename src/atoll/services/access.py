"""API tokens, the access-token (JWT) exchange, and signed tickets for the file paths."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from sqlalchemy import Engine

from atoll.db import access as q
from atoll.db import lookups
from atoll.db.engine import read_tx, write_tx
from atoll.errors import AuthenticationFailed, NotFound, PermissionDenied, TokenExpired
from atoll.models import ApiToken, Dtable, Permission, Principal, Ticket, TicketOp
from atoll.services import accounts_bases
from atoll.services.context import Context
from atoll.timeutil import utcnow

JWT_ALGORITHM = "HS256"
TICKET_AUDIENCE = "atoll:ticket"
API_TOKEN_HEX_BYTES = 20  # 40 hex characters, like SeaTable
DEFAULT_APP_NAME = "atoll"


@dataclass(frozen=True)
class CreatedToken:
    token: str
    dtable: Dtable
    permission: Permission


def create_api_token(
    engine: Engine,
    *,
    base: str,
    workspace: str = "Default",
    permission: Permission = "rw",
    app_name: str = DEFAULT_APP_NAME,
) -> CreatedToken:
    """Create the workspace and base if missing, and a new API token for the base."""
    if permission not in ("rw", "r"):
        raise ValueError("permission must be 'rw' or 'r'")
    now = utcnow()
    with write_tx(engine) as conn:
        ws = q.get_or_create_workspace(conn, workspace)
        dtable = q.find_dtable(conn, ws.id, base)
        if dtable is None:
            dtable = Dtable(uuid=str(uuid.uuid4()), name=base, workspace_id=ws.id)
            q.insert_dtable(conn, dtable, now.isoformat())
        token = ApiToken(
            token=secrets.token_hex(API_TOKEN_HEX_BYTES),
            dtable_uuid=dtable.uuid,
            app_name=app_name,
            permission=permission,
            created_at=now,
        )
        q.insert_token(conn, token)
    return CreatedToken(token.token, dtable, permission)


def list_api_tokens(engine: Engine) -> list[tuple[ApiToken, Dtable]]:
    with read_tx(engine) as conn:
        return q.list_tokens(conn)


def revoke_api_token(engine: Engine, token: str) -> bool:
    with write_tx(engine) as conn:
        return q.revoke_token(conn, token)


async def authenticate_api_token(ctx: Context, token: str) -> Principal:
    """An API token -> the Principal of its base. Unknown or revoked -> AuthenticationFailed.
    Looked up on every request (no cache): a revoked token opens nothing new at once.
    A user's temporary API token (get_base) is accepted too (services.accounts_bases)."""
    if accounts_bases.is_temp_api_token(token):
        return await accounts_bases.authenticate_temp_api_token(ctx, token)
    found = await ctx.lookup(lookups.TOKEN, token=token)
    if found is None or found[0].revoked:
        raise AuthenticationFailed("Permission denied.")
    api_token, dtable = found
    return Principal(dtable=dtable, permission=api_token.permission, app_name=api_token.app_name)


def record_token_use(engine: Engine, token: str) -> None:
    with write_tx(engine) as conn:
        q.touch_token(conn, token, utcnow().isoformat(timespec="seconds"))


async def exchange_api_token(ctx: Context, api_token: str) -> tuple[Principal, str]:
    """``app-access-token``: the API token's principal and a new access token for its base;
    the API token's last use is recorded."""
    principal = await authenticate_api_token(ctx, api_token)
    if not accounts_bases.is_temp_api_token(api_token):  # a temporary token has no last use
        await ctx.run_db(record_token_use, ctx.engine, api_token)
    return principal, issue_access_token(principal, ctx.secret, ctx.settings.access_token_ttl_s)


def issue_access_token(principal: Principal, secret: bytes, ttl_s: int) -> str:
    """The base token (JWT HS256) that app-access-token hands out."""
    now = int(utcnow().timestamp())
    claims = {
        "exp": now + ttl_s,
        "iat": now,
        "dtable_uuid": principal.dtable.uuid,
        "permission": principal.permission,
        "username": "",
        "app_name": principal.app_name,
        "id_in_org": "",
        "user_department_ids_map": {
            "current_user_department_ids": [],
            "current_user_department_and_sub_ids": [],
        },
    }
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM)


Keys = bytes | Sequence[bytes]
"""Secrets a token may be signed with: the current one first, then former ones (rotation)."""


def _as_tuple(keys: Keys) -> tuple[bytes, ...]:
    return (keys,) if isinstance(keys, bytes) else tuple(keys)


def _decode(token: str, keys: Keys, **options: Any) -> dict[str, Any]:
    for key in _as_tuple(keys):
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[JWT_ALGORITHM],
                options={"require": ["exp"]},
                **options,
            )
        except jwt.InvalidSignatureError:
            continue  # maybe signed with another accepted key
        except jwt.ExpiredSignatureError as exc:
            raise TokenExpired() from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationFailed("invalid token") from exc
    raise AuthenticationFailed("invalid token")


async def authenticate_access_token(ctx: Context, token: str) -> Principal:
    """A base's access token (from app-access-token) -> its Principal; the base must exist."""
    claims = _decode(token, ctx.verify_keys)
    dtable_uuid = claims.get("dtable_uuid")
    permission = claims.get("permission")
    if not isinstance(dtable_uuid, str) or permission not in ("rw", "r"):
        raise AuthenticationFailed("invalid token")
    dtable = await ctx.lookup(lookups.DTABLE, uuid=dtable_uuid)
    if dtable is None:
        raise NotFound(f"dtable {dtable_uuid} not found.")
    return Principal(dtable=dtable, permission=permission, app_name=str(claims.get("app_name", "")))


def require_base(principal: Principal, dtable_uuid: str) -> None:
    """A base token only opens its own base (the uuid in the route, dashed or hex)."""
    try:
        wanted = str(uuid.UUID(dtable_uuid))
    except ValueError as exc:
        raise NotFound(f"dtable {dtable_uuid} not found.") from exc
    if wanted != principal.dtable.uuid:
        raise PermissionDenied("You don't have permission to access this base.")


def require_write(principal: Principal) -> None:
    if not principal.can_write:
        raise PermissionDenied("Permission denied.")


def issue_ticket(
    op: TicketOp, dtable_uuid: str, path: str, secret: bytes, ttl_s: int, *, app: str = ""
) -> str:
    now = int(utcnow().timestamp())
    claims: dict[str, Any] = {
        "aud": TICKET_AUDIENCE,
        "op": op,
        "dt": dtable_uuid,
        "p": path,
        "exp": now + ttl_s,
    }
    if app:
        claims["a"] = app
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM)


#: Verified tickets kept in memory (a download link is fetched again and again).
TICKET_CACHE_SIZE = 4096
_ticket_cache: dict[tuple[tuple[bytes, ...], str, str], Ticket] = {}


def verify_ticket(token: str, op: TicketOp, keys: Keys) -> Ticket:
    """A ticket from a link -> its claims. Forged, expired or for another op -> 403."""
    key = (_as_tuple(keys), token, op)  # the keys too: one process may serve several data dirs (tests)
    cached = _ticket_cache.get(key)
    if cached is not None and cached.expires_at > utcnow().timestamp():
        return cached
    ticket = _verify_ticket(token, op, keys)
    if len(_ticket_cache) >= TICKET_CACHE_SIZE:
        _ticket_cache.clear()
    _ticket_cache[key] = ticket
    return ticket


def _verify_ticket(token: str, op: TicketOp, keys: Keys) -> Ticket:
    try:
        claims = _decode(token, keys, audience=TICKET_AUDIENCE)
    except AuthenticationFailed as exc:
        raise PermissionDenied("Access token not found") from exc
    if claims.get("op") != op:
        raise PermissionDenied("Operation does not match access token.")
    dt, path = claims.get("dt"), claims.get("p")
    if not isinstance(dt, str) or not isinstance(path, str):
        raise PermissionDenied("Access token not found")
    app = claims.get("a")
    return Ticket(
        op=op,
        dtable_uuid=dt,
        path=path,
        expires_at=int(claims["exp"]),
        app=app if isinstance(app, str) else "",
    )
