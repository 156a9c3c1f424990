"""F1: SIGKILL the server while uploads run, restart it, and check the invariants.

Each trial: small uploads run on writer threads, a large upload streams over a raw socket and
stalls part-way, and the whole server process group is killed at a random moment. After the
restart (whose sweep removes unfinished writes, and on S3 aborts the multipart upload):
nothing partial is visible, every acknowledged upload reads back intact, no metadata lacks its
blob, and the server serves. Also: a client that disconnects mid-upload leaves nothing.

``ATOLL_RELIABILITY_FULL=1`` runs the plan's 50 trials; CI runs a few.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from pathlib import Path

import httpx

from atoll.services.context import Context
from tests.backends import blob_state_sync
from tests.live_server import LiveServer
from tests.reliability.invariants import Invariants, wait_until
from tests.reliability.report import record

#: The S3 sweep aborts multipart uploads older than this; 0 lets a restart sweep the killed one.
SWEEP_ALL = {"ATOLL_S3_ABANDONED_AFTER_S": "0"}
FULL = os.environ.get("ATOLL_RELIABILITY_FULL") == "1"
TRIALS = 50 if FULL else 3
WRITERS = 3
BOUNDARY = "crashboundary"
FOLDER = "files/crash"


def _partial_upload(url: str, parent_dir: str, declared: int, sent: int) -> socket.socket:
    """Send headers and part of a multipart body over a raw socket, then stall."""
    host_port, _, path = url.split("//", 1)[1].partition("/")
    host, port = host_port.split(":")
    head = (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"parent_dir\"\r\n\r\n{parent_dir}\r\n"
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"relative_path\"\r\n\r\n{FOLDER}\r\n"
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"partial.bin\"\r\n\r\n"
    ).encode()
    sock = socket.create_connection((host, int(port)))
    sock.sendall(
        (
            f"POST /{path}?ret-json=1 HTTP/1.1\r\nHost: {host_port}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {len(head) + declared}\r\n\r\n"
        ).encode()
        + head
    )
    chunk = b"z" * (1 << 20)  # more than one S3 part (8 MiB), so an unfinished write exists
    for _ in range(sent // len(chunk)):
        sock.sendall(chunk)
    return sock


class _Writers:
    """Threads uploading small files with unique names until stopped (or the server dies)."""

    def __init__(self, inv: Invariants, trial: int) -> None:
        self.inv, self.trial = inv, trial
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(w,)) for w in range(WRITERS)]

    def _run(self, w: int) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            name = f"t{self.trial}-w{w}-{n}.bin"
            self.inv.in_flight.add(f"{FOLDER}/{name}")
            try:
                self.inv.upload(name, f"{name} ".encode() * 4000, folder=FOLDER, timeout=10)
            except (httpx.HTTPError, KeyError, ValueError):
                return  # the server died under us: the upload may or may not have landed

    def __enter__(self) -> _Writers:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)


def test_sigkill_during_uploads_loses_nothing_acknowledged(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "data", env=SWEEP_ALL)
    server.start()
    rng = random.Random(1234)
    try:
        inv = Invariants(server, server.create_token("Crash"))
        ctx = Context.open(server.settings)
        for trial in range(TRIALS):
            link = httpx.get(server.url + "/api/v2.1/dtable/app-upload-link/", headers=inv.auth).json()
            with _Writers(inv, trial):
                sock = _partial_upload(link["upload_link"], link["parent_path"], 64 << 20,
                                       rng.choice([9, 16, 24]) << 20)
                wait_until(lambda: blob_state_sync(ctx.blobs)[1], what="the partial upload staged")
                time.sleep(rng.uniform(0.0, 0.3))
                server.kill()
                sock.close()
            server.start()
            inv.reset_fd_baseline()
            inv.check(folders=(FOLDER,))
        assert len(inv.acknowledged) >= TRIALS, "the writers should have landed uploads"
        record("kill9", trials=TRIALS, acknowledged=len(inv.acknowledged),
               in_flight_at_kill=len(inv.in_flight) - len(inv.acknowledged), lost=0, partial=0)
        ctx.engine.dispose()
    finally:
        server.stop()


def test_client_disconnect_mid_upload_leaves_nothing(tmp_path: Path) -> None:
    with LiveServer(tmp_path / "data") as server:
        inv = Invariants(server, server.create_token("Drop"))
        ctx = Context.open(server.settings)
        link = httpx.get(server.url + "/api/v2.1/dtable/app-upload-link/", headers=inv.auth).json()
        sock = _partial_upload(link["upload_link"], link["parent_path"], 64 << 20, 24 << 20)
        wait_until(lambda: blob_state_sync(ctx.blobs)[1], what="the partial upload staged")
        sock.close()
        ctx.engine.dispose()
        inv.check(folders=(FOLDER,))
