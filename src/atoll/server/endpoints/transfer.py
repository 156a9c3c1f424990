"""The byte paths: the file server's upload-api and files URLs, and asset URLs from cells."""

from __future__ import annotations

import os
from pathlib import Path

from starlette.requests import ClientDisconnect, Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

from atoll.errors import AuthenticationFailed, NotFound, PayloadTooLarge, PermissionDenied
from atoll.models import Asset, Ticket
from atoll.server import pages, streaming
from atoll.server.auth import any_principal, context, ticket
from atoll.server.bodies import declared_length
from atoll.server.endpoints import tus
from atoll.server.negotiation import prefers_html
from atoll.server.ranges import ByteRange, RangeNotSatisfiable, parse_range
from atoll.server.streaming import body_limit, parse_upload
from atoll.services import assets as svc
from atoll.services import blob_verify as verify
from atoll.wire import assets as wire
from atoll.wire import links
from atoll.wire.disposition import serving_headers
from atoll.wire.headers import ANY_ORIGIN, CACHE_CONTROL, CORS_PREFLIGHT, NO_STORE

#: Files up to this size are read in one go, on the event loop (a page-cache read of a few KiB
#: costs less than the hop to a worker thread), and sent from memory.
SMALL_FILE_BYTES = 64 * 1024


class _BigChunkFileResponse(FileResponse):
    chunk_size = 1024 * 1024  # 64 KiB (the default) costs 4x throughput on uvicorn


async def upload(request: Request) -> Response:
    if request.method == "OPTIONS":
        return Response(status_code=200, headers=CORS_PREFLIGHT)
    t = ticket(request, request.path_params["ticket"], "upload")
    if "content-range" in request.headers:
        return await tus.chunked_upload(request, t)
    ctx = context(request)
    length = declared_length(request)
    if length is not None and length > body_limit(ctx.settings.max_upload_bytes):
        raise PayloadTooLarge(f"File size is too large: the limit is {ctx.settings.max_upload_bytes} bytes.")
    job = svc.Upload(ctx, t, size_hint=length)
    await job.admit()  # 507 before the body is read when it would cross the free-space reserve
    try:
        await parse_upload(request.stream(), request.headers.get("content-type"), job, ctx.settings)
        stored = await job.finish()
    except ClientDisconnect:
        await job.abort()
        return PlainTextResponse("Client disconnected.", status_code=400)
    except BaseException:
        await job.abort()
        raise
    headers = ANY_ORIGIN
    if "ret-json" in request.query_params:
        return JSONResponse(wire.uploaded_json(stored), headers=headers)
    return PlainTextResponse(wire.uploaded_text(stored), headers=headers)


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


