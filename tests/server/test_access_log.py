"""The access log, request ids and the stop line (docs/deployment.md, "Logs").

Live tests run ``atoll serve`` (uvicorn and granian, text and JSON) and read what it wrote;
unit tests pin the redaction and the two formats.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from atoll.server import accesslog
from atoll.server.accesslog import (
    REDACTED,
    JsonFormatter,
    TextFormatter,
    accept_request_id,
    redact_path,
    redact_query,
)
from tests.conftest import MakeApp
from tests.errors import error_of
from tests.live_server import LiveServer

TEXT_LINE = re.compile(
    r"^\S+Z (?P<client>\S+) (?P<method>\S+) (?P<path>\S+) (?P<status>\d+) (?P<bytes>\d+)B "
    r"(?P<ms>[\d.]+)ms rid=(?P<rid>\S+)(?P<rest>.*)$"
)
ACCESS_TOKEN_PATH = "/api/v2.1/dtable/app-access-token/"


def access_lines(log: str, log_format: str) -> list[dict[str, Any]]:
    """Every access line of a server log, as fields."""
    out: list[dict[str, Any]] = []
    for line in log.splitlines():
        if log_format == "json":
            if not line.startswith("{"):
                continue
            record = json.loads(line)  # every record is one JSON object
            if record["logger"] == "atoll.access":
                out.append(record)
        else:
            m = TEXT_LINE.match(line)
            if m:
                path, _, query = m["path"].partition("?")
                out.append({"client": m["client"], "method": m["method"], "path": path,
                            "query": query, "status": int(m["status"]), "bytes": int(m["bytes"]),
                            "duration_ms": float(m["ms"]), "request_id": m["rid"]})
    return out


def one_line(lines: list[dict[str, Any]], rid: str) -> dict[str, Any]:
    mine = [line for line in lines if line["request_id"] == rid]
    assert len(mine) == 1, (rid, mine)
    return mine[0]


@pytest.mark.parametrize(("server", "log_format"), [
    ("uvicorn", "text"), ("uvicorn", "json"), ("granian", "text"), ("granian", "json"),
])
def test_one_line_per_request_without_secrets(tmp_path: Path, server: str, log_format: str) -> None:
    with LiveServer(tmp_path / "data", server=server, env={"ATOLL_LOG_FORMAT": log_format}) as live:
        api_token = live.create_token("Demo")
        auth = {"Authorization": f"Token {api_token}"}
        seen: list[tuple[httpx.Response, str, str]] = []  # response, method, route template
        with httpx.Client(base_url=live.url, timeout=30) as http:
            def call(method: str, url: str, template: str, **kw: Any) -> httpx.Response:
                r = http.request(method, url, **kw)
                seen.append((r, method, template))
                return r

            r = call("GET", ACCESS_TOKEN_PATH, ACCESS_TOKEN_PATH, headers=auth)
            access_token = r.json()["access_token"]
            link = call("GET", "/api/v2.1/dtable/app-upload-link/", "/api/v2.1/dtable/app-upload-link/",
                        headers=auth).json()
            ticket = link["upload_link"].rsplit("/", 1)[1]
            r = call("POST", link["upload_link"] + "?ret-json=1", "/seafhttp/upload-api/{ticket}",
                     data={"parent_dir": link["parent_path"], "relative_path": "files/x"},
                     files={"file": ("a.txt", b"hello log")})
            assert r.status_code == 200, r.text
            r = call("GET", "/api/v2.1/dtable/app-download-link/?path=files/x/a.txt"
                     f"&token={api_token}", "/api/v2.1/dtable/app-download-link/", headers=auth)
            download = r.json()["download_link"]
            dl_ticket = download.split("/seafhttp/files/", 1)[1].split("/", 1)[0]
            r = call("GET", download, "/seafhttp/files/{ticket}/{name}")
            assert r.content == b"hello log"
            # errors: a JSON one, a file-server text one, an unknown route holding a ticket
            call("GET", "/api/v2.1/dtable/app-download-link/?path=nope",
                 "/api/v2.1/dtable/app-download-link/", headers=auth)
            call("GET", f"/seafhttp/files/{ticket}x/a.txt", "/seafhttp/files/{ticket}/{name}")
            call("GET", f"/seafhttp/files/{dl_ticket}", "/seafhttp/files/<ticket>")
            call("GET", f"/api-gateway/api/v2/dtables/{link['parent_path'][7:]}/rows/?table_name=T",
                 "/api-gateway/api/v2/dtables/{dtable_uuid}/rows/",
                 headers={"Authorization": f"Token {access_token}"})
        live.stop()
        log = live.log_path.read_text()

    for secret in (api_token, access_token, ticket, dl_ticket):
        assert secret not in log
    lines = access_lines(log, log_format)
    for r, method, template in seen:
        rid = r.headers["x-request-id"]
        line = one_line(lines, rid)
        assert (line["method"], line["path"], line["status"]) == (method, template, r.status_code)
        assert line["bytes"] == len(r.content) and line["duration_ms"] >= 0
        assert line["client"] == "127.0.0.1"
        if r.status_code >= 400:
            error_of(r)  # the body carries the same id
    assert one_line(lines, seen[3][0].headers["x-request-id"])["query"] == (
        f"path=files/x/a.txt&token={REDACTED}")
    if log_format == "json":
        assert all(line.startswith("{") for line in log.splitlines())  # nothing but JSON
    # The stop signal can arrive while the server still finishes the last exchange the client has
    # already read (it was "drained 1" now and then): what must hold is that every request was
    # served and none was cut off. The readiness probe is the one request more than `seen`.
    stopped = re.search(r"atoll stopped: drained (\d+) request\(s\) in flight, served (\d+) since start(.*)",
                        log)
    assert stopped is not None, log[-2000:]
    assert int(stopped[1]) <= 1 and int(stopped[2]) == len(seen) + 1 and "cut off" not in stopped[3]


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_request_ids_echoed_when_sane_replaced_when_hostile(tmp_path: Path, server: str) -> None:
    with LiveServer(tmp_path / "data", server=server) as live:
        r = httpx.get(live.url + "/api2/ping/", headers={"X-Request-Id": "lb-4f2a.9:x=1"})
        assert r.headers["x-request-id"] == "lb-4f2a.9:x=1"
        r = httpx.get(live.url + "/nope", headers={"X-Request-Id": "trace-0001"})
        assert r.status_code == 404 and r.headers["x-request-id"] == "trace-0001"
        assert error_of(r)["error_msg"].startswith("No such path: /nope.")
        hostile = ["x" * 65, "a b", "<script>", 'a"b', "rid\tx", "é"]
        for value in hostile:
            rid = _raw_get(live.port, "/api2/ping/", value.encode())
            assert rid != value.encode() and re.fullmatch(rb"[0-9a-f]{12}", rid), (value, rid)
        live.stop()
        log = live.log_path.read_text()
    assert "lb-4f2a.9:x=1" in log and "<script>" not in log and "x" * 65 not in log


def _raw_get(port: int, path: str, request_id: bytes) -> bytes:
    """GET over a raw socket (httpx would refuse the hostile values); the X-Request-Id answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nX-Request-Id: "
                     + request_id + b"\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0]
    assert head.startswith(b"HTTP/1.1 200"), head
    found = re.search(rb"(?im)^x-request-id: (.*?)\r?$", head)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_sigterm_drains_in_flight_requests_and_says_so(tmp_path: Path, server: str) -> None:
    with LiveServer(tmp_path / "data", server=server) as live:
        token = live.create_token("Demo")
        link = httpx.get(live.url + "/api/v2.1/dtable/app-upload-link/",
                         headers={"Authorization": f"Token {token}"}).json()
        boundary = "drain-boundary"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"parent_dir\"\r\n\r\n"
                f"{link['parent_path']}\r\n--{boundary}\r\nContent-Disposition: form-data; "
                f"name=\"file\"; filename=\"d.txt\"\r\n\r\ndrained bytes\r\n--{boundary}--\r\n").encode()
        target = link["upload_link"].split(str(live.port), 1)[1] + "?ret-json=1"
        with socket.create_connection(("127.0.0.1", live.port), timeout=30) as sock:
            sock.sendall(f"POST {target} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
                         f"boundary={boundary}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                         + body[:40])
            time.sleep(1.0)  # the upload is in flight
            live._signal(signal.SIGTERM)
            time.sleep(1.0)
            sock.sendall(body[40:])
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
                if b"drained bytes" in answer or b"d.txt" in answer:
                    break
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert live.proc is not None
        live.proc.wait(timeout=20)
        log = live.log_path.read_text()
    assert "atoll stopped: drained 1 request(s) in flight, served" in log, log[-2000:]


# -- in-process ----------------------------------------------------------------------------------
def test_server_error_body_and_traceback_carry_the_request_id(
    make_app: MakeApp, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(_request: Any) -> Any:
        raise RuntimeError("kaboom")

    app = make_app(raise_server_exceptions=False, started=False)
    app.starlette.router.routes.append(Route("/api/v2.1/boom/", boom))
    app.starlette.router.routes.append(Route("/seafhttp/boom/", boom))
    with caplog.at_level(logging.INFO), app.client as client:
        r = client.get("/api/v2.1/boom/")
        t = client.get("/seafhttp/boom/")
    assert r.status_code == 500 and error_of(r) == {"error_msg": "Internal Server Error"}
    assert t.status_code == 500 and error_of(t) == "Internal Server Error"
    rid = r.headers["x-request-id"]
    errors = [rec for rec in caplog.records if rec.exc_info]
    assert errors and rid in errors[0].getMessage()
    assert TextFormatter().format(errors[0]).count("kaboom") >= 1
    access = [rec for rec in caplog.records if rec.name == "atoll.access"]
    assert [rec.access["status"] for rec in access] == [500, 500]  # type: ignore[attr-defined]


def test_expired_token_body_keeps_what_the_official_client_matches(tmp_path: Path) -> None:
    from atoll.errors import TokenExpired
    from atoll.wire.errors import Family, error_body

    body = error_body(TokenExpired("x"), Family.GATEWAY, "abc")
    assert isinstance(body, dict)
    # seatable-api 2.6.11 and 4.0.0: err.get("error_msg") == "Token expired." and status 403
    assert body.get("error_msg") == "Token expired." and body["request_id"] == "abc"


@pytest.mark.parametrize(("value", "kept"), [
    (b"abc", True), (b"A-Z_a.z:0=9+", True), (b"x" * 64, True), (b"x" * 65, False), (b"", False),
    (b"a b", False), (b"a\x01b", False), (b"a/b", False), (b"\xc3\xa9", False), (b"a\nb", False),
])
def test_incoming_request_id(value: bytes, kept: bool) -> None:
    rid = accept_request_id([(b"host", b"x"), (b"x-request-id", value)])
    assert (rid == value.decode("latin-1")) is kept
    if not kept:
        assert re.fullmatch(r"[0-9a-f]{12}", rid)


def test_query_redaction() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXBhcnQ"
    raw = (f"path=/a b.txt&token=t1&access_token=t2&api_key=k&X-Amz-Signature=s&X-Amz-Credential=c"
           f"&ticket=t3&secret=s2&password=p&innocent={jwt}&dl=1").encode()
    out = redact_query(raw)
    assert out == ("path=/a%20b.txt&token=<redacted>&access_token=<redacted>&api_key=<redacted>"
                   "&X-Amz-Signature=<redacted>&X-Amz-Credential=<redacted>&ticket=<redacted>"
                   "&secret=<redacted>&password=<redacted>&innocent=<redacted>&dl=1")
    for secret in ("t1", "t2", "=k", "=s&", "=c&", "t3", "s2", "=p", jwt):
        assert secret not in out
    assert redact_query(b"") == ""
    assert redact_query(b"a=%0A%0Dforged") == "a=%0A%0Dforged"
    long = redact_query(b"x=" + b"y" * 2000)
    assert len(long) == accesslog.MAX_QUERY_CHARS + 3


def test_path_redaction() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXBhcnQ"
    assert redact_path(f"/seafhttp/files/{jwt}") == "/seafhttp/files/<ticket>"
    assert redact_path(f"/seafhttp/upload-api/{jwt}/x/y") == "/seafhttp/upload-api/<ticket>/x/y"
    assert redact_path(f"/somewhere/{jwt}/else") == f"/somewhere/{REDACTED}/else"
    assert redact_path("/a\nb c") == "/a%0Ab%20c"


def _record(msg: str, **extra: Any) -> logging.LogRecord:
    record = logging.LogRecord("atoll.access" if "access" in extra else "atoll", logging.INFO,
                               __file__, 1, msg, (), None)
    record.__dict__.update(extra)
    return record


def test_formatters() -> None:
    fields = {"client": "127.0.0.1", "method": "GET", "path": "/api/v2.1/dtable/app-upload-link/",
              "query": "", "status": 200, "bytes": 123, "bytes_in": 0, "duration_ms": 4.2,
              "complete": True, "request_id": "ab12cd34"}
    text = TextFormatter().format(_record("x", access=fields))
    assert re.fullmatch(r"\S+Z 127\.0\.0\.1 GET /api/v2\.1/dtable/app-upload-link/ 200 123B 4\.2ms "
                        r"rid=ab12cd34", text)
    text = TextFormatter().format(_record("x", access={**fields, "bytes_in": 9, "complete": False,
                                                       "query": "a=1"}))
    assert text.endswith("/app-upload-link/?a=1 200 123B 4.2ms rid=ab12cd34 in=9B incomplete")
    data = json.loads(JsonFormatter().format(_record("x", access=fields)))
    assert {k: data[k] for k in fields} == fields and data["logger"] == "atoll.access"
    assert data["level"] == "info" and data["time"].endswith("Z")
    # other records: one line each, with the current request's id
    token = accesslog._current.set("r1")
    try:
        line = TextFormatter().format(_record("two\nlines"))
        assert "\n" not in line and line.endswith("INFO atoll: two\\nlines rid=r1")
        data = json.loads(JsonFormatter().format(_record("hello")))
        assert data["message"] == "hello" and data["request_id"] == "r1"
    finally:
        accesslog._current.reset(token)


def test_shutdown_watch_notes_requests_in_flight_and_chains() -> None:
    import os

    from atoll.server.accesslog import Traffic, watch_shutdown

    got: list[int] = []
    original = signal.signal(signal.SIGTERM, lambda signum, _frame: got.append(signum))
    try:
        previous = signal.getsignal(signal.SIGTERM)
        traffic = Traffic(in_flight=3, served=10)
        undo = watch_shutdown(traffic)
        traffic.in_flight = 2
        os.kill(os.getpid(), signal.SIGTERM)
        traffic.in_flight = 0
        os.kill(os.getpid(), signal.SIGTERM)  # a second signal changes nothing
        assert got == [signal.SIGTERM, signal.SIGTERM]  # the server's own handler still runs
        assert traffic.in_flight_at_signal == 2
        assert traffic.stopped_line() == (
            "atoll stopped: drained 2 request(s) in flight, served 10 since start")
        undo()
        assert signal.getsignal(signal.SIGTERM) is previous
        traffic.in_flight = 1
        assert traffic.stopped_line().endswith(", 1 cut off")
    finally:
        signal.signal(signal.SIGTERM, original)
