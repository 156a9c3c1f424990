"""An in-process fake of the SeaTable endpoints the SDK uses, as an httpx transport.

Unlike ``httpx.MockTransport`` it never calls ``request.read()``: request bodies are consumed
chunk by chunk (multipart parsed with python-multipart's streaming parser, file parts hashed,
not stored), so tests can prove that uploads stream.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

import httpx
from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header

UUID = "650d8a0d-7e27-46a8-8b18-6cc6f3db2057"
SERVER = "http://atoll.test"
API_TOKEN = "a" * 40
JWT = "jwt-1"


@dataclass
class Part:
    name: str
    filename: str | None
    headers: dict[str, str]
    size: int = 0
    sha256: str = ""
    value: bytes = b""


@dataclass
class Seen:
    """One request as the fake server saw it."""

    method: str
    url: httpx.URL
    headers: httpx.Headers
    body: bytes = b""
    parts: list[Part] = field(default_factory=list)
    body_size: int = 0
    chunks: int = 0
    extensions: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return self.url.path

    @property
    def params(self) -> list[tuple[str, str]]:
        return parse_qsl(self.url.query.decode(), keep_blank_values=True)

    def json(self) -> Any:
        return json.loads(self.body)

    def fields(self) -> dict[str, str]:
        return {p.name: p.value.decode() for p in self.parts if p.filename is None}

    def file(self) -> Part:
        return next(p for p in self.parts if p.filename is not None)


def _consume_multipart(request: httpx.Request, seen: Seen) -> None:
    ctype, opts = parse_options_header(request.headers["content-type"])
    assert ctype == b"multipart/form-data"
    state: dict[str, Any] = {}

    def on_part_begin() -> None:
        state["headers"] = {}
        state["hash"] = hashlib.sha256()
        state["size"] = 0
        state["value"] = bytearray()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["hf"] = state.get("hf", b"") + data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["hv"] = state.get("hv", b"") + data[start:end]

    def on_header_end() -> None:
        state["headers"][state.pop("hf").decode().lower()] = state.pop("hv").decode()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        state["hash"].update(chunk)
        state["size"] += len(chunk)
        if len(state["value"]) < 4096:
            state["value"] += chunk[:4096]

    def on_part_end() -> None:
        _, dopts = parse_options_header(state["headers"]["content-disposition"])
        fname = dopts.get(b"filename")
        seen.parts.append(
            Part(
                name=dopts[b"name"].decode(),
                filename=fname.decode() if fname is not None else None,
                headers=state["headers"],
                size=state["size"],
                sha256=state["hash"].hexdigest(),
                value=bytes(state["value"]),
            )
        )

    parser = MultipartParser(
        opts[b"boundary"],
        callbacks={  # type: ignore[arg-type,unused-ignore]
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    for chunk in request.stream:  # type: ignore[union-attr,unused-ignore]
        seen.body_size += len(chunk)
        seen.chunks += 1
        parser.write(chunk)
    parser.finalize()


Handler = Callable[[Seen], httpx.Response | None]


class FakeSeaTable(httpx.BaseTransport):
    """Answers like atoll/SeaTable; ``hooks`` can override any answer (return a Response)."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.hooks: list[Handler] = []
        self.files: dict[str, bytes] = {"files/2025-08/a b.txt": b"hello world"}
        self.custom: dict[str, bytes] = {"Main/sky.png": b"\x89PNG..."}
        self.uploads: list[str] = []
        self.jwt = JWT

    # -- transport ----------------------------------------------------------------------

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        seen = Seen(request.method, request.url, request.headers, extensions=request.extensions)
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            _consume_multipart(request, seen)
        else:
            seen.body = b"".join(request.stream)  # type: ignore[arg-type,union-attr,unused-ignore]
            seen.body_size = len(seen.body)
        self.seen.append(seen)
        for hook in self.hooks:
            answer = hook(seen)
            if answer is not None:
                return answer
        return self.route(seen)

    # -- routes -------------------------------------------------------------------------

    def route(self, s: Seen) -> httpx.Response:
        p = s.path
        q = dict(s.params)
        web = "/api/v2.1/dtable/"
        gw = f"/api-gateway/api/v2/dtables/{UUID}/"
        if p.startswith(web):
            if s.headers.get("authorization") != f"Token {API_TOKEN}":
                return httpx.Response(403, json={"error_msg": "Permission denied."})
        elif p.startswith(gw) and s.headers.get("authorization") != f"Token {self.jwt}":
            return httpx.Response(403, json={"error_msg": "Token expired."})
        if p == web + "app-access-token/":
            return httpx.Response(200, json={
                "app_name": "t", "access_token": self.jwt, "dtable_uuid": UUID,
                "dtable_server": SERVER + "/api-gateway/", "dtable_db": SERVER + "/dtable-db/",
                "workspace_id": 7, "dtable_name": "Demo", "use_api_gateway": True,
            })
        if p == web + "app-upload-link/":
            return httpx.Response(200, json={
                "upload_link": SERVER + "/seafhttp/upload-api/tok-sys",
                "parent_path": f"/asset/{UUID}",
                "img_relative_path": "images/2025-08", "file_relative_path": "files/2025-08",
            })
        if p == web + "custom/app-upload-link/":
            path = q["path"]
            if path != "/" and path.strip("/") not in ("Main",):
                return httpx.Response(404, json={"error_msg": "parent_dir not found."})
            return httpx.Response(200, json={
                "upload_link": SERVER + "/seafhttp/upload-api/tok-custom",
                "parent_path": f"/asset/{UUID}/custom", "relative_path": path.lstrip("/"),
            })
        if p == "/seafhttp/upload-api/tok-sys" or p == "/seafhttp/upload-api/tok-custom":
            f = s.file()
            fields = s.fields()
            folder = fields["relative_path"].strip("/")
            store = self.custom if p.endswith("custom") else self.files
            name = f.filename or ""
            key = f"{folder}/{name}".lstrip("/")
            if key in store and fields.get("replace") != "1":
                stem, dot, ext = name.rpartition(".")
                name = f"{stem} (1).{ext}" if dot else f"{name} (1)"
                key = f"{folder}/{name}".lstrip("/")
            store[key] = f.value  # first 4 KiB only
            self.uploads.append(key)
            return httpx.Response(200, json=[{"name": name, "id": "0" * 40, "size": f.size}])
        if p == web + "app-download-link/":
            path = q["path"].strip("/")
            if path not in self.files:
                return httpx.Response(400, json={"error_msg": f"path {path} not found."})
            return httpx.Response(200, json={
                "download_link": SERVER + "/seafhttp/files/t1/" + quote(path, safe="")
            })
        if p == web + "custom/app-download-link/":
            path = q["path"].strip("/")
            if path not in self.custom:
                return httpx.Response(400, json={"error_msg": f"path {path} not found."})
            return httpx.Response(200, json={
                "download_link": SERVER + "/seafhttp/files/t2/" + quote(path, safe="")
            })
        if p.startswith("/seafhttp/files/"):
            _, _, tok, enc = p.split("/", 4)[1:]
            store = self.files if tok == "t1" else self.custom
            return httpx.Response(200, content=store[unquote(enc)])
        if p == web + "custom/app-asset-file/":
            key = (q["path"].strip("/") + "/" + q["name"]).lstrip("/")
            if key not in self.custom:
                return httpx.Response(404, json={"error_msg": f"File {q['name']} not found."})
            return httpx.Response(200, json={"dirent": {
                "is_file": True, "obj_name": q["name"], "file_size": len(self.custom[key]),
                "last_update": "2025-08-01T00:00:00+00:00",
                "uuid": "2bbe9499-e1df-4086-bdd3-d130d6c91bd3",
            }})
        if p == web + "custom/app-asset-dir/":
            return httpx.Response(200, json={"dir": [], "file": [
                {"name": k.split("/")[-1]} for k in self.custom
                if k.startswith(q["path"].strip("/"))
            ]})
        if p.startswith(gw):
            return self.gateway(s, p[len(gw):])
        return httpx.Response(404, text="Not Found")

    def gateway(self, s: Seen, sub: str) -> httpx.Response:
        if sub == "metadata/":
            return httpx.Response(200, json={"metadata": {"tables": [
                {"_id": "0000", "name": "Table1", "columns": [], "views": []}
            ]}})
        if sub == "rows/" and s.method == "GET":
            return httpx.Response(200, json={"rows": [{"_id": "r1", "Name": "a"}]})
        if sub == "rows/" and s.method == "POST":
            rows = s.json()["rows"]
            return httpx.Response(200, json={
                "inserted_row_count": len(rows), "row_ids": [{"_id": "r2"}],
                "first_row": {"_id": "r2", **rows[0]},
            })
        if sub == "rows/" and s.method in ("PUT", "DELETE"):
            return httpx.Response(200, json={"success": True})
        if sub.startswith("rows/"):
            if sub == "rows/missing/":
                return httpx.Response(404, json={"error_message": "row _id not exits"})
            return httpx.Response(200, json={"_id": sub.split("/")[1], "Name": "a"})
        if sub == "columns/" and s.method == "GET":
            return httpx.Response(200, json={"columns": [{"key": "0000", "name": "Name"}]})
        if sub == "columns/":
            b = s.json()
            return httpx.Response(200, json={"key": "0001", "name": b["column_name"],
                                             "type": b["column_type"]})
        if sub == "tables/":
            return httpx.Response(200, json={"_id": "0001", "name": s.json()["table_name"]})
        if sub == "sql":
            return httpx.Response(200, json={"success": True, "metadata": [], "results": []})
        return httpx.Response(404, json={"error_message": "not found"})


def client_for(fake: httpx.BaseTransport) -> httpx.Client:
    return httpx.Client(transport=fake)


def chunks(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]
