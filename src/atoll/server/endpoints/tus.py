"""Resumable uploads over HTTP: tus 1.0 (``/seafhttp/tus/<ticket>`` creates,
``/seafhttp/tus-uploads/<id>`` is one upload) and the Seafile-style chunks on ``upload-api``
(``chunked_upload``, ``uploaded_bytes``). docs/resumable.md is the protocol."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from atoll.db import uploads as uq
from atoll.errors import InvalidInput, PayloadTooLarge, PreconditionFailed, UnsupportedMediaType
from atoll.models import Ticket
from atoll.server.auth import context, ticket
from atoll.server.bodies import declared_length
from atoll.server.streaming import parse_upload
from atoll.services import resumable, upload_targets
from atoll.services.chunked import ChunkConflict, ChunkUpload, held_bytes
from atoll.services.space import SpaceGuard
from atoll.wire import chunks as wire_chunks
from atoll.wire import links, tus
from atoll.wire.assets import uploaded_json_from_result
from atoll.wire.headers import ANY_ORIGIN

#: Methods a client behind a PATCH-dropping proxy may tunnel through POST.
OVERRIDABLE = frozenset({"PATCH", "DELETE", "HEAD", "GET"})


def _method(request: Request) -> str:
    override = request.headers.get("x-http-method-override", "").upper()
    return override if request.method == "POST" and override in OVERRIDABLE else request.method


def _require_tus(request: Request) -> None:
    if request.headers.get("tus-resumable") != tus.TUS_VERSION:
        raise PreconditionFailed(f"Tus-Resumable: {tus.TUS_VERSION} is the only version served.")


async def _body(request: Request) -> AsyncIterator[bytes]:
    """The request body; a client that goes away just ends it (what arrived is kept)."""
    try:
        async for chunk in request.stream():
            yield chunk
    except ClientDisconnect:
        return


def _has_body(request: Request) -> bool:
    length = declared_length(request)
    return (length is not None and length > 0) or "chunked" in request.headers.get("transfer-encoding", "")


def _offset_headers(session: uq.UploadSession) -> dict[str, str]:
    headers = {**tus.common_headers(), "Upload-Offset": str(session.received),
               "Upload-Expires": tus.expires(session.expires_at)}
    if session.state == uq.DONE and session.result is not None:
        headers["Upload-Offset"] = str(session.length)
        headers[tus.RESULT_HEADER] = tus.result_header(session.result)
    return headers


async def _write(request: Request, session: uq.UploadSession, *, creation: bool = False) -> uq.UploadSession:
    """One request's bytes (creation-with-upload or PATCH) appended at the session's offset."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != tus.OFFSET_CONTENT_TYPE:
        raise UnsupportedMediaType(f"Content-Type must be {tus.OFFSET_CONTENT_TYPE}.")
    ctx = context(request)
    header = request.headers.get("upload-checksum")
    checksum = resumable.Checksum.parse(header) if header else None
    declared = declared_length(request)
    await SpaceGuard(ctx, declared).admit()
    # a PATCH must say where its bytes go (tus core); creation-with-upload starts at 0
    offset = 0 if creation else tus.parse_length(request.headers.get("upload-offset"), "Upload-Offset")
    return await resumable.append(ctx, session, _body(request), offset=offset, checksum=checksum,
                                  declared=declared)


