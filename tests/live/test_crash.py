"""A crash (SIGKILL) in the middle of an upload: after a restart nothing partial is visible,
no metadata row lacks its blob, the temp file is swept, and acknowledged uploads survive."""

from __future__ import annotations

import hashlib
import socket
import time
from pathlib import Path

import anyio
import httpx
from sqlalchemy import select

from atoll.db import schema
from atoll.services.context import Context
from tests.backends import blob_state_sync
from tests.live_server import LiveServer

#: The S3 sweep aborts multipart uploads older than this; 0 lets a restart sweep the killed one.
SWEEP_ALL = {"ATOLL_S3_ABANDONED_AFTER_S": "0"}

BOUNDARY = "crashboundary"


def _partial_upload(url: str, parent_dir: str, declared: int, sent: int) -> socket.socket:
    """Send headers and part of a multipart body over a raw socket, then stall."""
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    path = "/" + url.split("//", 1)[1].split("/", 1)[1]
    head = (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"parent_dir\"\r\n\r\n{parent_dir}\r\n"
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"relative_path\"\r\n\r\nfiles/crash\r\n"
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"partial.bin\"\r\n\r\n"
    ).encode()
    sock = socket.create_connection((host, int(port)))
    sock.sendall(
        (
            f"POST {path}?ret-json=1 HTTP/1.1\r\nHost: {host_port}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {len(head) + declared}\r\n\r\n"
        ).encode()
        + head
    )
    chunk = b"z" * (1 << 20)  # more than one S3 part (8 MiB), so an unfinished write exists
    for _ in range(sent // len(chunk)):
        sock.sendall(chunk)
    return sock


def _wait_for(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def test_sigkill_mid_upload_leaves_no_partial(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = LiveServer(data_dir, env=SWEEP_ALL)
    server.start()
    ctx = Context.open(server.settings)

    def pending() -> frozenset[str]:
        return blob_state_sync(ctx.blobs)[1]

    try:
        token = server.create_token("Crash")
        auth = {"Authorization": f"Token {token}"}
        link = httpx.get(server.url + "/api/v2.1/dtable/app-upload-link/", headers=auth).json()
        done = b"acknowledged bytes" * 1000
        r = httpx.post(link["upload_link"] + "?ret-json=1",
                       data={"parent_dir": link["parent_path"], "relative_path": "files/crash"},
                       files={"file": ("done.bin", done)})
        assert r.status_code == 200

        sock = _partial_upload(link["upload_link"], link["parent_path"], 64 << 20, 24 << 20)
        _wait_for(lambda: pending())
        server.kill()
        sock.close()
        assert pending(), "the partial upload's temp file should exist before restart"

        server.start()
        _wait_for(lambda: not pending())
        r = httpx.get(server.url + "/api/v2.1/dtable/app-download-link/",
                      params={"path": "files/crash/partial.bin"}, headers=auth)
        assert r.status_code == 400
        r = httpx.get(server.url + "/api/v2.1/dtable/app-download-link/",
                      params={"path": "files/crash/done.bin"}, headers=auth)
        assert httpx.get(r.json()["download_link"]).content == done

        with ctx.engine.connect() as conn:
            rows = conn.execute(select(schema.assets)).mappings().all()
        assert [row["name"] for row in rows] == ["done.bin"]
        for row in rows:  # every metadata row has its blob, with the recorded size and hash
            blob = anyio.run(_read_blob, ctx, row["blob_key"])
            assert len(blob) == row["size"]
            assert hashlib.sha256(blob).hexdigest() == row["sha256"]
    finally:
        server.stop()
        ctx.engine.dispose()


async def _read_blob(ctx: Context, key: str) -> bytes:
    return b"".join([chunk async for chunk in ctx.blobs.open(key)])


def test_client_disconnect_mid_upload_leaves_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with LiveServer(data_dir) as server:
        ctx = Context.open(server.settings)
        auth = {"Authorization": f"Token {server.create_token('Drop')}"}
        link = httpx.get(server.url + "/api/v2.1/dtable/app-upload-link/", headers=auth).json()
        sock = _partial_upload(link["upload_link"], link["parent_path"], 64 << 20, 24 << 20)
        _wait_for(lambda: blob_state_sync(ctx.blobs)[1])
        sock.close()
        _wait_for(lambda: blob_state_sync(ctx.blobs) == (frozenset(), frozenset()))
        ctx.engine.dispose()
        r = httpx.get(server.url + "/api/v2.1/dtable/app-download-link/",
                      params={"path": "files/crash/partial.bin"}, headers=auth)
        assert r.status_code == 400
