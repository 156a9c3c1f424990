"""Unmodified tus clients against a live atoll: tuspy (Python) and tus-js-client (Node; the
engine of Uppy's tus plugin), including a resume on the upload URL and upload-and-attach."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tusclient import client as tus_client

from tests.live_server import LiveServer

JS = Path(__file__).resolve().parents[1] / "js"
pytestmark = pytest.mark.compat


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("tus") / "data") as live:
        yield live


@pytest.fixture(scope="module")
def token(server: LiveServer) -> str:
    return server.create_token("Tus")


def _link(server: LiveServer, token: str) -> dict[str, Any]:
    auth = {"Authorization": f"Token {token}"}
    r = httpx.get(server.url + "/api/v2.1/dtable/app-upload-link/", headers=auth)
    assert r.status_code == 200, r.text
    link: dict[str, Any] = r.json()
    return link


def _download(server: LiveServer, token: str, path: str) -> bytes:
    r = httpx.get(server.url + "/api/v2.1/dtable/app-download-link/", params={"path": path},
                  headers={"Authorization": f"Token {token}"})
    assert r.status_code == 200, r.text
    return httpx.get(r.json()["download_link"]).content


def _file(tmp_path: Path, size: int) -> tuple[Path, bytes]:
    data = os.urandom(size)
    path = tmp_path / "source.bin"
    path.write_bytes(data)
    return path, data


def test_tuspy_upload_with_checksums(server: LiveServer, token: str, tmp_path: Path) -> None:
    path, data = _file(tmp_path, 3 * 1024 * 1024 + 11)
    link = _link(server, token)
    with path.open("rb") as f:  # tuspy leaves a file it opened itself unclosed
        uploader = tus_client.TusClient(link["tus_link"]).uploader(
            file_stream=f, chunk_size=1024 * 1024, upload_checksum=True,
            metadata={"filename": "tuspy.bin", "relative_path": "files/tus"})
        uploader.upload()
    assert uploader.offset == len(data)
    assert _download(server, token, "files/tus/tuspy.bin") == data
    status = httpx.get(uploader.url).json()
    assert status["result"]["sha256"] == hashlib.sha256(data).hexdigest()


def test_tuspy_resumes_on_the_upload_url(server: LiveServer, token: str, tmp_path: Path) -> None:
    path, data = _file(tmp_path, 2 * 1024 * 1024)
    link = _link(server, token)
    tus = tus_client.TusClient(link["tus_link"])
    meta = {"filename": "resumed.bin", "relative_path": "files/tus"}
    with path.open("rb") as f:
        first = tus.uploader(file_stream=f, chunk_size=512 * 1024, metadata=meta)
        first.upload_chunk()
        first.upload_chunk()
    assert first.offset == 1024 * 1024
    with path.open("rb") as f:  # a new process, the same upload URL
        second = tus.uploader(file_stream=f, chunk_size=768 * 1024, url=first.url)
        assert second.offset == 1024 * 1024
        second.upload()
    assert _download(server, token, "files/tus/resumed.bin") == data


def _node(*args: str) -> dict[str, Any]:
    if shutil.which("node") is None or not (JS / "node_modules" / "tus-js-client").is_dir():
        pytest.fail("node and tests/js/node_modules are needed: run scripts/services-install")
    out = subprocess.run(["node", str(JS / "tus_upload.js"), *args], capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def test_tus_js_client_upload_abort_and_resume(server: LiveServer, token: str, tmp_path: Path) -> None:
    path, data = _file(tmp_path, 5 * 1024 * 1024 + 3)
    link = _link(server, token)
    meta = json.dumps({"filename": "uppy.bin", "relative_path": "files/js", "file_type": "file"})
    outcome = _node(link["tus_link"], str(path), str(1024 * 1024), meta, str(2 * 1024 * 1024))
    assert outcome["first"]["aborted"] is True
    assert outcome["final"]["url"] == outcome["first"]["url"]
    result = json.loads(outcome["final"]["result"])
    assert result["sha256"] == hashlib.sha256(data).hexdigest()
    assert _download(server, token, "files/js/uppy.bin") == data


def test_tus_js_client_upload_and_attach(server: LiveServer, token: str, tmp_path: Path) -> None:
    auth = httpx.get(server.url + "/api/v2.1/dtable/app-access-token/",
                     headers={"Authorization": f"Token {token}"}).json()
    base = f"{server.url}/api-gateway/api/v2/dtables/{auth['dtable_uuid']}"
    headers = {"Authorization": f"Token {auth['access_token']}"}
    assert httpx.post(base + "/tables/", json={"table_name": "Photos"}, headers=headers).status_code == 200
    column = {"table_name": "Photos", "column_name": "Image", "column_type": "image"}
    assert httpx.post(base + "/columns/", json=column, headers=headers).status_code == 200
    path, _ = _file(tmp_path, 300_000)
    meta = json.dumps({"filename": "cat.jpg", "file_type": "image", "table": "Photos", "column": "Image"})
    outcome = _node(_link(server, token)["tus_link"], str(path), str(100_000), meta)
    result = json.loads(outcome["final"]["result"])
    rows = httpx.get(base + "/rows/", params={"table_name": "Photos", "convert_keys": "true"},
                     headers=headers).json()["rows"]
    assert [r["_id"] for r in rows] == [result["row_id"]]
    assert rows[0]["Image"] == [result["url"]]
