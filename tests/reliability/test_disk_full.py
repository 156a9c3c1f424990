"""F4 (disk_full_tmpfs): the data dir on a small tmpfs. A full disk answers 507 within about a
second, leaves no temp file, no open fd and nothing visible, existing files still read back, and
uploads work again as soon as space is freed, without a restart. Also the free-space reserve
(declared size refused before the body is read; a chunked upload refused as it grows) and a
full SQLite database folder (507, database not corrupted)."""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.backends import on_postgres_s3
from tests.live_server import LiveServer
from tests.reliability.faults import fill, tmpfs
from tests.reliability.invariants import Invariants, wait_until
from tests.reliability.report import record

pytestmark = pytest.mark.skipif(
    on_postgres_s3(), reason="postgres-s3 keeps blobs in S3 and metadata in PostgreSQL: the server has no "
    "local disk to fill (S3 and database faults: test_io_errors.py)")

MiB = 1024 * 1024
BOUNDARY = "fullboundary"
#: A 507 must come this soon after the bytes that hit ENOSPC were sent (generous for CI).
ANSWER_WITHIN_S = 3.0
FOLDER = "files/reliability"


def _link(inv: Invariants) -> dict[str, str]:
    r = httpx.get(inv.server.url + "/api/v2.1/dtable/app-upload-link/", headers=inv.auth, timeout=30)
    return r.json()  # type: ignore[no-any-return]


def _raw_upload(inv: Invariants, declared: int) -> socket.socket:
    """Send the headers and form fields of an upload declaring a ``declared``-byte file; the
    caller sends (some of) the file bytes."""
    link = _link(inv)
    url = link["upload_link"]
    host_port, path = url.split("//", 1)[1].split("/", 1)
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="parent_dir"\r\n\r\n{link["parent_path"]}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="relative_path"\r\n\r\n{FOLDER}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
    ).encode()
    host, port = host_port.split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(f"POST /{path}?ret-json=1 HTTP/1.1\r\nHost: {host_port}\r\n"
                 f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
                 f"Content-Length: {len(head) + declared + len(BOUNDARY) + 8}\r\n\r\n".encode() + head)
    return sock


