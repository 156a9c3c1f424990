"""The account routes of the official client's ``Account`` class (docs/accounts.md): sign-in,
account info, workspaces, add_base, copy_base, get_base's temporary API token.

Account routes answer like dtable-web: no credentials 403 and a bad token 401, both
``{"detail": ...}``; a failed sign-in 400 ``{"non_field_errors": [...]}``; a throttled one 429
with Retry-After. Other errors are the usual dtable-web ``{"error_msg": ...}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from atoll.db.users import User
from atoll.errors import InvalidInput
from atoll.models import ApiToken
from atoll.server.auth import AUTH_PREFIXES, context
from atoll.server.bodies import read_bounded
from atoll.services import accounts, accounts_bases, accounts_copy, accounts_login, accounts_tokens
from atoll.wire import account as wire
from atoll.wire import json_bounds
from atoll.wire.headers import NO_STORE

#: Largest form body an account route reads (413 beyond it).
MAX_ACCOUNT_FORM_BYTES = 64 * 1024
UNKNOWN_ADDRESS = "unknown"

AccountEndpoint = Callable[[Request, User], Awaitable[Response]]


async def read_form(request: Request) -> dict[str, str]:
    """A urlencoded form (what the official client sends) or a JSON object (the recordings'
    create-base call); values as strings, the first of repeated fields."""
    raw = await read_bounded(request, MAX_ACCOUNT_FORM_BYTES)
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind == "application/json":
        value = json_bounds.loads(raw) if raw.strip() else {}
        if not isinstance(value, dict):
            raise InvalidInput("params invalid: the body must be a JSON object.")
        return {str(k): str(v) for k, v in value.items() if v is not None}
    try:
        parsed = parse_qs(raw.decode(), keep_blank_values=True, max_num_fields=100)
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("params invalid: a urlencoded form is expected.") from None
    return {k: v[0] for k, v in parsed.items()}


def _detail(status: int, message: str) -> Response:
    return JSONResponse(wire.detail_json(message), status_code=status, headers=NO_STORE)


def account_route(fn: AccountEndpoint) -> Callable[[Request], Awaitable[Response]]:
    """``fn`` called with the user of the request's account token, or the refusal."""

    async def endpoint(request: Request) -> Response:
        parts = request.headers.get("authorization", "").split()
        if len(parts) != 2 or parts[0].lower() not in AUTH_PREFIXES:
            return _detail(403, wire.NO_CREDENTIALS_MESSAGE)
        try:
            user = await accounts.authenticate_account_token(context(request), parts[1])
        except accounts.AccountTokenInvalid:
            return _detail(401, wire.INVALID_TOKEN_MESSAGE)
        return await fn(request, user)

    endpoint.__name__ = fn.__name__
    endpoint.__doc__ = fn.__doc__
    return endpoint


async def auth_token(request: Request) -> Response:
    form = await read_form(request)
    address = request.client.host if request.client else UNKNOWN_ADDRESS
    try:
        token = await accounts_login.sign_in(
            context(request), form.get("username", ""), form.get("password", ""), address
        )
    except accounts_login.LoginFailed:
        return JSONResponse(wire.login_failed_json(), status_code=400, headers=NO_STORE)
    except accounts_login.LoginThrottled as exc:
        headers = {**NO_STORE, "retry-after": str(exc.retry_after_s)}
        return JSONResponse(wire.detail_json(exc.message), status_code=429, headers=headers)
    return JSONResponse(wire.auth_token_json(token), headers=NO_STORE)


@account_route
async def account_info(request: Request, user: User) -> Response:
    body = wire.account_info_json(email=user.email, name=user.name, is_admin=user.is_admin)
    return JSONResponse(body)


def _base(record: Any) -> wire.BaseInfo:
    d = record.dtable
    return wire.base_json(uuid=d.uuid, name=d.name, workspace_id=d.workspace_id,
                          created_at=record.created_at)


@account_route
async def workspaces(request: Request, user: User) -> Response:
    views = await accounts_bases.list_workspaces(context(request), user)
    items = [
        wire.workspace_json(workspace_id=v.membership.workspace.id, name=v.membership.workspace.name,
                            personal=v.membership.personal, role=v.membership.role,
                            tables=[_base(b) for b in v.bases])
        for v in views
    ]
    return JSONResponse(wire.Workspaces(workspace_list=items))


@account_route
async def add_base(request: Request, user: User) -> Response:
    form = await read_form(request)
    workspace_id = accounts_bases.resolve_workspace(
        user, owner=form.get("owner"), workspace_id=form.get("workspace_id"))
    record = await accounts_bases.add_base(context(request), user, workspace_id, form.get("name", ""))
    return JSONResponse(wire.AddedBase(table=_base(record)), status_code=201)


@account_route
async def copy_base(request: Request, user: User) -> Response:
    form = await read_form(request)
    src, dst = accounts_copy.parse_workspace_ids(form.get("src_workspace_id"), form.get("dst_workspace_id"))
    record = await accounts_copy.copy_base(context(request), user, src, form.get("name", ""), dst)
    return JSONResponse(wire.CopiedBase(dtable=_base(record)))


@account_route
async def temp_api_token(request: Request, user: User) -> Response:
    workspace_id: int = request.path_params["workspace_id"]
    name: str = request.path_params["name"]
    token = await accounts_bases.temp_api_token(context(request), user, workspace_id, name)
    return JSONResponse(wire.TempApiToken(api_token=token), headers=NO_STORE)


def _token(t: ApiToken) -> wire.ApiTokenInfo:
    return wire.api_token_json(token=t.token, app_name=t.app_name, permission=t.permission,
                               generated_at=t.created_at, generated_by=t.generated_by,
                               last_access=t.last_access)


@account_route
async def api_tokens(request: Request, user: User) -> Response:
    """List (GET) or create (POST: app_name, permission) a base's API tokens."""
    ctx = context(request)
    workspace_id: int = request.path_params["workspace_id"]
    name: str = request.path_params["name"]
    if request.method == "GET":
        found = await accounts_tokens.list_tokens(ctx, user, workspace_id, name)
        return JSONResponse(wire.ApiTokens(api_tokens=[_token(t) for t in found]), headers=NO_STORE)
    form = await read_form(request)
    made = await accounts_tokens.create_token(ctx, user, workspace_id, name, form.get("app_name", ""),
                                              form.get("permission", "rw"))
    return JSONResponse(_token(made), status_code=201, headers=NO_STORE)


@account_route
async def api_token(request: Request, user: User) -> Response:
    """Change the permission of (PUT: permission) or delete an app's API token."""
    ctx = context(request)
    workspace_id: int = request.path_params["workspace_id"]
    name: str = request.path_params["name"]
    app_name: str = request.path_params["app_name"]
    if request.method == "DELETE":
        await accounts_tokens.delete_token(ctx, user, workspace_id, name, app_name)
        return JSONResponse({"success": True})
    form = await read_form(request)
    changed = await accounts_tokens.update_token(ctx, user, workspace_id, name, app_name,
                                                 form.get("permission", ""))
    return JSONResponse(_token(changed), headers=NO_STORE)
