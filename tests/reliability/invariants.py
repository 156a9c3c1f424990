"""The one check every reliability test ends with (reliability-test-plan §b, the fsck invariant).

``Invariants(server)`` is made while the server is healthy (it records the process's open file
descriptors); ``check()`` runs after the fault and asserts, for the server's backend:

* no metadata row lacks its blob, and every blob has the recorded size and SHA-256 (fsck);
* no unfinished write is left (local temp files, S3 multipart uploads) once uploads are idle;
* every acknowledged upload is visible with its exact bytes, and nothing else is visible
  (no partial file) in the folders the test names, except uploads that were in flight when the
  fault hit (they may have committed without the client hearing back);
* the server process holds no more file descriptors than before (slack for sockets, pools);
* the server still serves: a fresh upload round-trips through a download link.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field

import anyio
import httpx
from sqlalchemy import select

from atoll.db import schema
from atoll.services import fsck as fsck_service
from atoll.services.context import Context
from tests.backends import blob_state_sync
from tests.live_server import LiveServer

#: Descriptors a healthy server may open on its own between two checks (sockets, DB pool, logs).
FD_SLACK = 8
#: How long leftovers may take to disappear (an abort finishing, a connection closing).
SETTLE_S = 10.0


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_until(predicate: object, timeout: float = SETTLE_S, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():  # type: ignore[operator]
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        time.sleep(0.05)


@dataclass
class Invariants:
    server: LiveServer
    token: str
    #: path under the base's asset root (e.g. ``files/x/a.bin``) -> bytes acknowledged with 200
    acknowledged: dict[str, bytes] = field(default_factory=dict)
    #: paths whose upload was in flight when a fault hit: each may or may not be visible
    in_flight: set[str] = field(default_factory=set)
    fd_baseline: int = 0

    def __post_init__(self) -> None:
        self.fd_baseline = self.server_fds()

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}

    def reset_fd_baseline(self) -> None:
        """After a restart: the new process's descriptors are the baseline."""
        self.fd_baseline = self.server_fds()

    def server_fds(self) -> int:
        assert self.server.proc is not None
        return open_fds(self.server.proc.pid)

    def acknowledge(self, path: str, data: bytes) -> None:
        self.acknowledged[path.strip("/")] = data

    def check(self, *, folders: tuple[str, ...] = ()) -> None:
        ctx = Context.open(self.server.settings)
        try:
            self._no_dangling_metadata(ctx)
            wait_until(lambda: not blob_state_sync(ctx.blobs)[1], what="no unfinished writes")
            self._visible_is_acknowledged(ctx, folders)
        finally:
            ctx.engine.dispose()
        for path, data in self.acknowledged.items():
            assert self.download(path) == data, f"acknowledged {path} lost or changed"
        wait_until(lambda: self.server_fds() <= self.fd_baseline + FD_SLACK,
                   what=f"server fds back to {self.fd_baseline} (+{FD_SLACK})")
        self.still_serves()

    def _no_dangling_metadata(self, ctx: Context) -> None:
        report = anyio.run(lambda: fsck_service.fsck(ctx, verify_hashes=True))
        assert report.ok, f"fsck: missing={report.missing} size={report.bad_size} hash={report.bad_hash} "\
                          f"refs={report.refcounts} unrecorded={report.unrecorded} meta={report.metadata}"

    def _visible_is_acknowledged(self, ctx: Context, folders: tuple[str, ...]) -> None:
        with ctx.engine.connect() as conn:
            rows = conn.execute(select(schema.assets.c.dir_path, schema.assets.c.name)).all()
        visible = {f"{d.strip('/')}/{n}".strip("/") for d, n in rows}
        for folder in folders:
            prefix = folder.strip("/") + "/"
            inside = {p for p in visible if p.startswith(prefix)}
            acked = {p for p in self.acknowledged if p.startswith(prefix)}
            lost, extra = acked - inside, inside - acked - self.in_flight
            assert not lost, f"{folder}: acknowledged but not visible: {sorted(lost)}"
            assert not extra, f"{folder}: visible but never uploaded: {sorted(extra)}"

    def download(self, path: str) -> bytes:
        r = httpx.get(self.server.url + "/api/v2.1/dtable/app-download-link/",
                      params={"path": path}, headers=self.auth, timeout=30)
        assert r.status_code == 200, f"download link for {path}: {r.status_code} {r.text[:200]}"
        return httpx.get(r.json()["download_link"], timeout=60, follow_redirects=True).content

    def upload(self, name: str, data: bytes, *, folder: str = "files/reliability",
               timeout: float = 60) -> httpx.Response:
        """Upload through a fresh link; an answer of 200 is recorded as acknowledged."""
        link = httpx.get(self.server.url + "/api/v2.1/dtable/app-upload-link/",
                         headers=self.auth, timeout=30).json()
        r = httpx.post(link["upload_link"] + "?ret-json=1",
                       data={"parent_dir": link["parent_path"], "relative_path": folder},
                       files={"file": (name, data)}, timeout=timeout)
        if r.status_code == 200:
            self.acknowledge(f"{folder}/{r.json()[0]['name']}", data)
        return r

    def still_serves(self) -> None:
        probe = hashlib.sha256(str(time.time_ns()).encode()).digest() * 64
        r = self.upload(f"probe-{time.time_ns()}.bin", probe, folder="files/probe")
        assert r.status_code == 200, f"the server no longer serves uploads: {r.status_code} {r.text[:200]}"
        assert self.download(f"files/probe/{r.json()[0]['name']}") == probe
