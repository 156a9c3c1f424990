"""Run deploy/nginx.conf, rendered for a test, as a foreground nginx on 127.0.0.1.

Usage::

    proxy = NginxProxy(tmp_path / "nginx", binary=nginx_binary())   # picks its port: proxy.url
    proxy.start(["127.0.0.1:8001", "127.0.0.1:8002"])                # the atoll processes
    httpx.get(proxy.url + "/api/health")
    proxy.stop()

Everything nginx writes (pid, logs, temp folders) stays under the given folder.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import httpx

from tests.live_server import free_port

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "nginx.conf"
START_TIMEOUT_S = 15.0
PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
#: nginx's own warnings when it stores a request or response body on disk (ngx_http_request_body.c,
#: ngx_event_pipe.c); the byte paths must never cause them.
BUFFERED_WARNINGS = (
    "a client request body is buffered to a temporary file",
    "an upstream response is buffered to a temporary file",
)


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def render(template: str, values: dict[str, str]) -> str:
    """envsubst restricted to ``values``: fill ``${NAME}``; nginx's ``$vars`` stay as they are."""
    names = set(PLACEHOLDER.findall(template))
    missing = names - values.keys()
    if missing:
        raise KeyError(f"no value for placeholder(s) {sorted(missing)}")
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


class NginxProxy:
    def __init__(self, root: Path, *, binary: str) -> None:
        self.root = Path(root)
        self.binary = binary
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state_dir = self.root / "state"
        self.log_dir = self.root / "log"
        self.conf = self.root / "nginx.conf"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def client_body_dir(self) -> Path:
        return self.state_dir / "client_body"

    @property
    def error_log(self) -> str:
        path = self.log_dir / "error.log"
        return path.read_text() if path.exists() else ""

    @property
    def access_log(self) -> str:
        path = self.log_dir / "access.log"
        return path.read_text() if path.exists() else ""

    def values(self, upstreams: list[str]) -> dict[str, str]:
        return {
            "ATOLL_LISTEN": f"127.0.0.1:{self.port}",
            "ATOLL_SERVER_NAME": "127.0.0.1",
            "ATOLL_UPSTREAM_SERVERS": " ".join(f"server {u} max_fails=1 fail_timeout=10s;"
                                               for u in upstreams),
            "NGINX_USER": getpass.getuser(),  # only used when nginx starts as root (CI)
            "NGINX_STATE_DIR": str(self.state_dir),
            "NGINX_LOG_DIR": str(self.log_dir),
        }

    def start(self, upstreams: list[str]) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(render(TEMPLATE.read_text(), self.values(upstreams)))
        base = [self.binary, "-p", str(self.root), "-e", str(self.log_dir / "error.log"),
                "-c", str(self.conf)]
        check = subprocess.run([*base, "-t"], capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t failed: {check.stderr}")
        with (self.log_dir / "stderr.log").open("ab") as out:  # the child keeps its own descriptor
            self.proc = subprocess.Popen([*base, "-g", "daemon off;"], stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.error_log[-2000:]}")
            try:
                httpx.get(self.url + "/nginx-probe", timeout=1.0)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx did not start: {self.error_log[-2000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: fast shutdown of master and workers
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                pids.append(int(stat.parent.name))
        return pids

    def open_files_under(self, folder: Path) -> list[str]:
        """Files below ``folder`` that nginx's workers hold open right now (nginx unlinks its
        temp files at once, so only /proc shows them)."""
        prefix = str(folder)
        found = []
        for pid in self.worker_pids():
            for fd in Path(f"/proc/{pid}/fd").glob("*"):
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                if target.startswith(prefix):
                    found.append(target)
        return found
