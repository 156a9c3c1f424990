"""F12: a 128 MiB tus upload (512 MiB with ``ATOLL_RELIABILITY_FULL=1``), the server killed
(SIGKILL of its process group) at a random offset, restarted, and the upload resumed from the
offset the server reports, until it completes.

Each trial checks: the offset after the restart never runs ahead of the bytes sent; nothing of
the file is visible before completion; the completed file's SHA-256 (which the server computes
by reading the blob back, as the restarted process has no running hash) is the source's. Every
third trial attaches the file to a new row: after each crash the row and the file are both there
or both absent. Every fifth trial kills the server right after the last byte, while it completes.

``ATOLL_RELIABILITY_FULL=1`` runs 50 trials on each backend; CI runs 20 on SQLite + local disk and 8
on PostgreSQL + S3, where each trial costs about four times as much (``ATOLL_CRASH_TRIALS``
overrides both).
"""

from __future__ import annotations

import hashlib
import os
import random
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h11
import httpx

from atoll.wire.tus import encode_metadata
from tests.backends import on_postgres_s3
from tests.live_server import LiveServer

FULL = os.environ.get("ATOLL_RELIABILITY_FULL") == "1"
CI_TRIALS = 8 if on_postgres_s3() else 20
TRIALS = int(os.environ.get("ATOLL_CRASH_TRIALS", 50 if FULL else CI_TRIALS))
SIZE = (512 if FULL else 128) * 1024 * 1024
CHUNK = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}
ENV = {"ATOLL_UPLOAD_LEASE_S": "1", "ATOLL_UPLOAD_COMMIT_BYTES": str(24 * 1024 * 1024),
       "ATOLL_UPLOAD_REAP_INTERVAL_S": "0"}


_blocks: dict[int, bytes] = {}


def _chunk(seed: int, index: int) -> bytes:
    """1 MiB of the source: one random block per seed, stamped with the chunk's index (cheap to
    make again, and a misplaced chunk changes the file's hash)."""
    block = _blocks.get(seed)
    if block is None:
        block = _blocks[seed] = random.Random(seed).randbytes(CHUNK)
    return struct.pack(">Q", index) + block[8:]


