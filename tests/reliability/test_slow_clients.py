"""Slow clients are bounded, legitimate slow ones still finish (issue 6, S8, G7).

On main a client trickling one header byte, or one body byte, per second kept its connection
past 30 s, and nothing capped the number of connections.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import select
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.live_server import LiveServer
from tests.reliability.invariants import Invariants, open_fds, wait_until
from tests.reliability.rawhttp import (
    UploadRequest,
    answer_or_none,
    closed_within,
    connect,
    paced_send,
    read_answer,
)

#: Short deadlines so the attacks end quickly; the rules are the same as with the defaults.
SHORT = {
    "ATOLL_HEADER_READ_TIMEOUT_S": "2",
    "ATOLL_BODY_READ_TIMEOUT_S": "3",
    "ATOLL_BODY_RATE_WINDOW_S": "3",
}
KiB = 1024


def _trickle_head(server: LiveServer) -> float:
    """Send a head one byte every 0.5 s; the seconds until the server closed (or 99)."""
    sock = connect(server)
    began = time.monotonic()
    try:
        for byte in b"GET /api2/ping/ HTTP/1.1\r\nHost: atoll\r\nX-Slow: " + b"z" * 100:
            sock.send(bytes([byte]))
            if closed_within(sock, 0.5):
                return time.monotonic() - began
    except OSError:
        return time.monotonic() - began
    finally:
        sock.close()
    return 99.0


def _slow_body(server: LiveServer, token: str, name: str) -> tuple[int | None, float]:
    """An upload whose file bytes come at 1 B/s: (the answer's status, seconds until it came)."""
    req = UploadRequest.make(server, token, name, 1000, "files/slow")
    sock = connect(server)
    sock.sendall(req.head)
    began = time.monotonic()
    try:
        for _ in range(60):
            try:
                sock.send(b"x")
            except OSError:
                break
            if select.select([sock], [], [], 1.0)[0]:
                break
        return answer_or_none(sock), time.monotonic() - began
    finally:
        sock.close()


@pytest.mark.parametrize("impl", ["uvicorn", "granian"])
def test_slow_heads_and_bodies_are_cut_off(tmp_path: Path, impl: str) -> None:
    with LiveServer(tmp_path / "data", server=impl, env=SHORT) as server:
        token = server.create_token("Slow")
        inv = Invariants(server, token)
        with ThreadPoolExecutor(6) as pool:
            trickles = [pool.submit(_trickle_head, server) for _ in range(2)]
            bodies = [pool.submit(_slow_body, server, token, f"slow-{i}.bin") for i in range(3)]
            # A normal client is served meanwhile.
            assert inv.upload("during.bin", b"n" * 100_000, folder="files/normal").status_code == 200
            for t in trickles:
                assert t.result() < 8, "a head trickled byte by byte outlived the header deadline"
            for b in bodies:
                status, seconds = b.result()
                assert seconds < 15, f"a 1 B/s body kept its connection {seconds:.0f} s"
                assert status in (408, None), status
        if impl == "uvicorn":  # granian's deadline starts with the first byte (docs/deployment.md)
            idle = connect(server)
            assert answer_or_none(idle) == 408
            idle.close()
        inv.check(folders=("files/slow", "files/normal"))


#: A small connection cap; everything else at its default (the body-rate window included).
CAP = 8


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Invariants]:
    env = {"ATOLL_MAX_CONNECTIONS": str(CAP)}
    with LiveServer(tmp_path_factory.mktemp("capped") / "data", env=env) as server:
        yield Invariants(server, server.create_token("Capped"))


def test_legitimate_64_kib_per_second_upload_finishes(capped: Invariants) -> None:
    """Default body limits: 512 KiB at 64 KiB/s (about 8 s) is stored, byte for byte."""
    server = capped.server
    inv = Invariants(server, capped.token)
    data = hashlib.sha256(b"legit").digest() * (512 * KiB // 32)
    req = UploadRequest.make(server, capped.token, "legit.bin", len(data), "files/legit")
    sock = connect(server)
    sock.sendall(req.head)
    seconds = paced_send(sock, data, rate=64 * KiB, piece=8 * KiB)
    sock.sendall(req.tail)
    answer = http.client.HTTPResponse(sock)
    answer.begin()
    body = answer.read()
    sock.close()
    assert answer.status == 200, (answer.status, body[:200])
    stored = json.loads(body)[0]
    assert stored["size"] == len(data) and seconds > 7
    inv.acknowledge(f"files/legit/{stored['name']}", data)
    inv.check(folders=("files/legit",))


def test_connection_cap_answers_503_and_keeps_fds_bounded(capped: Invariants) -> None:
    server = capped.server
    assert server.proc is not None
    pid = server.proc.pid
    inv = Invariants(server, capped.token)
    held = [connect(server) for _ in range(CAP)]
    for sock in held:  # each is a working connection
        sock.sendall(b"GET /api2/ping/ HTTP/1.1\r\nHost: atoll\r\n\r\n")
        assert read_answer(sock).status == 200
    extra = [connect(server, timeout=5) for _ in range(50)]
    try:
        for s in extra:
            assert answer_or_none(s) == 503
    finally:
        for s in extra:
            s.close()
    wait_until(lambda: open_fds(pid) <= inv.fd_baseline + CAP + 2, what="fds back to the held ones")
    for sock in held:
        sock.close()
    inv.check()
