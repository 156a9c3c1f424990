"""dtable-web asset endpoints (API token): upload/download links, custom folders, deletion."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from atoll.models import Principal
from atoll.server.auth import api_principal, context
from atoll.services import assets as svc
from atoll.services import quota
from atoll.services.context import Context
from atoll.wire import assets as wire
from atoll.wire import links
from atoll.wire.headers import NO_STORE
from atoll.wire.shapes import UploadLimits


def _param(request: Request, name: str) -> str:
    return request.query_params.get(name, "")


async def _limits(ctx: Context, principal: Principal) -> UploadLimits:
    got = await quota.limits(ctx, principal.dtable.uuid)
    return wire.limits_json(got.max_upload_bytes, got.quota_bytes, got.quota_used_bytes)


async def upload_link(request: Request) -> Response:
    principal = await api_principal(request)
    ctx = context(request)
    link = await svc.issue_upload_link(ctx, principal)
    return JSONResponse(
        wire.upload_link_json(
            ctx.settings.public_url, link.ticket, principal.dtable.uuid,
            principal.dtable.workspace_id, link.year_month, await _limits(ctx, principal),
        ),
        headers=NO_STORE,
    )


async def download_link(request: Request) -> Response:
    principal = await api_principal(request)
    ctx = context(request)
    ticket, asset = await svc.issue_download_link(ctx, principal, _param(request, "path"))
    link = links.download_url(ctx.settings.public_url, ticket=ticket, name=asset.name)
    return JSONResponse(wire.download_link_json(link), headers=NO_STORE)


async def delete_asset(request: Request) -> Response:
    principal = await api_principal(request)
    await svc.delete_asset(context(request), principal, _param(request, "path"))
    return JSONResponse(wire.success_json())


async def custom_dir(request: Request) -> Response:
    """GET lists a custom folder; POST creates one (atoll's addition)."""
    principal = await api_principal(request)
    ctx = context(request)
    path = _param(request, "path")
    if request.method == "POST":
        await svc.create_custom_dir(ctx, principal, path)
        return JSONResponse(wire.success_json())
    dirs, files = await svc.list_custom_dir(ctx, principal, path)
    return JSONResponse(wire.custom_dir_json(dirs, files))


async def custom_file(request: Request) -> Response:
    """GET describes one file of a custom folder; DELETE moves it to the trash (atoll's addition)."""
    principal = await api_principal(request)
    if request.method == "DELETE":
        path, name = _param(request, "path"), _param(request, "name")
        await svc.delete_custom_file(context(request), principal, path, name)
        return JSONResponse(wire.success_json())
    asset = await svc.custom_file_info(
        context(request), principal, _param(request, "path"), _param(request, "name")
    )
    return JSONResponse(wire.custom_file_json(asset))


async def custom_upload_link(request: Request) -> Response:
    principal = await api_principal(request)
    ctx = context(request)
    link = await svc.issue_custom_upload_link(ctx, principal, _param(request, "path") or "/")
    return JSONResponse(
        wire.custom_upload_link_json(
            ctx.settings.public_url, link.ticket, principal.dtable.uuid,
            link.relative_path, principal.dtable.workspace_id, await _limits(ctx, principal),
        ),
        headers=NO_STORE,
    )


async def custom_download_link(request: Request) -> Response:
    principal = await api_principal(request)
    ctx = context(request)
    path = svc.custom_asset_path(_param(request, "path"))
    ticket, asset = await svc.issue_download_link(ctx, principal, path)
    link = links.download_url(ctx.settings.public_url, ticket=ticket, name=asset.name)
    return JSONResponse(wire.download_link_json(link), headers=NO_STORE)

