"""deploy/nginx.conf, exactly as shipped, in front of two atoll processes sharing one data dir.

Needs the nginx binary (Debian: ``apt-get install nginx``). Skipped without it, except in CI
(``CI`` set), where a missing nginx fails the run.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.live_server import LiveServer
from tests.nginx_proxy import BUFFERED_WARNINGS, NginxProxy, nginx_binary

MiB = 1024 * 1024
FILE_BYTES = 200 * MiB
CHUNK_BYTES = 1 * MiB
#: The client stops sending here until atoll shows the upload's first bytes (or gives up).
PAUSE_AT_BYTES = 8 * MiB
OBSERVE_TIMEOUT_S = 5.0
#: A download reader that stalls this long makes a buffering proxy spill to its temp folder.
READER_STALL_S = 1.0
TIMEOUT = httpx.Timeout(60.0)


@dataclass
class Stack:
    proxy: NginxProxy
    servers: list[LiveServer]
    data_dir: Path
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}

    def upload_link(self) -> dict[str, str]:
        r = httpx.get(self.proxy.url + "/api/v2.1/dtable/app-upload-link/", headers=self.auth)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def download_link(self, path: str) -> str:
        r = httpx.get(self.proxy.url + "/api/v2.1/dtable/app-download-link/", params={"path": path},
                      headers=self.auth)
        assert r.status_code == 200, r.text
        return r.json()["download_link"]  # type: ignore[no-any-return]

    def upstream_hits(self) -> dict[int, int]:
        """Requests answered per atoll port, from $upstream_addr in nginx's access log (the last
        address of a line: the earlier ones refused or failed)."""
        answered = [m.split(",")[-1].strip() for m in re.findall(r"upstream=(\S+(?:, \S+)*)",
                                                                    self.proxy.access_log)]
        return {s.port: answered.count(f"127.0.0.1:{s.port}") for s in self.servers}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    binary = nginx_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed but CI is set: apt-get install -y nginx")
        pytest.skip("nginx is not installed (Debian: apt-get install nginx); CI runs this test")
    root = tmp_path_factory.mktemp("nginx-stack")
    data_dir = root / "data"
    proxy = NginxProxy(root / "nginx", binary=binary)
    servers = [LiveServer(data_dir, public_url=proxy.url) for _ in range(2)]
    with ExitStack() as stack:
        for server in servers:
            server.start()
            stack.callback(server.stop)
        proxy.start([f"127.0.0.1:{s.port}" for s in servers])
        stack.callback(proxy.stop)
        yield Stack(proxy, servers, data_dir, servers[0].create_token("Proxied"))


def multipart(fields: dict[str, str], filename: str, size: int, boundary: str) -> tuple[bytes, bytes, int]:
    """Head and tail of a multipart body around one file part of ``size`` bytes; total length."""
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    )
    head += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
             "Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head, tail, len(head) + size + len(tail)


def test_health_and_links_through_the_proxy(stack: Stack) -> None:
    for path in ("/api/health", "/api/health/", "/api/ready"):
        r = httpx.get(stack.proxy.url + path)
        assert r.status_code == 200, (path, r.text)
        assert r.headers["cache-control"] == "no-store"
    assert httpx.head(stack.proxy.url + "/api/health").status_code == 200
    link = stack.upload_link()
    assert link["upload_link"].startswith(stack.proxy.url + "/seafhttp/upload-api/")
    r = httpx.get(stack.proxy.url + "/api/v2.1/dtable/app-access-token/", headers=stack.auth)
    assert r.json()["dtable_server"].startswith(stack.proxy.url)


def test_large_upload_and_download_are_streamed_not_buffered(stack: Stack) -> None:
    link = stack.upload_link()
    folder = link["file_relative_path"]
    head, tail, length = multipart(
        {"parent_dir": link["parent_path"], "relative_path": folder, "replace": "1"},
        "big.bin", FILE_BYTES, uuid.uuid4().hex,
    )
    digest = hashlib.sha256()
    seen: dict[str, object] = {}
    atoll_temp = stack.data_dir / "blobs" / "tmp"

    def observe_mid_upload() -> None:
        deadline = time.monotonic() + OBSERVE_TIMEOUT_S
        while time.monotonic() < deadline:
            parts = [p for p in atoll_temp.glob("*.part") if p.stat().st_size > 0]
            if parts:
                break
            time.sleep(0.02)
        seen["atoll_temp_bytes"] = sum(p.stat().st_size for p in atoll_temp.glob("*.part"))
        seen["nginx_open_body_files"] = stack.proxy.open_files_under(stack.proxy.client_body_dir)
        seen["nginx_body_dir"] = sorted(os.listdir(stack.proxy.client_body_dir))

    def body() -> Iterator[bytes]:
        yield head
        sent = 0
        while sent < FILE_BYTES:
            block = os.urandom(min(CHUNK_BYTES, FILE_BYTES - sent))
            digest.update(block)
            yield block
            sent += len(block)
            if sent == PAUSE_AT_BYTES:
                observe_mid_upload()  # the client has not finished sending
        yield tail

    r = httpx.post(
        link["upload_link"] + "?ret-json=1", content=body(), timeout=TIMEOUT,
        headers={"Content-Type": f"multipart/form-data; boundary={head[2:34].decode()}",
                 "Content-Length": str(length)},
    )
    assert r.status_code == 200, r.text
    assert r.json() == [{"name": "big.bin", "id": digest.hexdigest()[:40], "size": FILE_BYTES}]
    # Streamed: atoll was writing the file while the client still sent it, and nginx held no
    # copy of the body (it unlinks its temp files at once, so /proc shows them, not the folder).
    assert seen["atoll_temp_bytes"], "atoll got no bytes before the client finished sending"
    assert seen["nginx_open_body_files"] == []
    assert seen["nginx_body_dir"] == []

    url = stack.download_link(f"{folder}/big.bin")
    assert url.startswith(stack.proxy.url + "/seafhttp/files/")
    got = hashlib.sha256()
    received = 0
    with httpx.stream("GET", url, timeout=TIMEOUT) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-length"] == str(FILE_BYTES)
        for i, chunk in enumerate(resp.iter_bytes(CHUNK_BYTES)):
            got.update(chunk)
            received += len(chunk)
            if i == 0:  # a slow reader: a buffering proxy would now fill its temp folder
                time.sleep(READER_STALL_S)
                assert stack.proxy.open_files_under(stack.proxy.state_dir / "proxy") == []
    assert received == FILE_BYTES
    assert got.hexdigest() == digest.hexdigest()
    log = stack.proxy.error_log
    for warning in BUFFERED_WARNINGS:
        assert warning not in log


def test_requests_reach_both_processes_and_one_survives_the_other(stack: Stack) -> None:
    before = stack.upstream_hits()
    for _ in range(10):
        stack.upload_link()
    after = stack.upstream_hits()
    assert all(after[port] > before[port] for port in after), (before, after)

    first, second = stack.servers
    first.stop()
    try:
        for _ in range(4):
            assert httpx.get(stack.proxy.url + "/api/health").status_code == 200
        link = stack.upload_link()
        r = httpx.post(link["upload_link"] + "?ret-json=1", timeout=TIMEOUT,
                       data={"parent_dir": link["parent_path"], "relative_path": "files/after-stop"},
                       files={"file": ("small.txt", b"still here")})
        assert r.status_code == 200, r.text
        got = httpx.get(stack.download_link("files/after-stop/small.txt"), timeout=TIMEOUT)
        assert got.content == b"still here"
        served = stack.upstream_hits()  # health checks are not logged; the 4 calls above are
        assert served == {first.port: after[first.port], second.port: after[second.port] + 4}
    finally:
        first.start()