def _open_blob(path: Path) -> tuple[os.stat_result, bytes | None]:
    """Stat a blob and, when it is small, read it in the same worker-thread call."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        stat = os.fstat(fd)
        if stat.st_size > SMALL_FILE_BYTES:
            return stat, None
        return stat, os.read(fd, SMALL_FILE_BYTES + 1)
    finally:
        os.close(fd)


async def download(request: Request) -> Response:
    t = ticket(request, request.path_params["ticket"], "download")
    ctx = context(request)
    asset = await svc.resolve_download(ctx, t)
    force = request.query_params.get("dl") == "1"
    media, headers = serving_headers(asset.name, asset.sha256, force_download=force)
    if _etag_matches(request.headers.get("if-none-match"), headers["etag"]):
        return Response(status_code=304, headers={k: headers[k] for k in ("etag", CACHE_CONTROL)})
    check = verify.policy_applies(ctx.settings.verify_downloads, ctx.settings.verify_small_bytes, asset.size)
    if ctx.blobs.local_path(asset.blob_key) is not None:
        if check == "none":
            return await _send_local(request, t, asset, media, headers)
    elif ctx.settings.s3_presigned_downloads:  # the bytes do not pass through atoll: unchecked
        url = await ctx.blobs.presign(
            asset.blob_key, disposition=headers["content-disposition"], media_type=media,
            expires_s=ctx.settings.s3_presign_ttl_s,
        )
        if url is not None:
            return RedirectResponse(url, status_code=302, headers=NO_STORE)
    if check == "small" and request.method == "GET":
        return await _send_verified(request, t, asset, media, headers)
    return await _send_stream(request, asset, media, headers, verify_hash=check == "stream")


async def _send_verified(
    request: Request, t: Ticket, asset: Asset, media: str, headers: dict[str, str]
) -> Response:
    """A small blob, read whole and checked against its SHA-256 before any byte is sent
    (``services.blob_verify``); a Range is cut from the checked bytes."""
    ctx = context(request)
    try:
        data = await _read_checked(request, asset)
    except FileNotFoundError:  # replaced between lookup and open: look again once
        asset = await svc.resolve_download(ctx, t)
        try:
            data = await _read_checked(request, asset)
        except FileNotFoundError:
            raise NotFound("File not found") from None
    headers["accept-ranges"] = "bytes"
    try:
        wanted = _wanted_range(request, headers, asset.size)
    except RangeNotSatisfiable as exc:
        return Response(status_code=416, headers={"content-range": str(exc)})
    if wanted is None:
        return Response(data, headers=headers, media_type=media)
    headers["content-range"] = wanted.content_range(asset.size)
    return Response(data[wanted.start : wanted.end], status_code=206, headers=headers, media_type=media)


async def _read_checked(request: Request, asset: Asset) -> bytes:
    """The blob's checked bytes: a small local file in one read on the event loop (as
    ``_send_local`` does), anything else through the store."""
    store = context(request).blobs
    local = store.local_path(asset.blob_key)
    if local is not None and asset.size <= SMALL_FILE_BYTES:
        _, small = _open_blob(local)
        if small is not None:
            verify.check(asset, small)
            return small
    return await verify.read_small(store, asset)


def _wanted_range(request: Request, headers: dict[str, str], size: int) -> ByteRange | None:
    """The one byte range asked for (honouring If-Range), or None for the whole file."""
    if_range = request.headers.get("if-range")
    ranged = request.headers.get("range") if if_range is None or if_range == headers["etag"] else None
    return parse_range(ranged, size)


async def _send_local(
    request: Request, t: Ticket, asset: Asset, media: str, headers: dict[str, str]
) -> Response:
    """A file on local disk: FileResponse (sendfile, ranges) or, when small, one read."""
    ctx = context(request)
    try:
        local = ctx.blobs.local_path(asset.blob_key)
        assert local is not None
        stat, small = _open_blob(local)
    except FileNotFoundError:  # replaced between lookup and open: look again once
        asset = await svc.resolve_download(ctx, t)
        local = ctx.blobs.local_path(asset.blob_key)
        assert local is not None
        stat, small = _open_blob(local)
    if small is not None and request.method == "GET" and "range" not in request.headers:
        headers["accept-ranges"] = "bytes"
        return Response(small, headers=headers, media_type=media)
    return _BigChunkFileResponse(local, headers=headers, media_type=media, stat_result=stat)


async def _send_stream(
    request: Request, asset: Asset, media: str, headers: dict[str, str], *, verify_hash: bool = False
) -> Response:
    """Stream from the blob store, one range at most; the first chunk is read before answering,
    so a missing blob is a 404 rather than a cut-off 200. With ``verify_hash`` a whole-file
    answer is hashed as it goes and cut short on a mismatch (``services.blob_verify``)."""
    headers["accept-ranges"] = "bytes"
    try:
        wanted = _wanted_range(request, headers, asset.size)
    except RangeNotSatisfiable as exc:
        return Response(status_code=416, headers={"content-range": str(exc)})
    span = wanted or ByteRange(0, asset.size)
    headers["content-length"] = str(span.length)
    status = 200
    if wanted is not None:
        status, headers["content-range"] = 206, wanted.content_range(asset.size)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=media)
    chunks = context(request).blobs.open(asset.blob_key, span.start, span.end)
    if verify_hash and wanted is None:
        chunks = verify.verified_stream(chunks, asset)
    try:
        first = await streaming.first_chunk(chunks)
    except FileNotFoundError:
        raise NotFound("File not found") from None

    return StreamingResponse(streaming.after_first(first, chunks), status_code=status, headers=headers,
                             media_type=media)


def _browser_forbidden(request: Request) -> Response:
    """The 403 for a browser that opened a cell's URL: a short page on how to get a link."""
    docs = context(request).settings.public_url + "/docs"
    return HTMLResponse(pages.asset_forbidden(docs), status_code=403,
                        headers={**pages.HTML_HEADERS, **NO_STORE, "vary": "Accept"})


async def asset_url(request: Request) -> Response:
    """``/workspace/<wid>/asset/<uuid>/<path>``: redirect to a ticketed link (HEAD: 200/404).
    Without a valid token: 403, as an HTML page when the request prefers text/html (a browser
    opening the URL), the family's JSON error otherwise (API clients)."""
    ctx = context(request)
    try:
        principal = await any_principal(request)
        link_ticket, asset = await svc.asset_at_url(
            ctx,
            principal,
            workspace_id=request.path_params["workspace_id"],
            dtable_uuid=request.path_params["dtable_uuid"],
            path=request.path_params["path"],
        )
    except (AuthenticationFailed, PermissionDenied):
        if request.method == "GET" and prefers_html(request):
            return _browser_forbidden(request)
        raise
    if request.method == "HEAD":
        return Response(status_code=200, headers={"content-length": str(asset.size)})
    link = links.download_url(ctx.settings.public_url, ticket=link_ticket, name=asset.name)
    if request.query_params.get("dl") == "1":
        link += "?dl=1"
    return RedirectResponse(link, status_code=302)
