"""The only code that turns a request into a Principal.

- dtable-web "app" endpoints: ``Authorization: Token|Bearer <API token>``.
- base endpoints (gateway v2, dtable-server v1): ``Authorization: Token|Bearer <access token>``,
  and the token's base must be the base in the route.
- file-server paths: the ticket in the URL (see ``services.access.verify_ticket``).
"""

from __future__ import annotations

from starlette.requests import Request

from atoll.errors import AuthenticationFailed
from atoll.models import Principal, Ticket, TicketOp
from atoll.services import access, accounts_bases
from atoll.services.context import Context

AUTH_PREFIXES = ("token", "bearer")


def context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def credential(request: Request) -> str:
    """The token of ``Authorization: Token <t>`` (or Bearer, any case); 403 otherwise."""
    header = request.headers.get("authorization", "")
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() not in AUTH_PREFIXES:
        raise AuthenticationFailed("Permission denied.")
    return parts[1]


async def api_principal(request: Request) -> Principal:
    ctx = context(request)
    return await access.authenticate_api_token(ctx, credential(request))


async def base_principal(request: Request, dtable_uuid: str) -> Principal:
    ctx = context(request)
    token = credential(request)
    principal = await access.authenticate_access_token(ctx, token)
    access.require_base(principal, dtable_uuid)
    return principal


async def any_principal(request: Request) -> Principal:
    """An API token (or a temporary one) or an access token (asset URLs accept either)."""
    token = credential(request)
    ctx = context(request)
    if token.count(".") == 2 and not accounts_bases.is_temp_api_token(token):
        return await access.authenticate_access_token(ctx, token)
    return await access.authenticate_api_token(ctx, token)


def ticket(request: Request, raw: str, op: TicketOp) -> Ticket:
    return access.verify_ticket(raw, op, context(request).verify_keys)
