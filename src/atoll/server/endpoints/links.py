"""Links between rows: ``links/`` (add, update, remove), v1 ``batch-update-links/``, gateway
``query-links/`` and dtable-db ``linked-records/<uuid>/`` (get_linked_records).

Bodies and answers are ``wire.rowlinks``'s; the use cases are ``services.links``'s (which check
the principal's permission themselves). Read-only tokens get 403 on writes before the body is read.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from atoll.errors import InvalidInput
from atoll.server.auth import base_principal, context
from atoll.server.bodies import read_json
from atoll.services import access
from atoll.services import links as link_service
from atoll.services.structure import TableRef
from atoll.wire import rowlinks as w


async def links(request: Request) -> Response:
    """POST adds, PUT replaces the links of the named rows, DELETE removes."""
    principal = await base_principal(request, request.path_params["dtable_uuid"])
    access.require_write(principal)
    body = await read_json(request)
    ctx = context(request)
    if request.method == "POST":
        change = w.link_change_from_body(body, update=False)
        await link_service.change_links(ctx, principal, change, op="add")
        return JSONResponse(w.success_json())
    if request.method == "PUT":
        change = w.link_change_from_body(body, update=True)
        await link_service.change_links(ctx, principal, change, op="update")
        return JSONResponse(w.success_json())
    change = w.link_change_from_body(body, update=False)
    removed = await link_service.change_links(ctx, principal, change, op="remove")
    return JSONResponse(w.deleted_json(removed))


async def batch_update_links(request: Request) -> Response:
    return await links(request)


async def query_links(request: Request) -> Response:
    """Gateway ``query-links/`` and dtable-db ``linked-records/``: one table, one link column."""
    principal = await base_principal(request, request.path_params["dtable_uuid"])
    body = await read_json(request)
    table_id, table_name = body.get("table_id"), body.get("table_name")
    if not (isinstance(table_id, str) and table_id) and not (isinstance(table_name, str) and table_name):
        raise InvalidInput("table_id invalid.")
    ref = TableRef(
        name=table_name if isinstance(table_name, str) and table_name else None,
        table_id=table_id if isinstance(table_id, str) and table_id else None,
    )
    column = w.link_column_ref(body)
    found = await link_service.linked_records(context(request), principal, ref, column, body)
    return JSONResponse(w.linked_records_json(found))
