"""Routing by the path's first segment: a request is matched only against the routes that can
take it.

Starlette's router tries every route's regular expression in order until one matches. With
about two hundred routes that was ~5 % of the event loop's time per 4 KiB upload (the upload
route is the 49th) and more for the api-gateway row routes near the end. ``SegmentRouter``
groups the routes once by their first path segment (``api-gateway``, ``seafhttp``, ...); a
request is handed to a router holding only its segment's routes plus those whose first
segment is a parameter, in the original order, so the first match is the same route as
before and 404 and 405 answers do not change.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Router
from starlette.types import Receive, Scope, Send

#: The group key of a route whose first segment is a parameter (it may match any request).
_ANY = "{"


def _segment_of(route: BaseRoute) -> str:
    """The route's first path segment, or ``_ANY`` when it is a parameter or unknown."""
    path = getattr(route, "path", None)
    if not isinstance(path, str) or not path.startswith("/"):
        return _ANY
    first = path[1:].split("/", 1)[0]
    return _ANY if "{" in first else first


def _segment(scope: Scope) -> str:
    """The first segment of the path the routes see (below the app's ``root_path``, if any)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root):len(root) + 1] in ("", "/"):
        path = path[len(root):]  # as the routes see it: "/a/b" under root "/a" is "/b"
    return path[1:].split("/", 1)[0] if path.startswith("/") else ""


class SegmentRouter(Router):
    """A Router that looks at the request's first path segment before it tries any route."""

    _by_segment: dict[str, Router]
    _others: Router
    _indexed: int = -1  # len(self.routes) when the groups were made

    def _index(self) -> None:
        keys = [_segment_of(route) for route in self.routes]

        def sub(segment: str | None) -> Router:
            chosen = [r for r, k in zip(self.routes, keys, strict=True) if k in (segment, _ANY)]
            return Router(chosen, redirect_slashes=self.redirect_slashes, default=self.default)

        self._by_segment = {key: sub(key) for key in set(keys) - {_ANY}}
        self._others = sub(None)
        self._indexed = len(self.routes)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" or self.redirect_slashes:
            await super().app(scope, receive, send)  # a redirect may cross segments: try all
            return
        scope.setdefault("router", self)
        await self.router_for(scope).app(scope, receive, send)

    def router_for(self, scope: Scope) -> Router:
        """The router holding the routes that can take this request, in their order."""
        if self._indexed != len(self.routes):
            self._index()
        return self._by_segment.get(_segment(scope), self._others)
