"""F3 (ioerr_enumeration) and G8: I/O errors injected into the live server, which is never
restarted.

sqlite-local: ``strace -f -p <server> -e inject=<syscall>:error=<EIO|ENOSPC>:when=N`` for one
upload at a time, for each syscall the upload path uses on files (checked with ``strace -f -c``:
blob and SQLite writes are ``pwrite64``; ``fsync`` for the temp file, its folder and SQLite's
WAL; SQLite's ``fdatasync``; ``rename``; ``mkdir`` of a fan-out folder; ``openat`` of the temp
file and folder). Plain ``write`` is left out: sockets and the event loop's wake-up eventfd use
it, and an eventfd write failing (which a disk fault cannot cause) aborts libuv. strace counts
calls per thread, so the N-th call of every thread fails; ``-y`` names each failed call's file, and every
failure that hit a file of the data dir must give 507 (ENOSPC) or 503 (EIO). Whatever was hit,
nothing partial is visible, no fd leaks, and the next upload succeeds without a restart.
``ATOLL_RELIABILITY_FULL=1`` tries N = 1..8 instead of the CI set.

postgres-s3: S3 failing under a live server (a fault proxy in front of moto) and PostgreSQL
stopped in the middle of an upload: a clean 5xx, nothing left, the next upload works.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests import services
from tests.backends import on_postgres_s3, server_env
from tests.faultproxy import Fault, Kind, in_front_of
from tests.live_server import LiveServer
from tests.reliability.faults import strace
from tests.reliability.invariants import FD_SLACK, Invariants, wait_until
from tests.reliability.report import record

MiB = 1024 * 1024
FULL = os.environ.get("ATOLL_RELIABILITY_FULL") == "1"
#: (syscall, the N to try). CI: a handful per syscall; FULL: 1..8 each.
POINTS: dict[str, tuple[int, ...]] = {
    "pwrite64": (1, 2, 4),
    "fsync": (1, 2, 3),
    "fdatasync": (1,),
    "rename": (1,),
    "mkdir": (1,),
    "openat": (1, 2),
}
if FULL:
    POINTS = {name: tuple(range(1, 9)) for name in POINTS}
EXPECTED = {"EIO": 503, "ENOSPC": 507}
FOLDER = "files/reliability"
#: 3 MiB and a tail: three 1 MiB direct writes, then the unaligned tail at commit.
UPLOAD_BYTES = 3 * MiB + 1000
#: Under one chunk: the whole durable write is one call of the native helper (storage/native.py)
#: on a worker thread, whose system calls strace fails as well.
SMALL_UPLOAD_BYTES = 4096
INJECTED = re.compile(r"^\d+\s+(\w+)\((.*)\(INJECTED\)\s*$")


@dataclass
class Tally:
    tried: int = 0
    hit_data_files: int = 0
    hit_elsewhere_only: int = 0
    missed: int = 0
    statuses: dict[str, int] = field(default_factory=dict)

    def add(self, status: str) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


def _injected(log: Path) -> list[tuple[str, str]]:
    """(syscall, arguments with fds decoded as ``fd<path>``) of every injected failure."""
    out = []
    for line in log.read_text(errors="replace").splitlines():
        match = INJECTED.match(line)
        if match:
            out.append((match.group(1), match.group(2)[:300]))
    return out


@pytest.mark.skipif(on_postgres_s3(), reason="postgres-s3: the server writes no local files (blobs go "
                    "to S3, metadata to PostgreSQL); its faults are the S3 and database tests below")
@pytest.mark.parametrize("size", [UPLOAD_BYTES, SMALL_UPLOAD_BYTES], ids=["chunked", "small"])
@pytest.mark.parametrize("error", ["EIO", "ENOSPC"])
def test_injected_io_errors_fail_the_upload_and_the_next_one_works(tmp_path: Path, error: str,
                                                                    size: int) -> None:
    data = tmp_path / "data"
    # 1 MiB chunks: the injection points below count the writes of that write pattern
    with LiveServer(data, env={"ATOLL_MIN_FREE_BYTES": "0", "ATOLL_CHUNK_BYTES": str(MiB)}) as server:
        assert server.proc is not None
        inv = Invariants(server, server.create_token("IoErr"))
        assert inv.upload("warm-up.bin", os.urandom(UPLOAD_BYTES)).status_code == 200
        tally = Tally()
        for syscall, points in POINTS.items():
            for n in points:
                tally.tried += 1
                log = tmp_path / f"strace-{syscall}-{n}.log"
                payload = os.urandom(size)
                name = f"{syscall}-{n}.bin"
                with strace(server.proc.pid, "-y", "-e", f"trace={syscall}",
                            "-e", f"inject={syscall}:error={error}:when={n}", log=log):
                    try:
                        r: httpx.Response | None = inv.upload(name, payload, timeout=30)
                    except httpx.HTTPError:
                        r = None  # only acceptable when the client's socket write was hit
                hits = _injected(log)
                on_files = [(call, args) for call, args in hits if str(data) in args]
                status = "no answer" if r is None else str(r.status_code)
                tally.add(status)
                where = f"{syscall} #{n} {error}: injected into {hits}, answered {status}"
                if on_files:
                    tally.hit_data_files += 1
                    assert r is not None and r.status_code == _expected(error, on_files), where
                elif hits:
                    tally.hit_elsewhere_only += 1  # a socket or the log: any clean outcome
                else:
                    tally.missed += 1
                    assert r is not None and r.status_code == 200, where
                if r is None or r.status_code != 200:  # committed despite a lost answer?
                    _acknowledge_if_visible(inv, name, payload)
                # the very next upload works, without a restart, and nothing leaked
                assert inv.upload(f"next-{syscall}-{n}.bin", os.urandom(64 * 1024)).status_code == 200, where
                wait_until(lambda: inv.server_fds() <= inv.fd_baseline + FD_SLACK, what=f"fds after {where}")
                assert not list((data / "blobs" / "tmp").rglob("*.part")), where
        inv.check(folders=(FOLDER,))
    print(f"\nF3 {error} {size} bytes: {tally}")
    record("ioerr", error=error, size=size, tried=tally.tried, hit_data_files=tally.hit_data_files,
           hit_elsewhere_only=tally.hit_elsewhere_only, missed=tally.missed, statuses=tally.statuses)
    assert tally.hit_data_files >= len(POINTS)  # every syscall had at least one point on a file


def _expected(error: str, on_files: list[tuple[str, str]]) -> int:
    """507 for ENOSPC, 503 for EIO; except that SQLite reports any failed fsync of its files as
    SQLITE_IOERR_FSYNC without the errno, so ENOSPC there can only be a 503."""
    if error == "ENOSPC" and all(call in ("fsync", "fdatasync") and "sqlite3" in args
                                 for call, args in on_files):
        return 503
    return EXPECTED[error]


def _acknowledge_if_visible(inv: Invariants, name: str, payload: bytes) -> None:
    """A failure after the metadata commit (the answer lost on the socket) leaves the file
    visible: then it must be whole. Nothing else may be visible (checked by inv.check)."""
    r = httpx.get(inv.server.url + "/api/v2.1/dtable/app-download-link/",
                  params={"path": f"{FOLDER}/{name}"}, headers=inv.auth, timeout=30)
    if r.status_code == 200:
        inv.acknowledge(f"{FOLDER}/{name}", payload)


# ------------------------------------------------------------------ postgres-s3


needs_pg_s3 = pytest.mark.skipif(not on_postgres_s3(), reason="sqlite-local has no S3 store and no "
                                 "database server to stop (its disk and I/O faults are tested above)")


@needs_pg_s3
def test_s3_failing_under_a_live_server_gives_a_clean_5xx_and_recovers(tmp_path: Path) -> None:
    moto = services.moto()
    with in_front_of(moto.endpoint) as proxy:
        env = {**server_env(), "ATOLL_S3_ENDPOINT_URL": proxy.endpoint, "AWS_ENDPOINT_URL": proxy.endpoint,
               "ATOLL_S3_TIMEOUT_S": "1", "ATOLL_S3_MAX_ATTEMPTS": "2", "ATOLL_S3_PART_BYTES": str(5 * MiB)}
        with LiveServer(tmp_path / "data", env=env) as server:
            inv = Invariants(server, server.create_token("S3Live"))
            assert inv.upload("before.bin", os.urandom(MiB)).status_code == 200
            results = {}
            cases: list[tuple[Kind, int]] = [("slowdown", 503), ("reset", 503), ("500", 502)]
            for kind, status in cases:
                for size in (MiB, 11 * MiB):  # a single PUT; a multipart upload
                    proxy.faults[:] = [Fault(kind, method="PUT", target_contains="/", times=1000)]
                    r = inv.upload(f"{kind}-{size}.bin", os.urandom(size))
                    proxy.faults.clear()
                    results[(kind, size)] = r.status_code
                    assert r.status_code == status, (kind, size, r.text)
                    assert inv.upload(f"next-{kind}-{size}.bin", os.urandom(size)).status_code == 200
            inv.check(folders=(FOLDER,))
    print(f"\nG8 S3 live: {results}")


@needs_pg_s3
def test_database_stopped_mid_upload_gives_503_and_the_next_upload_works(tmp_path: Path) -> None:
    pg = services.postgres()
    env = {**server_env(), "ATOLL_DB_URL": pg.new_url()}
    with LiveServer(tmp_path / "data", env=env) as server:
        inv = Invariants(server, server.create_token("PgStop"))
        assert inv.upload("before.bin", os.urandom(MiB)).status_code == 200
        link = httpx.get(server.url + "/api/v2.1/dtable/app-upload-link/", headers=inv.auth,
                         timeout=30).json()
        sock, rest = _stalled_upload(link, 24 * MiB)
        try:
            pg.stop("immediate")  # the upload's bytes are in S3 already; its metadata commit is not
            sender = threading.Thread(target=sock.sendall, args=(rest,))
            sender.start()
            status = _status_of(sock)
            sender.join(timeout=30)
        finally:
            sock.close()
            if not pg.started:
                pg.pg_ctl("start")
        assert status == 503, status
        deadline = time.monotonic() + 10
        while inv.upload("after.bin", os.urandom(MiB)).status_code != 200:
            assert time.monotonic() < deadline, "no upload works 10 s after the database is back"
            time.sleep(0.2)
        inv.check(folders=(FOLDER,))


def _stalled_upload(link: dict[str, str], size: int) -> tuple[socket.socket, bytes]:
    """Send all of a ``size``-byte upload but its last bytes; return the socket and those bytes."""
    boundary = "pgstop"
    host_port, path = link["upload_link"].split("//", 1)[1].split("/", 1)
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="parent_dir"\r\n\r\n{link["parent_path"]}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="relative_path"\r\n\r\n{FOLDER}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="stopped.bin"\r\n\r\n'
    ).encode() + os.urandom(size) + f"\r\n--{boundary}--\r\n".encode()
    host, port = host_port.split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(f"POST /{path}?ret-json=1 HTTP/1.1\r\nHost: {host_port}\r\n"
                 f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                 f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:-1000])
    return sock, body[-1000:]


def _status_of(sock: socket.socket) -> int:
    sock.settimeout(60)
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return -1
        data += chunk
    return int(data.split(b" ", 2)[1])
