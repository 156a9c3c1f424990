"""tus (docs/resumable.md) and ranged downloads for the in-process fake server (``fakes.py``),
with faults to inject: cut a PATCH after n bytes (the server keeps them, the client sees a
broken connection), answer a status instead, corrupt the result's SHA-256, forget uploads.

``FakeTus(fake)`` hooks into a ``FakeSeaTable``: upload-link answers get a ``tus_link``, the
tus routes are served, and ``/seafhttp/files/`` answers with an ETag and honours
``Range``/``If-Range``. ``AsyncFake`` puts any sync fake behind an ``httpx.AsyncClient``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx

from tests.client.fakes import SERVER, UUID, FakeSeaTable, Seen

TUS = "/seafhttp/tus/"
UPLOADS = "/seafhttp/tus-uploads/"


@dataclass
class Upload:
    length: int
    metadata: dict[str, str]
    data: bytearray = field(default_factory=bytearray)
    result: dict[str, Any] | None = None


def parse_metadata(value: str) -> dict[str, str]:
    out = {}
    for pair in value.split(","):
        key, _, b64 = pair.strip().partition(" ")
        out[key] = base64.b64decode(b64).decode()
    return out


class FakeTus:
    def __init__(self, fake: FakeSeaTable) -> None:
        self.fake = fake
        self.uploads: dict[str, Upload] = {}
        self.created = 0
        #: PATCHes to cut: keep this many bytes of the body, then break the connection.
        self.cuts: list[int] = []
        #: (method, status) answers to give instead of serving, in order.
        self.statuses: list[tuple[str, int]] = []
        #: connection errors to raise instead of serving, by method.
        self.refusals: list[str] = []
        #: PATCHes preceded by a late one (an earlier request landing now): these many bytes
        #: of the body are taken first, so the PATCH itself meets a genuine 409.
        self.late: list[int] = []
        self.corrupt = False
        self.offer_tus = True
        #: ranged downloads: cut the body after this many bytes (once per entry)
        self.download_cuts: list[int] = []
        self.ignore_range = False
        fake.hooks.append(self.hook)

    def hook(self, s: Seen) -> httpx.Response | None:
        if s.path.endswith("app-upload-link/"):
            answer = self.fake.route(s)
            if answer.status_code == 200 and self.offer_tus:
                data = json.loads(answer.content)
                data["tus_link"] = SERVER + TUS + "ticket"
                return httpx.Response(200, json=data)
            return answer
        if s.path.startswith((TUS, UPLOADS)):
            if s.method in self.refusals:
                self.refusals.remove(s.method)
                raise httpx.ConnectError("[Errno 111] Connection refused")
            for i, (method, status) in enumerate(self.statuses):
                if method == s.method:
                    del self.statuses[i]
                    return httpx.Response(status, headers={"Upload-Offset": self.offset(s)},
                                          json={"error_msg": f"injected {status}"})
            return self.tus(s)
        if s.path.startswith("/seafhttp/files/"):
            return self.download(s, self.fake.route(s))
        return None

    def offset(self, s: Seen) -> str:
        up = self.uploads.get(s.path.rsplit("/", 1)[-1])
        return str(len(up.data)) if up else "0"

    def tus(self, s: Seen) -> httpx.Response:
        assert s.headers.get("tus-resumable") == "1.0.0", s.method
        if s.method == "POST":
            self.created += 1
            uid = f"u{self.created}"
            self.uploads[uid] = Upload(
                int(s.headers["upload-length"]), parse_metadata(s.headers["upload-metadata"])
            )
            return httpx.Response(201, headers={"Location": SERVER + UPLOADS + uid, "Upload-Offset": "0"})
        up = self.uploads.get(s.path.rsplit("/", 1)[-1])
        if up is None:
            return httpx.Response(404, json={"error_msg": "upload not found"})
        if s.method == "HEAD":
            return httpx.Response(200, headers={
                "Upload-Offset": str(len(up.data)), "Upload-Length": str(up.length)
            })
        if s.method == "GET":
            return httpx.Response(200, json={
                "offset": len(up.data), "length": up.length, "complete": up.result is not None,
                "expires": None, "result": up.result,
            })
        assert s.method == "PATCH" and s.headers["content-type"] == "application/offset+octet-stream"
        if self.late and int(s.headers["upload-offset"]) == len(up.data):
            up.data += s.body[: self.late.pop(0)]
        if int(s.headers["upload-offset"]) != len(up.data):
            return httpx.Response(409, headers={"Upload-Offset": str(len(up.data))})
        body = s.body
        if self.cuts:
            up.data += body[: self.cuts.pop(0)]
            raise httpx.RemoteProtocolError("peer closed connection (injected)")
        up.data += body
        assert len(up.data) <= up.length
        headers = {"Upload-Offset": str(len(up.data))}
        if len(up.data) == up.length:
            up.result = self.complete(up)
            headers["Atoll-Upload-Result"] = json.dumps(up.result)
        return httpx.Response(204, headers=headers)

    def complete(self, up: Upload) -> dict[str, Any]:
        meta = up.metadata
        folder = meta["relative_path"]
        name = meta["filename"]
        self.fake.files[f"{folder}/{name}"] = bytes(up.data)
        digest = hashlib.sha256(up.data).hexdigest()
        result: dict[str, Any] = {
            "name": name, "size": len(up.data), "type": meta.get("file_type", "file"),
            "sha256": ("0" * 64) if self.corrupt else digest, "relative_path": folder,
            "url": f"{SERVER}/workspace/7/asset/{UUID}/{folder}/{name}",
        }
        if "table" in meta:
            result.update(row_id=meta.get("row_id", "new-row"), table_id="0000")
        return result

    def download(self, s: Seen, answer: httpx.Response) -> httpx.Response:
        if answer.status_code != 200:
            return answer
        data = answer.content
        etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        headers = {"ETag": etag, "Accept-Ranges": "bytes"}
        rng = s.headers.get("range")
        start = 0
        if rng and not self.ignore_range and s.headers.get("if-range") == etag:
            start = int(rng.removeprefix("bytes=").rstrip("-"))
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        body = data[start:]
        headers["Content-Length"] = str(len(body))
        status = 206 if start else 200
        if self.download_cuts:
            body = body[: self.download_cuts.pop(0)]  # fewer bytes than Content-Length
        return httpx.Response(status, headers=headers, content=body)


async def _trickle(data: bytes) -> AsyncIterator[bytes]:
    """The body in 64 KiB pieces, each after a checkpoint (so a cancellation can land)."""
    for i in range(0, len(data), 65536):
        await anyio.sleep(0)
        yield data[i : i + 65536]


class AsyncFake(httpx.AsyncBaseTransport):
    """A sync fake transport behind ``httpx.AsyncClient``: the request body is read first, the
    answer's body trickles out."""

    def __init__(self, fake: httpx.BaseTransport) -> None:
        self.fake = fake

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = b"".join([chunk async for chunk in request.stream])  # type: ignore[union-attr]
        sync = httpx.Request(request.method, request.url, headers=request.headers, content=body,
                             extensions=request.extensions)
        response = self.fake.handle_request(sync)
        return httpx.Response(response.status_code, headers=response.headers,
                              content=_trickle(response.read()))
