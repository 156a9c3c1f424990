"""Start a real atoll server process on 127.0.0.1 for tests that speak HTTP over a socket.

Usage::

    with LiveServer(tmp_path) as server:
        token = server.create_token("Demo")          # API token for a new base
        requests.get(server.url + "/api2/ping/")

The server runs as ``python -m atoll serve`` in its own process group, so tests can also
``server.kill()`` it (SIGKILL) and ``server.start()`` it again on the same data dir.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import httpx

from atoll.config import Settings
from atoll.db.engine import make_engine
from atoll.db.migrations import ensure_schema
from atoll.services.access import create_api_token
from tests.backends import server_env
from tests.services import free_port

READY_TIMEOUT_S = 30.0


class LiveServer:
    def __init__(
        self,
        data_dir: Path,
        *,
        server: str | None = None,
        env: dict[str, str] | None = None,
        public_url: str | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        #: What the server puts in generated links (``--public-url``): its own URL by default,
        #: a proxy's URL when it runs behind one.
        self.public_url = public_url or self.url
        self.server = server
        #: The active test backend's namespace (a fresh one unless ``env`` names one): pass
        #: ``env=first.extra_env`` to start a second process on the same data.
        self.extra_env = env if env and "ATOLL_DB_URL" in env else {**server_env(), **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.data_dir.parent / f"atoll-{self.port}.log"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.extra_env)
        return env

    @property
    def settings(self) -> Settings:
        """This server's settings, to open its database and blob store from the test."""
        return Settings.load(environ=self._env(), data_dir=self.data_dir, public_url=self.url)

    def cli(self, *args: str) -> str:
        """Run ``atoll <args>`` against this server's data dir; return its stdout."""
        out = subprocess.run(
            [sys.executable, "-m", "atoll", *args], capture_output=True, env=self._env(), check=False
        )
        if out.returncode:
            raise RuntimeError(f"atoll {' '.join(args[:2])} failed: {out.stderr.decode()[-2000:]}")
        return out.stdout.decode()

    def create_token(self, base: str, *, workspace: str = "Default", permission: str = "rw") -> str:
        """A new API token, made in this process as ``atoll token create`` would (the command
        itself is tested in tests/client; a second Python process per token costs seconds)."""
        engine = make_engine(self.settings.db_url)
        try:
            ensure_schema(engine)
            made = create_api_token(engine, base=base, workspace=workspace,
                                    permission="rw" if permission == "rw" else "r")
        finally:
            engine.dispose()
        return made.token

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable, "-m", "atoll", "serve", "--host", "127.0.0.1",
            "--port", str(self.port), "--data-dir", str(self.data_dir),
            "--public-url", self.public_url,
        ]
        if self.server:
            cmd += ["--server", self.server]
        with self.log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=self._env(), start_new_session=True
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"atoll exited early: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/api2/ping/", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"atoll did not become ready: {self.log_path.read_text()[-2000:]}")

    def _signal(self, sig: signal.Signals) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        """SIGKILL the whole server process group, as a crash would."""
        self._signal(signal.SIGKILL)
        if self.proc:
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)
        if self.proc:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextmanager
def two_processes(data_dir: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two server processes on one data dir and database (the second gets the first's env)."""
    first = LiveServer(data_dir)
    first.start()
    second = LiveServer(data_dir, env=first.extra_env)
    try:
        second.start()
        yield first, second
    finally:
        second.stop()
        first.stop()
