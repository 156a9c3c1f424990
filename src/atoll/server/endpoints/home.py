"""The front door: ``/`` (HTML or JSON), ``/docs``, ``/openapi.json``, ``/favicon.ico``, and the
answer to unknown paths. No auth; URLs come from ``settings.public_url``, never the Host header.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import metadata, resources

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from atoll.errors import NotFound
from atoll.server import pages
from atoll.server.accesslog import request_id
from atoll.server.auth import context
from atoll.server.negotiation import prefers
from atoll.wire.errors import error_body, family_for_path
from atoll.wire.front import front_door_json
from atoll.wire.headers import CACHE_A_DAY, NOSNIFF, REVALIDATE

try:
    VERSION = metadata.version("atoll")
except metadata.PackageNotFoundError:  # a source tree that is not installed
    VERSION = "0.0.0"

#: Longest stretch of an unknown path echoed back in the 404 message.
MAX_ECHOED_PATH = 200


async def front_door(request: Request) -> Response:
    info = front_door_json(context(request).settings.public_url, VERSION)
    headers = {**REVALIDATE, "vary": "Accept"}
    if prefers(request, "application/json", "text/html"):
        return JSONResponse(info, headers=headers)
    return HTMLResponse(pages.front_door(info), headers={**headers, **pages.HTML_HEADERS})


async def openapi_json(request: Request) -> Response:
    from atoll.server import openapi  # the document is built from the route table

    doc = openapi.document(context(request).settings.public_url, VERSION)
    return JSONResponse(doc, headers=REVALIDATE)


@lru_cache(maxsize=8)
def _docs_html(public_url: str, version: str) -> str:
    from atoll.server import openapi

    return pages.docs(openapi.document(public_url, version))


async def docs(request: Request) -> Response:
    html = _docs_html(context(request).settings.public_url, VERSION)
    return HTMLResponse(html, headers={**REVALIDATE, **pages.HTML_HEADERS})


@lru_cache(maxsize=1)
def favicon_svg() -> bytes:
    return resources.files("atoll.server").joinpath("static/favicon.svg").read_bytes()


async def favicon(request: Request) -> Response:
    return Response(
        favicon_svg(),
        media_type="image/svg+xml",
        headers={**CACHE_A_DAY, **NOSNIFF,
                 "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox"},
    )


async def not_found(request: Request, exc: Exception) -> Response:
    """No route matches: a 404 in the path's API family shape that names the path and points at
    the reference. (Only the router's 404; a missing row or file is a domain error.)"""
    assert isinstance(exc, HTTPException)
    path = request.url.path
    shown = path if len(path) <= MAX_ECHOED_PATH else path[:MAX_ECHOED_PATH] + "…"
    docs_url = context(request).settings.public_url + "/docs"
    error = NotFound(f"No such path: {shown}. Every path atoll serves is listed at {docs_url}")
    body = error_body(error, family_for_path(path), request_id(request.scope))
    if isinstance(body, str):
        return PlainTextResponse(body, status_code=404)
    return JSONResponse(body, status_code=404)
