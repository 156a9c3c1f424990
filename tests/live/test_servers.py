"""Both HTTP servers atoll can run on serve the seed's flow over a real socket."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

import atoll
from tests.live_server import LiveServer


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_round_trip_on_each_server(tmp_path: Path, server: str) -> None:
    with (LiveServer(tmp_path / "data", server=server) as live,
          atoll.Base(live.create_token("S"), live.url) as base):
        base.auth()
        content = os.urandom(3 * 1024 * 1024 + 17)
        info = base.upload_bytes_file("blob.bin", content)
        assert info["size"] == len(content)
        target = tmp_path / "out.bin"
        base.download_file(info["url"], str(target))
        assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(content).digest()
