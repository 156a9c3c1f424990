"""Reading bounded request bodies: JSON on any method (the client sends JSON on GET/DELETE)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from atoll.errors import InvalidInput, PayloadTooLarge
from atoll.server.auth import context


def declared_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    if not raw.isdigit():
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
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("params invalid: the body is not valid JSON.") from exc
    if not isinstance(value, dict):
        raise InvalidInput("params invalid: the body must be a JSON object.")
    return value


def query_bool(request: Request, name: str, default: bool = False) -> bool:
    """``True``/``true``/``1`` (the client sends Python's ``True``/``False``)."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in ("true", "1", "yes")