async def create(request: Request) -> Response:
    """``OPTIONS``: discovery. ``POST``: a new upload (and its first bytes, if sent)."""
    ctx = context(request)
    if request.method == "OPTIONS":
        return Response(status_code=204, headers=tus.discovery_headers(ctx.settings.max_upload_bytes))
    t = ticket(request, request.path_params["ticket"], "upload")
    _require_tus(request)
    for unsupported in ("upload-defer-length", "upload-concat"):
        if unsupported in request.headers:
            raise InvalidInput(f"{unsupported.title()} is not supported: send Upload-Length.")
    length = tus.parse_length(request.headers.get("upload-length"), "Upload-Length")
    await SpaceGuard(ctx, length).admit()
    raw = request.headers.get("upload-metadata", "")
    target = await upload_targets.from_tus_metadata(ctx, t, tus.parse_metadata(raw), raw)
    upload_id, session = await resumable.create(ctx, target, length=length)
    if _has_body(request) or length == 0:
        if length == 0:
            session = await resumable.append(ctx, session, _body(request), offset=0)
        else:
            session = await _write(request, session, creation=True)
    headers = {**_offset_headers(session), "Location": links.tus_upload_url(ctx.settings.public_url,
                                                                            upload_id=upload_id)}
    return Response(status_code=201, headers=headers)


async def upload(request: Request) -> Response:
    """One upload: ``HEAD`` (offset), ``PATCH`` (bytes), ``DELETE``, ``GET`` (status JSON)."""
    ctx = context(request)
    method = _method(request)
    if method == "OPTIONS":
        return Response(status_code=204, headers=tus.discovery_headers(ctx.settings.max_upload_bytes))
    session = await resumable.find(ctx, request.path_params["upload_id"])
    if method != "GET":
        _require_tus(request)
    if method == "HEAD":
        headers = {**_offset_headers(session), "Upload-Length": str(session.length)}
        if session.upload_metadata:
            headers["Upload-Metadata"] = session.upload_metadata
        return Response(status_code=200, headers=headers)
    if method == "GET":
        return JSONResponse(tus.status_json(
            offset=session.received if session.state != uq.DONE else session.length, length=session.length,
            complete=session.state == uq.DONE, expires_at=session.expires_at, result=session.result,
        ), headers=tus.common_headers())
    if method == "DELETE":
        await resumable.terminate(ctx, session)
        return Response(status_code=204, headers=tus.common_headers())
    if method == "PATCH":
        return Response(status_code=204, headers=_offset_headers(await _write(request, session)))
    allow = {"Allow": "HEAD, PATCH, DELETE, GET, OPTIONS"}
    return Response(status_code=405, headers={**tus.common_headers(), **allow})


# ---------------------------------------------------------------- Seafile-style chunks


async def chunked_upload(request: Request, t: Ticket) -> Response:
    """``upload-api`` with ``Content-Range``: one chunk of one file."""
    ctx = context(request)
    chunk = wire_chunks.parse_content_range(request.headers["content-range"])
    if chunk.total > ctx.settings.max_upload_bytes:
        raise PayloadTooLarge(
            f"File size is too large: the limit is {ctx.settings.max_upload_bytes} bytes.")
    job = ChunkUpload(ctx, t, chunk, wire_chunks.disposition_name(request.headers.get("content-disposition")))
    try:
        await SpaceGuard(ctx, chunk.size).admit()
        await parse_upload(request.stream(), request.headers.get("content-type"), job, ctx.settings)
        result = await job.finish()
    except ChunkConflict as exc:
        return JSONResponse(wire_chunks.held_json(exc.message, exc.held), status_code=409, headers=ANY_ORIGIN)
    except ClientDisconnect:
        return Response("Client disconnected.", status_code=400)
    finally:
        await job.close()
    if result is None:
        return JSONResponse({"success": True}, headers=ANY_ORIGIN)
    return JSONResponse(uploaded_json_from_result(result), headers=ANY_ORIGIN)


async def uploaded_bytes(request: Request) -> Response:
    """How many bytes of a chunked upload the server holds: ``{"uploadedBytes": n}``."""
    t = ticket(request, request.path_params["ticket"], "upload")
    q = request.query_params
    name = q.get("file_name")
    if not name:
        raise InvalidInput("file_name is required.")
    held = await held_bytes(context(request), t, parent_dir=q.get("parent_dir"),
                            relative_path=q.get("relative_path"), file_name=name)
    return JSONResponse(wire_chunks.uploaded_bytes_json(held), headers=ANY_ORIGIN)
