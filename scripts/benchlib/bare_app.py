"""The bare-framework reference: the least a Starlette app on uvicorn must do to answer the
4 KiB wrk modes, without atoll's auth, tickets, metadata or limits.

Same ASGI server as atoll's ``--server uvicorn`` (one worker, ``http=httptools``, uvicorn's
default loop: uvloop when installed), same URL shapes as the nginx anchor:

* ``GET /api/v2.1/dtable/app-upload-link/``, ``app-download-link/?path=``,
  ``app-access-token/``: link JSON like the anchor's static answers (no auth);
* ``GET /seafhttp/files/<t>/<path>``: the file, read from disk on every request;
* ``POST /seafhttp/upload-api/<t>?ret-json=1``: the multipart body parsed by Starlette
  (python-multipart, streaming), the file written durably (write + fsync to a temporary name,
  rename into its folder) in the thread pool, answered ``[{"name", "id", "size"}]``;
* ``GET /workspace/<wid>/asset/<uuid>/<path>``: 302 to the download link;
* ``/api2/ping/`` for readiness.

Run: ``python bare_app.py --port N --data DIR`` (the bench's ``Bare`` server does).
"""

from __future__ import annotations

import argparse
import os
import uuid
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

TICKET = uuid.uuid4().hex
ASSET = str(uuid.uuid4())
WORKSPACE = 1
ZERO_ID = "0" * 40


def make_app(data: Path, public_url: str) -> Starlette:
    data.mkdir(parents=True, exist_ok=True)

    def file_at(rel: str) -> Path:
        p = (data / rel).resolve()
        if not p.is_relative_to(data.resolve()):
            raise ValueError(rel)
        return p

    async def ping(_: Request) -> Response:
        return JSONResponse("pong")

    async def upload_link(_: Request) -> Response:
        return JSONResponse({
            "upload_link": f"{public_url}/seafhttp/upload-api/{TICKET}",
            "parent_path": f"/asset/{ASSET}", "img_relative_path": "images/bench",
            "file_relative_path": "files/bench",
        })

    async def download_link(request: Request) -> Response:
        path = request.query_params.get("path", "")
        return JSONResponse({"download_link": f"{public_url}/seafhttp/files/{TICKET}/{path}"})

    async def access_token(_: Request) -> Response:
        return JSONResponse({"access_token": "bare", "dtable_uuid": ASSET,
                             "workspace_id": WORKSPACE})

    async def files(request: Request) -> Response:
        try:
            body = file_at(request.path_params["name"]).read_bytes()
        except (OSError, ValueError):
            return Response("file not found", status_code=404)
        return Response(body, media_type="application/octet-stream")

    async def asset(request: Request) -> Response:
        return RedirectResponse(f"{public_url}/seafhttp/files/{TICKET}/{request.path_params['path']}",
                                status_code=302)

    def store(folder: Path, name: str, up: UploadFile) -> int:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{name}.{uuid.uuid4().hex}.part"
        up.file.seek(0)
        size = 0
        with tmp.open("wb") as f:
            while chunk := up.file.read(1 << 20):
                f.write(chunk)
                size += len(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, folder / name)
        return size

    async def upload(request: Request) -> Response:
        async with request.form() as form:
            up = form.get("file")
            rel = form.get("relative_path")
            if not isinstance(up, UploadFile) or not up.filename or not isinstance(rel, str):
                return Response("No file in multipart form.", status_code=400)
            try:
                folder = file_at(rel)
            except ValueError:
                return Response("Invalid relative path.", status_code=400)
            name = os.path.basename(up.filename)
            size = await run_in_threadpool(store, folder, name, up)
        return JSONResponse([{"name": name, "id": ZERO_ID, "size": size}])

    return Starlette(routes=[
        Route("/api2/ping/", ping),
        Route("/api/v2.1/dtable/app-upload-link/", upload_link),
        Route("/api/v2.1/dtable/app-download-link/", download_link),
        Route("/api/v2.1/dtable/app-access-token/", access_token),
        Route("/seafhttp/files/{ticket}/{name:path}", files),
        Route("/seafhttp/upload-api/{ticket}", upload, methods=["POST"]),
        Route("/seafhttp/upload-api/{ticket}/", upload, methods=["POST"]),
        Route("/workspace/{wid:int}/asset/{dtable_uuid}/{path:path}", asset),
    ])


def main() -> None:
    import uvicorn

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--data", type=Path, required=True)
    a = p.parse_args()
    url = f"http://127.0.0.1:{a.port}"
    uvicorn.run(make_app(a.data, url), host="127.0.0.1", port=a.port, http="httptools",
                log_level="warning", access_log=False, log_config=None)


if __name__ == "__main__":
    main()
