"""``/thumbnail/workspace/<wid>/asset/<uuid>/<path>?size=N``: a small JPEG or PNG of an image
or PDF asset, with the asset URL's auth (API token or access token of the base)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from atoll.db.thumbnails import CachedThumb
from atoll.errors import NotFound
from atoll.server.auth import any_principal, context
from atoll.services.thumbs import service as svc
from atoll.wire.headers import CACHE_CONTROL, NOSNIFF, PRIVATE_NO_STORE


async def thumbnail(request: Request) -> Response:
    ctx = context(request)
    principal = await any_principal(request)
    size = svc.parse_size(request.query_params.get("size"), ctx.settings)
    answer = await svc.thumbnail(
        ctx,
        principal,
        workspace_id=request.path_params["workspace_id"],
        dtable_uuid=request.path_params["dtable_uuid"],
        path=request.path_params["path"],
        size=size,
        if_none_match=request.headers.get("if-none-match"),
    )
    headers = {"etag": answer.etag, **PRIVATE_NO_STORE, **NOSNIFF}
    if answer.thumb is None:
        return Response(status_code=304, headers={k: headers[k] for k in ("etag", CACHE_CONTROL)})
    thumb = answer.thumb
    try:
        chunks, first = await _open(request, thumb)
    except FileNotFoundError:  # the cached blob is gone (removed by hand): make it anew, once
        await svc.forget(ctx, answer.asset, size)
        thumb = await svc.ensure(ctx, answer.asset, size)
        try:
            chunks, first = await _open(request, thumb)
        except FileNotFoundError:
            raise NotFound("Thumbnail not found.") from None
    headers["content-length"] = str(thumb.bytes)

    async def body() -> AsyncIterator[bytes]:
        try:
            if first:
                yield first
            async for chunk in chunks:
                yield chunk
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]

    return StreamingResponse(body(), headers=headers, media_type=thumb.media_type)


async def _open(request: Request, thumb: CachedThumb) -> tuple[AsyncIterator[bytes], bytes]:
    """The blob's chunks and the first of them (so a missing blob is found before answering)."""
    chunks = context(request).blobs.open(thumb.blob_key)
    try:
        return chunks, await anext(chunks)
    except StopAsyncIteration:
        return chunks, b""
