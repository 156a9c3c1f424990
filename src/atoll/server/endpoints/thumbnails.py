"""``/thumbnail/workspace/<wid>/asset/<uuid>/<path>?size=N``: a small JPEG or PNG of an image
or PDF asset, with the asset URL's auth (API token or access token of the base)."""

from __future__ import annotations

import os

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from atoll.db.thumbnails import CachedThumb
from atoll.errors import NotFound
from atoll.server import streaming
from atoll.server.auth import any_principal, context
from atoll.server.endpoints.transfer import SMALL_FILE_BYTES
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
    try:
        return await _send(request, answer.thumb, headers)
    except FileNotFoundError:  # the cached blob is gone (removed by hand): make it anew, once
        await svc.forget(ctx, answer.asset, size)
        thumb = await svc.ensure(ctx, answer.asset, size)
        try:
            return await _send(request, thumb, headers)
        except FileNotFoundError:
            raise NotFound("Thumbnail not found.") from None


async def _send(request: Request, thumb: CachedThumb, headers: dict[str, str]) -> Response:
    """A small thumbnail on local disk in one read (as small downloads are); else streamed from
    the blob store, its first chunk read before answering (so a missing blob is found first)."""
    blobs = context(request).blobs
    local = blobs.local_path(thumb.blob_key)
    if local is not None and thumb.bytes <= SMALL_FILE_BYTES:
        return Response(_read_small(str(local)), headers=headers, media_type=thumb.media_type)
    chunks = blobs.open(thumb.blob_key)
    first = await streaming.first_chunk(chunks)
    headers["content-length"] = str(thumb.bytes)
    return StreamingResponse(streaming.after_first(first, chunks), headers=headers,
                             media_type=thumb.media_type)


def _read_small(path: str) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        return os.read(fd, SMALL_FILE_BYTES + 1)
    finally:
        os.close(fd)
