"""The zip download (atoll's addition): ``GET app-zip/`` with the API token and
``GET /api-gateway/api/v2/dtables/<uuid>/zip/`` with the access token. Checks run before the
answer starts (a 4xx as JSON); then the archive streams (``services/zip_download.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from atoll.models import Principal
from atoll.server.auth import api_principal, base_principal, context
from atoll.services import zip_download as svc
from atoll.services.structure import TableRef
from atoll.services.zip_names import DEFAULT_TEMPLATE
from atoll.wire.disposition import content_disposition
from atoll.wire.headers import NO_STORE

MEDIA = "application/zip"


async def _principal(request: Request) -> Principal:
    if "dtable_uuid" in request.path_params:
        return await base_principal(request, request.path_params["dtable_uuid"])
    return await api_principal(request)


def zip_request(args: dict[str, str], max_row_ids: int) -> svc.ZipRequest:
    return svc.ZipRequest(
        table=TableRef.from_args(args),
        view_name=args.get("view_name") or None,
        column=args.get("column") or None,
        row_ids=svc.parse_row_ids(args.get("row_ids"), max_row_ids),
        template=args.get("template") or DEFAULT_TEMPLATE,
        deflate=svc.parse_compression(args.get("compression")),
    )


async def zip_download(request: Request) -> Response:
    principal = await _principal(request)
    ctx = context(request)
    args = zip_request(dict(request.query_params), ctx.settings.max_zip_row_ids)
    job = await svc.prepare(ctx, principal, args)
    headers = {**NO_STORE, "content-disposition": content_disposition(job.filename, inline=False)}
    stream = job.stream()

    async def body() -> AsyncIterator[bytes]:
        try:
            async for piece in stream:
                yield piece
        finally:
            await stream.aclose()  # type: ignore[attr-defined]

    return StreamingResponse(body(), headers=headers, media_type=MEDIA)