def _send(sock: socket.socket, nbytes: int) -> None:
    block = os.urandom(MiB)
    for _ in range(nbytes // MiB):
        sock.sendall(block)


def _keep_sending(sock: socket.socket, nbytes: int) -> None:
    """Go on sending the body in the background, as a real client does, until the server
    answers and closes. (A client that stops sending right after the disk fills is answered
    408 once the body pause limit passes instead: the failed write is noticed on the next
    piece of body; see docs/reliability.md.)"""
    def run() -> None:
        with contextlib.suppress(OSError):
            _send(sock, nbytes)

    threading.Thread(target=run, daemon=True).start()


def _status(sock: socket.socket, timeout: float) -> tuple[int, str]:
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next((int(line.split(b":", 1)[1]) for line in head.lower().split(b"\r\n")
                       if line.startswith(b"content-length:")), 0)
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return int(head.split(b" ", 2)[1]), body.decode(errors="replace")
    finally:
        sock.close()


def _chunked(inv: Invariants, size: int) -> httpx.Response:
    link = _link(inv)

    def body() -> Iterator[bytes]:
        yield (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="parent_dir"\r\n\r\n'
               f'{link["parent_path"]}\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; '
               f'name="relative_path"\r\n\r\n{FOLDER}\r\n--{BOUNDARY}\r\nContent-Disposition: '
               'form-data; name="file"; filename="chunked.bin"\r\n\r\n').encode()
        block = os.urandom(MiB)
        for _ in range(size // MiB):
            yield block
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    try:
        return httpx.post(link["upload_link"] + "?ret-json=1", content=body(), timeout=60,
                          headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"})
    except httpx.WriteError:  # the server answered and closed while we were still sending
        pytest.fail("the server closed the connection without an answer the client could read")


def _no_temp_files(server: LiveServer) -> None:
    temp = server.data_dir / "blobs" / "tmp"
    wait_until(lambda: not [p for p in temp.rglob("*.part")], what="temp files removed")


def test_full_blob_disk_answers_507_frees_everything_and_recovers_without_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with tmpfs(data / "blobs", "64m") as blobs, \
            LiveServer(data, env={"ATOLL_MIN_FREE_BYTES": "0"}) as server:  # the disk itself fills
        inv = Invariants(server, server.create_token("DiskFull"))
        kept = os.urandom(8 * MiB)
        assert inv.upload("kept.bin", kept).status_code == 200
        filler = fill(blobs, leave_bytes=20 * MiB)

        sock = _raw_upload(inv, declared=100 * MiB)
        _send(sock, 24 * MiB)  # past the free 20 MiB: ENOSPC while these bytes are written
        sent = time.monotonic()
        _keep_sending(sock, 76 * MiB)
        status, body = _status(sock, timeout=30)
        answered_after = time.monotonic() - sent
        assert status == 507, body
        assert "disk is full" in body
        assert answered_after < ANSWER_WITHIN_S, answered_after
        _no_temp_files(server)
        st = os.statvfs(blobs)
        assert st.f_bavail * st.f_frsize >= 19 * MiB  # the failed upload's bytes are freed

        r = inv.upload("still-too-big.bin", os.urandom(30 * MiB))
        assert r.status_code == 507, r.text
        _no_temp_files(server)
        assert inv.download(f"{FOLDER}/kept.bin") == kept

        filler.unlink()  # space is back: the next upload works, no restart
        assert inv.upload("after.bin", os.urandom(30 * MiB)).status_code == 200
        inv.check(folders=(FOLDER,))
    print(f"\nF4 blob disk full: 507 {answered_after:.2f} s after the bytes that hit ENOSPC were sent")
    record("disk_full", status=507, answered_after_s=round(answered_after, 3), recovered_without_restart=True)


def test_reserve_refuses_a_declared_size_before_the_body_and_a_chunked_upload_as_it_grows(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"ATOLL_MIN_FREE_BYTES": str(16 * MiB), "ATOLL_FREE_SPACE_CHECK_BYTES": str(4 * MiB)}
    with tmpfs(data / "blobs", "64m"), LiveServer(data, env=env) as server:
        inv = Invariants(server, server.create_token("Reserve"))
        assert inv.upload("small.bin", os.urandom(MiB)).status_code == 200

        sock = _raw_upload(inv, declared=100 * MiB)  # no file byte is sent at all
        status, body = _status(sock, timeout=10)
        assert status == 507, body
        assert "storage space" in body

        r = _chunked(inv, 60 * MiB)  # 64 MiB disk, 16 MiB reserve: crosses it after about 47 MiB
        assert r.status_code == 507, r.text
        _no_temp_files(server)

        ready = httpx.get(server.url + "/api/ready", timeout=10)
        assert ready.status_code == 200 and ready.json()["space"]["status"] == "ok", ready.text
        assert _chunked(inv, 30 * MiB).status_code == 200  # checked by fsck in check()
        inv.check(folders=())


def test_full_sqlite_folder_answers_507_and_the_database_stays_sound(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with tmpfs(tmp_path / "db", "8m") as db_dir:
        db_file = db_dir / "atoll.sqlite3"
        env = {"ATOLL_DB_URL": f"sqlite:///{db_file}", "ATOLL_MIN_FREE_BYTES": "0"}
        with LiveServer(data, env=env) as server:
            inv = Invariants(server, server.create_token("DbFull"))
            assert inv.upload("before.bin", b"before" * 1000).status_code == 200
            filler = fill(db_dir, leave_bytes=0)
            statuses = []
            for n in range(200):  # until the database needs a page the disk cannot give
                r = inv.upload(f"while-full-{n}.bin", b"f" * 1000, folder=f"{FOLDER}/n{n}")
                statuses.append(r.status_code)
                if r.status_code != 200:
                    break
            assert statuses[-1] == 507, statuses
            assert "disk is full" in r.text
            _no_temp_files(server)
            filler.unlink()
            assert inv.upload("after.bin", b"after" * 1000).status_code == 200
            inv.check(folders=(FOLDER,))
        with sqlite3.connect(db_file) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        conn.close()
    print(f"\nF4 SQLite folder full: 507 after {len(statuses) - 1} more uploads filled the WAL")
