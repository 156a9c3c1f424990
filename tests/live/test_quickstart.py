"""The README's first quick-start command really starts a server and prints a working token."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx

import atoll
from tests.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_scripts_serve_prints_url_and_working_token(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "ATOLL_PORT": str(port), "ATOLL_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen([str(ROOT / "scripts" / "serve")], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert proc.stdout is not None
        out = ""
        while "API token:" not in out:
            line = proc.stdout.readline()
            assert line, f"scripts/serve ended early: {out}"
            out += line
        url = re.search(r"URL:\s+(\S+)", out).group(1)  # type: ignore[union-attr]
        token = re.search(r"API token:\s+([0-9a-f]{40})", out).group(1)  # type: ignore[union-attr]
        assert url == f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/api2/ping/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        base = atoll.Base(token, url)
        base.auth()
        info = base.upload_bytes_file("hello.txt", b"hi")
        assert info["name"] == "hello.txt" and info["size"] == 2
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
