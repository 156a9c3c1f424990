"""``create_app(settings)``: the Starlette application."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from atoll.config import Settings
from atoll.errors import AtollError
from atoll.server.endpoints.home import not_found
from atoll.server.limits import BodyLimits, Limits
from atoll.server.routes import routes
from atoll.services.context import Context
from atoll.wire.errors import error_body, family_for_path, server_error_body, status_for

log = logging.getLogger("atoll")


def _respond(status: int, body: dict[str, object] | str) -> Response:
    if isinstance(body, str):
        return PlainTextResponse(body, status_code=status)
    return JSONResponse(body, status_code=status)


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AtollError)
    family = family_for_path(request.url.path)
    return _respond(status_for(exc), error_body(exc, family))


_TICKET_IN_PATH = re.compile(r"^(/seafhttp/(?:files|upload-api)/)[^/]+")


def loggable_path(path: str) -> str:
    """The request path with any link ticket replaced, so logs never hold a capability."""
    return _TICKET_IN_PATH.sub(r"\1<ticket>", path)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, loggable_path(request.url.path))
    return _respond(500, server_error_body(family_for_path(request.url.path)))


def create_app(settings: Settings, *, context: Context | None = None) -> Starlette:
    ctx = context or Context.open(settings)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        swept = await ctx.blobs.sweep()
        if swept:
            log.warning("removed %d temp file(s) left by an interrupted upload", swept)
        yield

    app = Starlette(
        routes=routes(),
        exception_handlers={AtollError: _domain_error, Exception: _server_error,
                            404: not_found},  # unknown paths: family-shaped, points at /docs
        lifespan=lifespan,
        # Body deadline and minimum rate on every server; per-line header checks where the
        # server's parser has none (uvicorn gets them in server/protocol.py).
        middleware=[Middleware(BodyLimits, limits=Limits.of(settings),
                               check_header_lines=settings.server != "uvicorn")],
    )
    app.router.redirect_slashes = False
    app.state.ctx = ctx
    return app
