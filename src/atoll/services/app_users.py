"""Who a base's users are, as far as atoll knows (``get_related_users``, ``get_user_info``).

atoll has no user accounts (issue 12): the identities it knows are the apps holding an API
token for a base, each written as ``<32 hex>@auth.local`` (``services.rows.app_actor``), the
same email that rows record in ``_creator`` and ``_last_modifier``. Those are the base's
related users; ``get_user_info`` answers for any of them (name: the app's name) and 404s for
anyone else.
"""

from __future__ import annotations

from sqlalchemy import Engine

from atoll.db import access as q
from atoll.db.engine import read_tx
from atoll.errors import InvalidInput, NotFound
from atoll.models import Principal
from atoll.services.context import Context
from atoll.services.rows import actor, app_actor

#: Longest username get_user_info looks up.
MAX_USERNAME_CHARS = 255


def _app_names(engine: Engine, dtable_uuid: str) -> list[str]:
    with read_tx(engine) as conn:
        tokens = q.list_tokens(conn)
    names: list[str] = []
    for token, dtable in tokens:
        if dtable.uuid == dtable_uuid and not token.revoked and token.app_name not in names:
            names.append(token.app_name)
    return names


async def related_users(ctx: Context, principal: Principal) -> list[tuple[str, str]]:
    """(email, name) of every app with a live token on the caller's base, the caller first."""
    names = await ctx.run_db(_app_names, ctx.engine, principal.dtable.uuid)
    ordered = [principal.app_name] + [n for n in names if n != principal.app_name]
    return [(app_actor(principal.dtable.uuid, n), n) for n in ordered]


async def user_info(ctx: Context, principal: Principal, username: object) -> str:
    """The name of ``username`` if it is one of the base's app identities; 404 otherwise."""
    if not isinstance(username, str) or not username:
        raise InvalidInput("username invalid: give username=<email>.")
    if len(username) > MAX_USERNAME_CHARS:
        raise InvalidInput(f"username is longer than {MAX_USERNAME_CHARS} characters.")
    if username == actor(principal):
        return principal.app_name
    for email, name in await related_users(ctx, principal):
        if email == username:
            return name
    raise NotFound(f"User {username} not found: this server knows only the apps of this base.")
