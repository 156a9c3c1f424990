"""``create_app(settings)``: the Starlette application."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp

from atoll.config import Settings
from atoll.errors import AtollError
from atoll.server.accesslog import AccessLog, Traffic, loggable_path, request_id, watch_shutdown
from atoll.server.dispatch import SegmentRouter
from atoll.server.endpoints.home import not_found
from atoll.server.limits import BodyLimits, Limits
from atoll.server.live import LiveMount, LiveUpdates
from atoll.server.routes import routes
from atoll.services import upload_gc
from atoll.services.context import Context
from atoll.wire import tus
from atoll.wire.errors import (
    error_body,
    family_for_path,
    server_error_body,
    status_for,
    with_request_id,
)

log = logging.getLogger("atoll")


#: Paths whose errors carry tus's headers (CORS, Tus-Resumable).
TUS_PATHS = ("/seafhttp/tus/", "/seafhttp/tus-uploads/")


def _respond(status: int, body: dict[str, object] | str) -> Response:
    if isinstance(body, str):
        return PlainTextResponse(body, status_code=status)
    return JSONResponse(body, status_code=status)


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AtollError)
    family = family_for_path(request.url.path)
    response = _respond(status_for(exc), error_body(exc, family, request_id(request.scope)))
    if request.url.path.startswith(TUS_PATHS):  # a browser's tus client must read the status
        response.headers.update(tus.common_headers())
    return response


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own answers (404 no such route, 405 method): its text, plus the request id."""
    assert isinstance(exc, HTTPException)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return PlainTextResponse(with_request_id(exc.detail, request_id(request.scope)),
                             status_code=exc.status_code, headers=exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    rid = request_id(request.scope)
    log.exception("unhandled error on %s %s (request id %s)", request.method,
                  loggable_path(request.url.path), rid)
    return _respond(500, server_error_body(family_for_path(request.url.path), rid))


class _App(Starlette):
    """Starlette with ``AccessLog`` outside everything, Starlette's 500 handler included."""

    traffic: Traffic

    def build_middleware_stack(self) -> ASGIApp:
        return AccessLog(super().build_middleware_stack(), self.traffic)


def create_app(settings: Settings, *, context: Context | None = None) -> Starlette:
    ctx = context or Context.open(settings)
    traffic = Traffic()
    live = LiveUpdates(ctx)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        swept = await ctx.blobs.sweep(keep=await upload_gc.live_keys(ctx))
        if swept:
            log.warning("removed %d temp file(s) left by an interrupted upload", swept)
        reaper = (asyncio.create_task(upload_gc.reap_periodically(ctx, settings.upload_reap_interval_s))
                  if settings.upload_reap_interval_s > 0 else None)
        unwatch = watch_shutdown(traffic)
        await live.start()
        log.info("atoll started: pid %d accepting requests at %s", os.getpid(), settings.public_url)
        yield
        unwatch()
        await live.stop()
        if reaper is not None:
            reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reaper
        ctx.close()
        log.info("%s", traffic.stopped_line())

    app = _App(
        routes=routes(),
        exception_handlers={AtollError: _domain_error, HTTPException: _http_error,
                            Exception: _server_error,
                            404: not_found},  # unknown paths: family-shaped, points at /docs
        lifespan=lifespan,
        # Body deadline and minimum rate on every server; per-line header checks where the
        # server's parser has none (uvicorn gets them in server/protocol.py).
        middleware=[Middleware(LiveMount, live=live),  # socket.io (server/live.py)
                    Middleware(BodyLimits, limits=Limits.of(settings),
                               check_header_lines=settings.server != "uvicorn")],
    )
    # the same routes, tried only where the path's first segment allows (server/dispatch.py)
    app.router = SegmentRouter(app.router.routes, redirect_slashes=False, lifespan=lifespan)
    app.traffic = traffic
    app.state.ctx = ctx
    return app
