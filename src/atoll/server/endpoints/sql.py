"""SQL: the gateway's ``POST /api-gateway/api/v2/dtables/<uuid>/sql`` and v1's
``POST /dtable-db/api/v1/query/<uuid>/`` (body ``sql``, ``parameters``, ``convert_keys``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from atoll.server.auth import base_principal, context
from atoll.server.bodies import read_json
from atoll.services.sql import run as sql_service
from atoll.wire import json_bounds
from atoll.wire import sql as wire_sql


async def query(request: Request) -> Response:
    principal = await base_principal(request, request.path_params["dtable_uuid"])
    body = await read_json(request, required=False)
    by_name = json_bounds.as_bool(body.get("convert_keys"), "convert_keys", False)
    json_bounds.as_bool(body.get("server_only"), "server_only", True)  # accepted; every query runs here
    result = await sql_service.run_sql(
        context(request), principal, sql=body.get("sql"), parameters=body.get("parameters"), by_name=by_name
    )
    return JSONResponse(wire_sql.sql_json(result.metadata, result.results, result.affected_rows))
