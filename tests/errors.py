"""Error bodies as the client sees them, minus the request id every one carries."""

from __future__ import annotations

import json
from typing import Any, Protocol


class _Response(Protocol):
    @property
    def headers(self) -> Any: ...
    @property
    def text(self) -> str: ...


def error_of(r: _Response) -> dict[str, Any] | str:
    """The body of an error answer without its request id, after checking that the id is there
    and equals the ``X-Request-Id`` header: a JSON object without ``request_id``, or the text
    without its `` (request id …)`` tail."""
    rid = r.headers["x-request-id"]
    try:
        body = json.loads(r.text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        assert body.pop("request_id") == rid, (body, rid)
        return body
    tail = f" (request id {rid})"
    assert r.text.endswith(tail), (r.text, rid)
    return r.text[: -len(tail)]
