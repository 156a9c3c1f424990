"""SegmentRouter picks the same route as Starlette's router would for every route (and for
paths no route takes), while trying only the routes of the path's first segment."""

from __future__ import annotations

import re

import pytest
from starlette.routing import BaseRoute, Match, Route

from atoll.server.dispatch import SegmentRouter
from atoll.server.routes import routes

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")


def _sample(path: str) -> str:
    """A concrete path the route's template matches."""
    path = re.sub(r"\{[^}:]+:int\}", "7", path)
    path = re.sub(r"\{[^}:]+:path\}", "a/b.txt", path)
    return re.sub(r"\{[^}]+\}", "x1", path)


def _scope(path: str, method: str, root_path: str = "") -> dict[str, object]:
    return {"type": "http", "path": root_path + path, "root_path": root_path, "method": method,
            "headers": []}


def _first(candidates: list[BaseRoute], scope: dict[str, object]) -> BaseRoute | None:
    partial = None
    for route in candidates:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
        if match is Match.PARTIAL and partial is None:
            partial = route
    return partial


def _paths() -> list[str]:
    made = [_sample(r.path) for r in routes() if isinstance(r, Route)]
    return [*made, "/", "/nope", "/api/nope/", "/seafhttp/", "/api-gateway/api/v2/dtables/x/nope/",
            "/workspace/7/asset/x/", "//double", "", "x-no-slash"]


@pytest.mark.parametrize("root_path", ["", "/atoll"])
@pytest.mark.parametrize("method", METHODS)
def test_every_path_gets_the_route_the_plain_router_picks(method: str, root_path: str) -> None:
    all_routes = routes()
    router = SegmentRouter(all_routes, redirect_slashes=False)
    tried = 0
    for path in _paths():
        scope = _scope(path, method, root_path)
        sub = router.router_for(scope)
        assert _first(sub.routes, scope) is _first(all_routes, scope), (method, path)
        tried += len(sub.routes)
    assert tried < len(_paths()) * len(all_routes) / 2  # it does narrow the search


def test_a_route_with_a_parameter_first_is_tried_for_every_segment() -> None:
    async def endpoint(request: object) -> None: ...

    catch_all = Route("/{anything:path}", endpoint)
    fixed = Route("/api/x", endpoint)
    router = SegmentRouter([fixed, catch_all], redirect_slashes=False)
    for path in ("/api/x", "/other/y", "/"):
        scope = _scope(path, "GET")
        assert _first(router.router_for(scope).routes, scope) is _first([fixed, catch_all], scope)
