"""The invariant checker itself: it passes on a healthy server and catches a lost upload."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.live_server import LiveServer
from tests.reliability.invariants import Invariants


def test_invariants_hold_on_a_healthy_server_and_catch_a_lie(tmp_path: Path) -> None:
    with LiveServer(tmp_path / "data") as server:
        inv = Invariants(server, server.create_token("Healthy"))
        assert inv.upload("a.bin", b"abc" * 1000).status_code == 200
        inv.check(folders=("files/reliability",))
        inv.acknowledge("files/reliability/never-uploaded.bin", b"x")
        with pytest.raises(AssertionError):
            inv.check(folders=("files/reliability",))
