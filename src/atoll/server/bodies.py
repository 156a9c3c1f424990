"""Reading bounded request bodies and query parameters.

JSON is read on any method (the client sends JSON on GET/DELETE) and parsed by
``wire.json_bounds``: size (``max_json_bytes``, 413), UTF-8, nesting depth, number ranges, integer
width and surrogates are all checked here, once, for every endpoint (400 otherwise). Numbers and
flags from the query string go through ``json_bounds.as_int``/``as_bool`` (``query_bool`` here;
the row endpoints' ``Call.int_arg``, which also reads the body), never through a bare ``int()``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from atoll.errors import InvalidInput, PayloadTooLarge
from atoll.server.auth import context
from atoll.wire import json_bounds


def declared_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > json_bounds.MAX_INT_DIGITS:
        raise InvalidInput("Invalid Content-Length.")
    return int(raw)


async def read_bounded(request: Request, limit: int) -> bytes:
    """The whole body, refusing (413) before reading when Content-Length exceeds ``limit``."""
    length = declared_length(request)
    if length is not None and length > limit:
        raise PayloadTooLarge(f"Request body is larger than {limit} bytes.")
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > limit:
            raise PayloadTooLarge(f"Request body is larger than {limit} bytes.")
    return bytes(buf)


async def read_json(request: Request, *, required: bool = True) -> dict[str, Any]:
    """The JSON object in the body; ``{}`` when empty and not required."""
    raw = await read_bounded(request, context(request).settings.max_json_bytes)
    if not raw.strip():
        if required:
            raise InvalidInput("params invalid: a JSON body is required.")
        return {}
    value = json_bounds.loads(raw)
    if not isinstance(value, dict):
        raise InvalidInput("params invalid: the body must be a JSON object.")
    return value


def query_bool(request: Request, name: str, default: bool = False) -> bool:
    """``True``/``true``/``1``/``yes`` or ``False``/``false``/``0``/``no`` (400 otherwise)."""
    return json_bounds.as_bool(request.query_params.get(name), name, default)
