"""Content negotiation on the Accept header: just enough to tell a browser from an API client."""

from __future__ import annotations

from starlette.requests import Request


def _quality(accept: str, media: str) -> float:
    """The q-value ``accept`` gives ``media`` exactly or by ``type/*`` (not ``*/*``)."""
    best = 0.0
    major = media.split("/")[0] + "/*"
    for part in accept.split(","):
        fields = part.strip().split(";")
        kind = fields[0].strip().lower()
        if kind not in (media, major):
            continue
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if not 0.0 <= q <= 1.0:
            q = 0.0
        best = max(best, q)
    return best


def prefers(request: Request, media: str, over: str) -> bool:
    """Whether the request's Accept names ``media`` and ranks it above ``over``."""
    accept = request.headers.get("accept", "")
    return _quality(accept, media) > _quality(accept, over)


def prefers_html(request: Request) -> bool:
    """A browser navigating: ``text/html`` named and above ``application/json``."""
    return prefers(request, "text/html", "application/json")
