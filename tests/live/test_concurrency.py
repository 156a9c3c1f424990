"""Race-free naming (G6): concurrent uploads of one name get distinct names, none lost."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.live_server import LiveServer

UPLOADS = 16


def test_concurrent_same_name_uploads(tmp_path: Path) -> None:
    with LiveServer(tmp_path / "data") as server:
        auth = {"Authorization": f"Token {server.create_token('Race')}"}
        link = httpx.get(server.url + "/api/v2.1/dtable/app-upload-link/", headers=auth).json()

        def upload(i: int) -> tuple[str, bytes]:
            content = f"upload {i}".encode() * 1000
            r = httpx.post(link["upload_link"] + "?ret-json=1", timeout=30,
                           data={"parent_dir": link["parent_path"], "relative_path": "files/race"},
                           files={"file": ("same.txt", content)})
            assert r.status_code == 200, r.text
            return r.json()[0]["name"], content

        with ThreadPoolExecutor(UPLOADS) as pool:
            results = list(pool.map(upload, range(UPLOADS)))
        names = [name for name, _ in results]
        assert sorted(names) == sorted(["same.txt"] + [f"same ({n}).txt" for n in range(1, UPLOADS)])
        for name, content in results:  # each name holds exactly the bytes its upload sent
            r = httpx.get(server.url + "/api/v2.1/dtable/app-download-link/",
                          params={"path": f"files/race/{name}"}, headers=auth)
            got = httpx.get(r.json()["download_link"]).content
            assert hashlib.sha256(got).hexdigest() == hashlib.sha256(content).hexdigest()
