"""A crash (SIGKILL) in the middle of an upload: after a restart nothing partial is visible,
no metadata row lacks its blob, the temp file is swept, and acknowledged uploads survive."""

from __future__ import annotations

import hashlib
import socket
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select

from atoll.db import schema
from tests.live_server import LiveServer

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
    chunk = b"z" * (1 << 20)
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
    server = LiveServer(data_dir)
    server.start()
    try:
        token = server.create_token("Crash")
        auth = {"Authorization": f"Token {token}"}
        link = httpx.get(server.url + "/api/v2.1/dtable/app-upload-link/", headers=auth).json()
        done = b"acknowledged bytes" * 1000
        r = httpx.post(link["upload_link"] + "?ret-json=1",
                       data={"parent_dir": link["parent_path"], "relative_path": "files/crash"},
                       files={"file": ("done.bin", done)})
        assert r.status_code == 200

        temp_dir = data_dir / "blobs" / "tmp"
        sock = _partial_upload(link["upload_link"], link["parent_path"], 64 << 20, 8 << 20)
        _wait_for(lambda: any(p.stat().st_size > 0 for p in temp_dir.iterdir()))
        server.kill()
        sock.close()
        assert any(temp_dir.iterdir()), "the partial upload's temp file should exist before restart"

        server.start()
        _wait_for(lambda: not any(temp_dir.iterdir()))
        r = httpx.get(server.url + "/api/v2.1/dtable/app-download-link/",
                      params={"path": "files/crash/partial.bin"}, headers=auth)
        assert r.status_code == 400
        r = httpx.get(server.url + "/api/v2.1/dtable/app-download-link/",
                      params={"path": "files/crash/done.bin"}, headers=auth)
        assert httpx.get(r.json()["download_link"]).content == done

        engine = create_engine(f"sqlite:///{data_dir / 'atoll.sqlite3'}")
        with engine.connect() as conn:
            rows = conn.execute(select(schema.assets)).mappings().all()
        engine.dispose()
        assert [row["name"] for row in rows] == ["done.bin"]
        for row in rows:  # every metadata row has its blob, with the recorded size and hash
            key = row["blob_key"]
            blob = data_dir / "blobs" / key[:2] / key[2:4] / key
            assert blob.stat().st_size == row["size"]
            assert hashlib.sha256(blob.read_bytes()).hexdigest() == row["sha256"]
    finally:
        server.stop()


def test_client_disconnect_mid_upload_leaves_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with LiveServer(data_dir) as server:
        auth = {"Authorization": f"Token {server.create_token('Drop')}"}
        link = httpx.get(server.url + "/api/v2.1/dtable/app-upload-link/", headers=auth).json()
        temp_dir = data_dir / "blobs" / "tmp"
        sock = _partial_upload(link["upload_link"], link["parent_path"], 64 << 20, 4 << 20)
        _wait_for(lambda: any(temp_dir.iterdir()))
        sock.close()
        _wait_for(lambda: not any(temp_dir.iterdir()))
        blobs = [p for p in (data_dir / "blobs").rglob("*") if p.is_file()]
        assert blobs == []
        r = httpx.get(server.url + "/api/v2.1/dtable/app-download-link/",
                      params={"path": "files/crash/partial.bin"}, headers=auth)
        assert r.status_code == 400
