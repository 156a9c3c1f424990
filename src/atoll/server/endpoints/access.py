"""Health checks and the API-token -> access-token exchange."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from atoll.server.auth import context, credential
from atoll.services import access
from atoll.wire.access import app_access_token_json
from atoll.wire.headers import NO_STORE


async def ping(request: Request) -> Response:
    return JSONResponse("pong")


async def gateway_ping(request: Request) -> Response:
    return JSONResponse({"ret": "pong"})


async def app_access_token(request: Request) -> Response:
    ctx = context(request)
    principal, token = await access.exchange_api_token(ctx, credential(request))
    body = app_access_token_json(principal, token, ctx.settings.public_url)
    return JSONResponse(body, headers=NO_STORE)
