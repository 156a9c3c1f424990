"""Statelessness: two server processes on one database and one blob store behave as one server.

On the default backend both share one data dir (SQLite + local folder); on postgres-s3 both
share one PostgreSQL schema and one S3 prefix.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.live_server import LiveServer, two_processes

UPLOADS = 64


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    with two_processes(tmp_path / "data") as pair:
        yield pair


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


def test_same_name_uploads_spread_over_two_processes(pair: tuple[LiveServer, LiveServer]) -> None:
    a = pair[0]
    auth = _auth(a.create_token("Race"))
    links = [httpx.get(s.url + "/api/v2.1/dtable/app-upload-link/", headers=auth).json() for s in pair]

    def upload(i: int) -> tuple[str, bytes]:
        link = links[i % 2]  # alternate processes
        content = f"upload {i} ".encode() * (500 + i)
        r = httpx.post(link["upload_link"] + "?ret-json=1", timeout=60,
                       data={"parent_dir": link["parent_path"], "relative_path": "files/race"},
                       files={"file": ("same.txt", content)})
        assert r.status_code == 200, r.text
        return r.json()[0]["name"], content

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(upload, range(UPLOADS)))
    names = [name for name, _ in results]
    assert sorted(names) == sorted(["same.txt"] + [f"same ({n}).txt" for n in range(1, UPLOADS)])
    for i, (name, content) in enumerate(results):  # each name holds exactly its upload's bytes
        server = pair[(i + 1) % 2]  # read through the other process
        r = httpx.get(server.url + "/api/v2.1/dtable/app-download-link/",
                      params={"path": f"files/race/{name}"}, headers=auth)
        got = httpx.get(r.json()["download_link"]).content
        assert hashlib.sha256(got).hexdigest() == hashlib.sha256(content).hexdigest()


def test_tokens_and_links_work_on_every_process(pair: tuple[LiveServer, LiveServer]) -> None:
    a, b = pair
    token = a.create_token("Shared")
    access = httpx.get(a.url + "/api/v2.1/dtable/app-access-token/", headers=_auth(token)).json()
    # an access token signed by one process opens the base on the other
    r = httpx.get(f"{b.url}/api-gateway/api/v2/dtables/{access['dtable_uuid']}/metadata/",
                  headers=_auth(access["access_token"]))
    assert r.status_code == 200, r.text
    # an upload link from one process takes an upload on the other, whose download link works on the first
    link = httpx.get(a.url + "/api/v2.1/dtable/app-upload-link/", headers=_auth(token)).json()
    upload_on_b = link["upload_link"].replace(a.url, b.url) + "?ret-json=1"
    r = httpx.post(upload_on_b, data={"parent_dir": link["parent_path"], "relative_path": "files/x"},
                   files={"file": ("cross.txt", b"crossed")})
    assert r.status_code == 200, r.text
    dl = httpx.get(b.url + "/api/v2.1/dtable/app-download-link/", params={"path": "files/x/cross.txt"},
                   headers=_auth(token)).json()["download_link"]
    assert httpx.get(dl.replace(b.url, a.url)).content == b"crossed"


def test_revoke_and_replace_are_seen_by_the_other_process(pair: tuple[LiveServer, LiveServer]) -> None:
    a, b = pair
    token = a.create_token("Revoke")
    link = httpx.get(a.url + "/api/v2.1/dtable/app-upload-link/", headers=_auth(token)).json()
    for content in (b"old bytes", b"new bytes"):  # replace=1 through each process in turn
        target = link["upload_link"].replace(a.url, b.url if content == b"new bytes" else a.url)
        r = httpx.post(target + "?ret-json=1", files={"file": ("r.txt", content)},
                       data={"parent_dir": link["parent_path"], "relative_path": "files/r", "replace": "1"})
        assert r.status_code == 200 and r.json()[0]["name"] == "r.txt", r.text
    for server in pair:
        dl = httpx.get(server.url + "/api/v2.1/dtable/app-download-link/",
                       params={"path": "files/r/r.txt"}, headers=_auth(token)).json()["download_link"]
        assert httpx.get(dl).content == b"new bytes"
    a.cli("token", "revoke", "--data-dir", str(a.data_dir), token)
    for server in pair:  # revocation is visible on both processes at once
        r = httpx.get(server.url + "/api/v2.1/dtable/app-upload-link/", headers=_auth(token))
        assert r.status_code == 403


def test_a_starting_process_never_sweeps_a_live_ones_upload(tmp_path: Path) -> None:
    """Process B starts (and sweeps unfinished writes) while process A is mid-upload: A's
    upload still completes with every byte."""
    a = LiveServer(tmp_path / "data")
    a.start()
    b = LiveServer(tmp_path / "data", env=a.extra_env)
    try:
        auth = _auth(a.create_token("Sweep"))
        link = httpx.get(a.url + "/api/v2.1/dtable/app-upload-link/", headers=auth).json()
        block = b"s" * (1 << 20)
        started: list[bool] = []

        def body() -> Iterator[bytes]:
            boundary = b"--sweepboundary\r\n"
            yield boundary + b'Content-Disposition: form-data; name="parent_dir"\r\n\r\n'
            yield link["parent_path"].encode() + b"\r\n" + boundary
            yield b'Content-Disposition: form-data; name="file"; filename="slow.bin"\r\n\r\n'
            for i in range(32):
                if i == 16 and not started:
                    b.start()  # sweeps at start-up while 16 MiB of A's upload are staged
                    started.append(True)
                yield block
            yield b"\r\n--sweepboundary--\r\n"

        r = httpx.post(link["upload_link"] + "?ret-json=1", content=body(), timeout=60,
                       headers={"Content-Type": "multipart/form-data; boundary=sweepboundary"})
        assert started and r.status_code == 200, r.text
        assert r.json()[0]["size"] == 32 << 20
        dl = httpx.get(b.url + "/api/v2.1/dtable/app-download-link/", params={"path": "slow.bin"},
                       headers=auth).json()["download_link"]
        got = httpx.get(dl, timeout=60).content
        assert hashlib.sha256(got).digest() == hashlib.sha256(block * 32).digest()
    finally:
        b.stop()
        a.stop()


def test_a_tus_upload_moves_between_processes(pair: tuple[LiveServer, LiveServer]) -> None:
    """Chunks of one upload on alternating processes; the second one completes it (and, with no
    running hash of its own, reads the blob back for its SHA-256)."""
    import os

    from atoll.wire.tus import encode_metadata

    a, b = pair
    token = a.create_token("Tus")
    link = httpx.get(a.url + "/api/v2.1/dtable/app-upload-link/", headers=_auth(token)).json()
    data = os.urandom(3 * 1024 * 1024)
    tus = {"Tus-Resumable": "1.0.0"}
    meta = encode_metadata({"filename": "m.bin"})
    headers = {**tus, "Upload-Length": str(len(data)), "Upload-Metadata": meta}
    created = httpx.post(link["tus_link"], headers=headers)
    path = created.headers["location"].split("/seafhttp/", 1)[1]
    step = 1024 * 1024
    for i, server in enumerate((a, b, a)):
        r = httpx.patch(f"{server.url}/seafhttp/{path}", content=data[i * step:(i + 1) * step], headers={
            **tus, "Content-Type": "application/offset+octet-stream", "Upload-Offset": str(i * step)})
        assert r.status_code == 204, r.text
        head = httpx.head(f"{(b if server is a else a).url}/seafhttp/{path}", headers=tus)
        assert head.headers["upload-offset"] == str((i + 1) * step)
    result = httpx.get(f"{b.url}/seafhttp/{path}").json()["result"]
    assert result["sha256"] == hashlib.sha256(data).hexdigest()
