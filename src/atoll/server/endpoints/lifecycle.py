"""atoll's asset lifecycle endpoints (API token): who uses an asset, the trash, restore."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from atoll.models import Principal
from atoll.server.auth import api_principal, base_principal, context
from atoll.services import asset_refs, trash
from atoll.wire import lifecycle as wire
from atoll.wire.headers import NO_STORE


async def asset_refs_list(request: Request) -> Response:
    return await _refs(request, await api_principal(request))


async def gateway_asset_refs(request: Request) -> Response:
    """The same with the base's access token, under the api-gateway."""
    return await _refs(request, await base_principal(request, request.path_params["dtable_uuid"]))


async def _refs(request: Request, principal: Principal) -> Response:
    uses = await asset_refs.asset_uses(context(request), principal, request.query_params.get("path", ""))
    refs = [
        wire.asset_ref_json(u.table_id, u.table_name, u.row_id, u.column_key, u.column_name)
        for u in uses.uses
    ]
    return JSONResponse(wire.asset_refs_json(uses.path, uses.trashed, uses.total, refs), headers=NO_STORE)


async def asset_trash(request: Request) -> Response:
    """GET lists the trash (``?after=``), POST restores one entry (``?id=`` or ``?path=``)."""
    principal = await api_principal(request)
    ctx = context(request)
    params = request.query_params
    if request.method == "POST":
        done = await trash.restore(ctx, principal, trash_id=params.get("id"), path=params.get("path"))
        return JSONResponse(wire.restored_json(done.asset, done.renamed))
    page = await trash.list_trash(ctx, principal, after=params.get("after"))
    retention = ctx.settings.trash_retention_s
    entries = [wire.trash_entry_json(e.id, e.asset, e.deleted_at, e.deleted_by, retention) for e in page]
    next_after = page[-1].id if len(page) >= trash.TRASH_PAGE else None
    return JSONResponse(wire.asset_trash_json(entries, next_after), headers=NO_STORE)
