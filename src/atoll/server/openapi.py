"""The OpenAPI 3.1 document, built from the route table (``server/routes.py``) alone.

Paths, methods, auth kinds, summaries and query parameters come from each route's ``Op``; path
parameters from the path template; request and response schemas from the body types
(``wire/shapes.py``) through ``wire/schema.py``; error bodies from the API family of the path
(``wire/errors.py``). Each route is served with and without its trailing slash; the document
lists the slash form once.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from starlette.routing import BaseRoute

from atoll.server.routes import ApiRoute, Auth, Op, Param, routes
from atoll.wire import shapes
from atoll.wire.errors import Family, family_for_path
from atoll.wire.schema import SchemaBuilder

_PATH_PARAM = re.compile(r"{(\w+)(?::(\w+))?}")

PATH_PARAMS = {
    "dtable_uuid": "the base's uuid",
    "row_id": "the row's _id",
    "view_name": "the view's name",
    "ticket": "the link ticket from an upload or download link",
    "name": "the file name (percent-encoded)",
    "workspace_id": "the base's workspace id",
    "path": "the asset's path inside the base, e.g. images/2026-01/a.png",
}

SECURITY_SCHEMES = {
    "apiToken": {
        "type": "apiKey", "in": "header", "name": "Authorization",
        "description": "`Token <API token>` (40 hex digits; `Bearer` works too). "
                       "Make one with `atoll token create --base NAME`.",
    },
    "accountToken": {
        "type": "apiKey", "in": "header", "name": "Authorization",
        "description": "`Token <account token>` (40 hex, from POST /api2/auth-token/; `Bearer` "
                       "works too). It opens the account routes of its user (docs/accounts.md).",
    },
    "accessToken": {
        "type": "apiKey", "in": "header", "name": "Authorization",
        "description": "`Token <access token>` (the JWT from app-access-token; `Bearer` works too). "
                       "It opens only the base it was issued for.",
    },
}
AUTH_TEXT = {
    Auth.NONE: "No authentication.",
    Auth.API_TOKEN: "API token.",
    Auth.ACCESS_TOKEN: "Access token of this base.",
    Auth.API_OR_ACCESS_TOKEN: "The base's API token or access token.",
    Auth.TICKET: "The link ticket in the URL is the credential (no header).",
    Auth.ACCOUNT_TOKEN: "Account token (from /api2/auth-token/).",
}
SECURITY: dict[Auth, list[dict[str, list[str]]]] = {
    Auth.NONE: [],
    Auth.TICKET: [],
    Auth.API_TOKEN: [{"apiToken": []}],
    Auth.ACCESS_TOKEN: [{"accessToken": []}],
    Auth.API_OR_ACCESS_TOKEN: [{"apiToken": []}, {"accessToken": []}],
    Auth.ACCOUNT_TOKEN: [{"accountToken": []}],
}
DESCRIPTION = (
    "Every route atoll serves: the SeaTable-compatible ones (dtable-web, api-gateway v2, "
    "dtable-server v1, the Seafile file server) and atoll's own (`x-seatable-compatible: false`). "
    "Every path is served with and without its trailing slash and never redirects. Errors are "
    "shaped per API family: `{\"error_msg\"}` (dtable-web, v1), `{\"error_message\"}` "
    "(api-gateway), plain text (file server); 403 `{\"error_msg\": \"Token expired.\"}` everywhere."
)


def openapi_path(path: str) -> str:
    """``/x/{name:path}`` -> ``/x/{name}``."""
    return _PATH_PARAM.sub(lambda m: "{" + m.group(1) + "}", path)


def operation_id(method: str, path: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "_", openapi_path(path)).strip("_") or "root"
    return f"{method.lower()}_{slug}"


def _param(builder: SchemaBuilder, p: Param, where: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": p.name, "in": where, "schema": builder.schema(p.type)}
    if p.description:
        out["description"] = p.description
    if p.required or where == "path":
        out["required"] = True
    return out


def _path_params(builder: SchemaBuilder, path: str) -> list[dict[str, Any]]:
    out = []
    for m in _PATH_PARAM.finditer(path):
        kind = int if m.group(2) == "int" else str
        out.append(_param(builder, Param(m.group(1), PATH_PARAMS.get(m.group(1), ""), kind), "path"))
    return out


def _content(builder: SchemaBuilder, media: str, body: Any) -> dict[str, Any]:
    schema = builder.schema(body) if body is not None and media.endswith("json") else {}
    if body is str:
        schema = {"type": "string"}
    return {media: {"schema": schema}}


def _error_response(builder: SchemaBuilder, family: Family) -> dict[str, Any]:
    if family is Family.FILE_SERVER:
        text = {"text/plain": {"schema": {"type": "string"}}}
        return {"description": "An error (plain text)", "content": text}
    body: Any = shapes.ErrorMsg
    if family is Family.GATEWAY:
        body = shapes.ErrorMessage | shapes.ErrorMsg
    return {"description": "An error", "content": _content(builder, "application/json", body)}


def _operation(builder: SchemaBuilder, route: ApiRoute, method: str, op: Op) -> dict[str, Any]:
    path = openapi_path(route.path)
    description = " ".join(x for x in (op.description, AUTH_TEXT[op.auth]) if x)
    out: dict[str, Any] = {
        "operationId": operation_id(method, path),
        "summary": op.summary,
        "description": description,
        "tags": [route.tag],
        "x-seatable-compatible": op.seatable,
        "x-auth": op.auth.value,
        "security": SECURITY[op.auth],
    }
    params = _path_params(builder, route.path) + [_param(builder, p, "query") for p in op.query]
    if params:
        out["parameters"] = params
    if op.body is not None:
        out["requestBody"] = {"required": False, "content": _content(builder, "application/json", op.body)}
    main: dict[str, Any] = {"description": "OK" if op.status < 300 else "Redirect"}
    if op.response is not None or op.media != "application/json":
        main["content"] = _content(builder, op.media, op.response)
    if op.status == 302:
        main["headers"] = {"Location": {"schema": {"type": "string"}}}
    responses: dict[str, Any] = {str(op.status): main}
    for extra in op.also:
        reply = responses.setdefault(str(extra.status), {"description": extra.description})
        if extra.media is not None:
            reply.setdefault("content", {}).update(_content(builder, extra.media, extra.body))
    if op.auth is not Auth.NONE or op.query or op.body is not None or "{" in route.path:
        family = family_for_path(route.path)
        responses.setdefault("4XX", _error_response(builder, family))
    responses.setdefault("5XX", _error_response(builder, family_for_path(route.path)))
    out["responses"] = responses
    return out


def build(table: list[BaseRoute], public_url: str, version: str) -> dict[str, Any]:
    builder = SchemaBuilder()
    paths: dict[str, dict[str, Any]] = {}
    tags: list[str] = []
    for route in table:
        if not isinstance(route, ApiRoute) or route.twin_of is not None:
            continue
        item = paths.setdefault(openapi_path(route.path), {})
        for method, op in route.ops.items():
            item[method.lower()] = _operation(builder, route, method, op)
        if route.tag not in tags:
            tags.append(route.tag)
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {"title": "atoll", "version": version, "description": DESCRIPTION,
                 "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}},
        "servers": [{"url": public_url}],
        "tags": [{"name": t} for t in tags],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(builder.components.items())),
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


@lru_cache(maxsize=8)
def document(public_url: str, version: str) -> dict[str, Any]:
    """The document for this server (built once per public URL and version). Do not mutate."""
    return build(routes(), public_url, version)