def _source_sha(seed: int) -> str:
    sha = hashlib.sha256()
    for i in range(SIZE // CHUNK):
        sha.update(_chunk(seed, i))
    return sha.hexdigest()


class _Sender:
    """The body of a PATCH from ``start``; kills the server once ``kill_at`` bytes are out."""

    def __init__(self, seed: int, start: int, kill_at: int | None, server: LiveServer) -> None:
        self.seed, self.start, self.kill_at, self.server = seed, start, kill_at, server
        self.sent = start

    def __iter__(self) -> Iterator[bytes]:
        index, skip = divmod(self.start, CHUNK)
        for i in range(index, SIZE // CHUNK):
            piece = _chunk(self.seed, i)[skip:]
            skip = 0
            self.sent += len(piece)
            yield piece
            if self.kill_at is not None and self.sent >= self.kill_at and self.kill_at < SIZE:
                self.server.kill()
                return


def _head(client: httpx.Client, url: str) -> httpx.Response:
    """HEAD, waiting out the killed writer's lease (423) and the restart."""
    deadline = time.monotonic() + 30
    while True:
        r = client.head(url, headers=TUS)
        if r.status_code != 423 or time.monotonic() > deadline:
            return r
        time.sleep(0.2)


def _patch(client: httpx.Client, url: str, sender: _Sender) -> httpx.Response | None:
    headers = {**TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": str(sender.start),
               "Content-Length": str(SIZE - sender.start)}
    try:
        return client.patch(url, headers=headers, content=iter(sender), timeout=120)
    except (httpx.HTTPError, h11.LocalProtocolError):  # the server died mid-body
        return None


def _visible(client: httpx.Client, token: str) -> bool:
    r = client.get("/api/v2.1/dtable/app-download-link/", params={"path": "files/crash/big.bin"},
                   headers={"Authorization": f"Token {token}"})
    return r.status_code == 200


def _auth(client: httpx.Client, token: str) -> dict[str, Any]:
    r = client.get("/api/v2.1/dtable/app-access-token/", headers={"Authorization": f"Token {token}"})
    auth: dict[str, Any] = r.json()
    return auth


def _rows(client: httpx.Client, token: str) -> list[dict[str, Any]]:
    auth = _auth(client, token)
    r = client.get(f"/api-gateway/api/v2/dtables/{auth['dtable_uuid']}/rows/",
                   params={"table_name": "Files", "convert_keys": "true"},
                   headers={"Authorization": f"Token {auth['access_token']}"})
    rows: list[dict[str, Any]] = r.json()["rows"]
    return rows


def _setup_table(client: httpx.Client, token: str) -> None:
    auth = _auth(client, token)
    base = f"/api-gateway/api/v2/dtables/{auth['dtable_uuid']}"
    headers = {"Authorization": f"Token {auth['access_token']}"}
    assert client.post(base + "/tables/", json={"table_name": "Files"}, headers=headers).status_code == 200
    body = {"table_name": "Files", "column_name": "Doc", "column_type": "file"}
    assert client.post(base + "/columns/", json=body, headers=headers).status_code == 200


def _trial(client: httpx.Client, server: LiveServer, token: str, trial: int, seed: int, expected: str,
           rng: random.Random) -> None:
    attach = trial % 3 == 2
    meta = {"filename": "big.bin", "relative_path": "files/crash", "replace": "1"}
    if attach:
        meta |= {"table": "Files", "column": "Doc"}
    rows_before = len(_rows(client, token))
    link = client.get("/api/v2.1/dtable/app-upload-link/", headers={"Authorization": f"Token {token}"}).json()
    created = client.post(link["tus_link"], headers={**TUS, "Upload-Length": str(SIZE),
                                                     "Upload-Metadata": encode_metadata(meta)})
    assert created.status_code == 201, created.text
    url = created.headers["location"]
    at_end = trial % 5 == 4
    kill_at = SIZE if at_end else rng.randrange(1, SIZE)
    sender = _Sender(seed, 0, kill_at, server)
    if at_end:  # kill while the server completes: a moment after the last byte
        timer = threading.Timer(rng.uniform(0, 0.05), server.kill)
        done = threading.Event()

        def arm() -> None:
            while sender.sent < SIZE and not done.is_set():
                time.sleep(0.001)
            timer.start()

        threading.Thread(target=arm, daemon=True).start()
        _patch(client, url, sender)
        done.set()
        timer.join()
    else:
        _patch(client, url, sender)
    server.kill()  # whatever happened above, the process is gone now
    server.start()
    head = _head(client, url)
    assert head.status_code == 200, head.text
    offset = int(head.headers["upload-offset"])
    assert offset <= sender.sent, (offset, sender.sent)
    complete = offset == SIZE
    # Atomic visibility: the file (and an attached row) only once complete, and then together.
    if not trial:  # the first trial's file does not exist yet unless it completed
        assert _visible(client, token) == complete
    if attach:
        assert len(_rows(client, token)) == rows_before + (1 if complete else 0)
    if not complete:
        r = _patch(client, url, _Sender(seed, offset, None, server))
        assert r is not None and r.status_code == 204, r.text if r is not None else "no answer"
    status = client.get(url).json()
    assert status["complete"], status
    assert status["result"]["sha256"] == expected, (trial, kill_at, offset)
    assert status["result"]["size"] == SIZE
    assert _visible(client, token)
    if attach:
        rows = _rows(client, token)
        assert len(rows) == rows_before + 1
        assert rows[-1]["Doc"][0]["name"] == status["result"]["name"]


def test_crash_resume_trials(tmp_path: Path) -> None:
    seed = random.randrange(1 << 30)
    expected = _source_sha(seed)
    rng = random.Random(seed)
    server = LiveServer(tmp_path / "data", env=ENV)
    server.start()
    try:
        token = server.create_token("Crash")
        with httpx.Client(base_url=server.url, timeout=60) as client:
            _setup_table(client, token)
            for trial in range(TRIALS):
                _trial(client, server, token, trial, seed, expected, rng)
            # the bytes of the last file read back whole
            link = client.get("/api/v2.1/dtable/app-download-link/", params={"path": "files/crash/big.bin"},
                              headers={"Authorization": f"Token {token}"}).json()["download_link"]
            sha = hashlib.sha256()
            with client.stream("GET", link) as r:
                for piece in r.iter_bytes(CHUNK):
                    sha.update(piece)
            assert sha.hexdigest() == expected
    finally:
        server.stop()
