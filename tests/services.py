"""Real services for tests: a throwaway PostgreSQL cluster and moto's S3 server on 127.0.0.1.

Each starts on first use (``postgres()``, ``moto()``), once per test process, and stops at
exit — also when the run fails. Tests get their own namespace in them: a fresh PostgreSQL schema
(``postgres().new_url()``) and a fresh S3 prefix (``moto().new_storage_url()``), so no test sees
another's data and nothing has to be cleaned between tests.

PostgreSQL comes from Debian's packages (``.ci/run`` installs them); as root, the cluster runs as
the ``postgres`` system user, because initdb refuses to run as root.
"""

from __future__ import annotations

import atexit
import functools
import glob
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

START_TIMEOUT_S = 60.0
#: pg_ctl start's wait, and how long a new connection waits out a crash recovery.
PG_START_TIMEOUT_S = 300
#: Where services keep their files; .ci/run points it at a folder it cleans up (and whose
#: leftover services it stops) even when the test process itself was killed.
RUN_DIR = os.environ.get("ATOLL_TEST_RUN_DIR") or None
S3_BUCKET = "atoll-test"
#: Credentials moto accepts (any non-empty pair); exported so every client in the test run agrees.
S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: Ports a restarting service listens on: below the kernel's ephemeral range, which hands ports to
#: bind(0) and to every outgoing connection (one of them took a stopped PostgreSQL's port while the
#: tests restarted it: pg_ctl start then failed to bind).
STABLE_PORTS = range(20000, 30000)


def stable_port() -> int:
    """A free port the kernel never hands out by itself (``STABLE_PORTS``), so it is still free
    when the service that had it starts again."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    candidates = [p for p in STABLE_PORTS if p < low]
    for port in random.sample(candidates, len(candidates)):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {STABLE_PORTS} below the ephemeral range")


def _pg_bindir() -> Path:
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=False).stdout
        if out.strip() and Path(out.strip(), "initdb").exists():
            return Path(out.strip())
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql); .ci/run installs it")
    return Path(candidates[-1]).parent


#: The throwaway cluster skips fsync (and full-page images): the suite crashes PostgreSQL's
#: processes (an immediate stop), never the machine, and the page cache keeps what they wrote,
#: so no outcome changes; only the time the lane spends waiting for the disk does (the
#: restart test's CHECKPOINT flushed the whole lane's writes). Durability across a power loss is
#: PostgreSQL's own, with atoll's commits acknowledged only after their COMMIT returns.
PG_TEST_OPTIONS = "-c fsync=off -c full_page_writes=off"


class Postgres:
    """A PostgreSQL cluster in a temp folder, trust auth, listening on 127.0.0.1 only."""

    def __init__(self) -> None:
        self.port = stable_port()  # it is stopped and started again by the restart tests
        self.root = Path(tempfile.mkdtemp(prefix="atoll-pg-", dir=RUN_DIR))
        self.data = self.root / "data"
        self.bindir = _pg_bindir()
        self.started = False

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, cwd="/")

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        if not self.data.exists():
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.pg_ctl("start")

    def pg_ctl(self, action: str, *extra: str) -> None:
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=300 "
                f"{PG_TEST_OPTIONS}")
        args = ["pg_ctl", "-D", str(self.data), "-w", "-t", str(PG_START_TIMEOUT_S), "-l",
                str(self.root / "log")]
        if action == "start":
            args += ["-o", opts]
        self._run(*args, action, *extra)
        self.started = action != "stop"

    def stop(self, mode: str = "fast") -> None:
        """Stop the cluster. ``immediate`` is a crash: a CHECKPOINT first bounds the WAL its
        restart replays to what the test itself wrote since (a CI run once replayed the whole
        lane's WAL on a busy machine for minutes, past pg_ctl's wait, and every later test failed
        to connect: "not yet accepting connections")."""
        if not self.started:
            return
        if mode == "immediate":
            self._checkpoint()
        self.pg_ctl("stop", "-m", mode)

    def _checkpoint(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute("CHECKPOINT")

    def _connect_when_ready(self) -> Any:
        """An admin connection, waiting out a recovery still under way (up to PG_START_TIMEOUT_S)."""
        import psycopg

        deadline = time.monotonic() + PG_START_TIMEOUT_S
        while True:
            try:
                return psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10)
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def destroy(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def new_url(self) -> str:
        """A URL whose connections see only a new, empty schema."""

        schema = "t_" + uuid.uuid4().hex[:16]
        with self._connect_when_ready() as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        return f"{self.admin_url}?options=-csearch_path%3D{schema}"


class Moto:
    """moto's S3 server (``moto_server``) on 127.0.0.1 with one bucket."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.root = Path(tempfile.mkdtemp(prefix="atoll-moto-", dir=RUN_DIR))
        self.log = self.root / "moto.log"

    def start(self) -> None:
        exe = Path(sys.executable).with_name("moto_server")
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "moto.server"]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [*cmd, "-H", "127.0.0.1", "-p", str(self.port)], stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, **S3_ENV}, start_new_session=True,
            )
        (self.root / "moto.pid").write_text(str(self.proc.pid))
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto_server exited: {self.log.read_text()[-2000:]}")
            try:
                httpx.put(f"{self.endpoint}/{S3_BUCKET}", timeout=1.0)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("moto_server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    @property
    def env(self) -> dict[str, str]:
        """What a server or client needs to reach this moto (the standard AWS variables)."""
        return {**S3_ENV, "AWS_ENDPOINT_URL": self.endpoint}

    def new_storage_url(self) -> str:
        return f"s3://{S3_BUCKET}/t-{uuid.uuid4().hex[:16]}"


@functools.cache
def postgres() -> Postgres:
    """The run's PostgreSQL cluster, started on first use, destroyed at exit."""
    pg = Postgres()
    atexit.register(pg.destroy)
    pg.start()
    return pg


@functools.cache
def moto() -> Moto:
    """The run's moto S3 server, started on first use, stopped at exit."""
    m = Moto()
    atexit.register(m.stop)
    m.start()
    return m
