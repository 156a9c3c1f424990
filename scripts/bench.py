#!/usr/bin/env python3
"""Side-by-side file-transfer benchmark: atoll on uvicorn and on granian against nginx.

Run it through ``scripts/bench`` (which installs nginx/wrk, owns the temp dir and the
cleanup trap). Method, after shared/reference/performance-anchors.md:

* every server is up at once, one process/worker each, on 127.0.0.1;
* each round runs the same command against every server in a rotated order, and a
  figure's ratio to nginx is taken round by round; the median of those ratios is quoted;
* big uploads: ``curl -F`` (streams, ``Expect:`` off) of one random file to the
  upload-api link, with one untimed warm-up upload to the same server right before each
  timed one (this VM returns freed memory to its host; without the warm-up the first
  large write after a delete costs 2-4x more kernel time);
* big downloads: ``curl -o /dev/null`` of the download link;
* 4 KiB files: ``wrk -t1 -c32`` with Lua scripts, same scripts against every server;
* server RSS: VmHWM summed over the server's process tree, reset (clear_refs 5) right
  before each timed big upload; idle = VmRSS summed after start-up.

Only the standard library is used, so any Python >= 3.9 runs it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

MIB = 1024 * 1024
MB = 1_000_000
ATOLL_SERVERS = ("uvicorn", "granian")
ALL_SERVERS = ("nginx", *ATOLL_SERVERS)
PROXIED = "atoll-2p-nginx"  # two atoll uvicorn processes behind deploy/nginx.conf
TARGETS = {"upload": 0.5, "download": 0.4, "rss_mib": 64}


class Backend:
    """What atoll runs on, and what its figures are held against."""

    def __init__(self, name: str, servers: tuple[str, ...], refs: tuple[str, ...],
                 targets: tuple[tuple[str, str, float], ...], doc: str, title: str) -> None:
        self.name, self.servers, self.refs, self.targets = name, servers, refs, targets
        self.doc, self.title = doc, title


BACKENDS = {
    "sqlite-local": Backend(
        "sqlite-local", ALL_SERVERS, ("nginx",),
        (("upload", "nginx", TARGETS["upload"]), ("download", "nginx", TARGETS["download"])),
        "docs/benchmarks.md", "atoll file-transfer benchmarks"),
    # moto is both atoll's blob store and the raw ceiling (PUT/GET straight to it, no atoll).
    "postgres-s3": Backend(
        "postgres-s3", ("nginx", "moto", "uvicorn", PROXIED), ("nginx", "moto"),
        (("upload", "moto", 0.7), ("download", "moto", 0.7)),
        "docs/benchmarks-postgres-s3.md", "atoll on PostgreSQL + S3 (moto): file-transfer benchmarks"),
}
FINDINGS_MARKER = "<!-- findings: hand-written, kept when scripts/bench rewrites this file -->"


# --------------------------------------------------------------------------------------
# small helpers


def log(msg: str) -> None:
    print(msg, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def parse_size(text: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgKMG]?)(i?[bB])?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {text!r} (use e.g. 1G, 64M, 4096)")
    mult = {"": 1, "k": 1024, "m": MIB, "g": 1024 * MIB}[m.group(2).lower()]
    return int(float(m.group(1)) * mult)


def human_size(n: int) -> str:
    for unit, div in (("GiB", 1024 * MIB), ("MiB", MIB), ("KiB", 1024)):
        if n >= div and n % div == 0:
            return f"{n // div} {unit}"
    return f"{n} B"


def http_json(url: str, headers: dict[str, str] | None = None, timeout: float = 30) -> object:
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())


def http_status(url: str, timeout: float = 2) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            resp.read()
            return int(resp.status)
    except urllib.error.HTTPError as e:
        return int(e.code)
    except (urllib.error.URLError, OSError):
        return 0


def median(xs: list[float]) -> float:
    xs = [x for x in xs if x is not None and not math.isnan(x)]
    return statistics.median(xs) if xs else float("nan")


def rotated(items: list[str], k: int) -> list[str]:
    k %= len(items)
    return items[k:] + items[:k]


# --------------------------------------------------------------------------------------
# /proc: process tree, RSS, CPU


def _ppid_map() -> dict[int, int]:
    out: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
        except OSError:
            continue
        rest = stat[stat.rfind(")") + 2 :].split()
        out[int(d)] = int(rest[1])
    return out


def process_tree(roots: int | list[int]) -> list[int]:
    """The processes under ``roots`` (one pid or several: a server made of several processes)."""
    ppids = _ppid_map()
    tree: list[int] = []
    todo = [roots] if isinstance(roots, int) else list(roots)
    while todo:
        p = todo.pop()
        if p in ppids or os.path.exists(f"/proc/{p}"):
            tree.append(p)
        todo.extend(c for c, pp in ppids.items() if pp == p)
    return tree


def _status_kib(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_kib(roots: int | list[int], field: str) -> int:
    return sum(_status_kib(p, field) for p in process_tree(roots))


def reset_hwm(roots: int | list[int]) -> None:
    for p in process_tree(roots):
        try:
            with open(f"/proc/{p}/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            pass


CLK_TCK = os.sysconf("SC_CLK_TCK")


def tree_cpu_s(roots: int | list[int]) -> float:
    total = 0
    for p in process_tree(roots):
        try:
            with open(f"/proc/{p}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
        except OSError:
            continue
        rest = stat[stat.rfind(")") + 2 :].split()
        total += int(rest[11]) + int(rest[12])  # utime, stime
    return total / CLK_TCK


# --------------------------------------------------------------------------------------
# servers


class Server:
    """One server under test, started in its own process group."""

    name: str
    port: int
    proc: subprocess.Popen[bytes] | None = None

    def __init__(self, name: str, tmp: Path, pgid_file: Path) -> None:
        self.name = name
        self.tmp = tmp
        self.pgid_file = pgid_file
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.auth: dict[str, str] = {}
        self.log_path = tmp / f"{name}.log"
        self.idle_rss_kib = 0

    def _spawn(self, cmd: list[str], env: dict[str, str] | None = None) -> None:
        logf = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            cmd, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True, env=env,
            stdin=subprocess.DEVNULL,
        )
        with self.pgid_file.open("a") as f:
            f.write(f"{self.proc.pid}\n")

    def wait_ready(self, timeout: float = 60) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.tail_log()}")
            if http_status(self.url + "/api2/ping/") == 200:
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s:\n{self.tail_log()}")

    def tail_log(self, n: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self) -> None:
        if not self.proc or self.proc.poll() is not None:
            return
        pg = self.proc.pid
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(pg, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # Reap any stragglers left in the group (e.g. workers of a killed master).
        try:
            os.killpg(pg, signal.SIGKILL)
        except ProcessLookupError:
            pass

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def roots(self) -> list[int]:
        """Processes whose trees count as this server for RSS and CPU."""
        return [self.pid]

    #: Only in the big up/download phases (a raw store, not a SeaTable file server).
    big_only = False

    # --- big transfers (the phases call these; subclasses change how, not what) -------

    def upload_file(self, ctx: dict[str, str], payload: Path, name: str) -> tuple[float, int]:
        """Upload ``payload`` as ``name`` through the upload link in ``ctx`` -> (s, bytes)."""
        link = {"upload_link": ctx["upload_link"], "parent_path": ctx["parent_path"],
                "file_relative_path": ctx["file_relative_path"]}
        t, sent, reply = curl_upload(link, payload, name)
        check_upload_reply(reply, name, payload.stat().st_size)
        return t, sent

    def big_download_url(self, ctx: dict[str, str]) -> str:
        return self.download_link(ctx["big_rel"])

    def download_file(self, url: str) -> tuple[float, int]:
        return curl_download(url)

    def sha256_download(self, url: str) -> tuple[str, int]:
        return sha256_of_url(url)

    # --- SeaTable file API, identical for every server ----------------------------

    def upload_link(self) -> dict[str, str]:
        d = http_json(self.url + "/api/v2.1/dtable/app-upload-link/", self.auth)
        assert isinstance(d, dict) and "upload_link" in d, d
        return d  # type: ignore[return-value]

    def download_link(self, rel_path: str) -> str:
        q = urllib.parse.quote(rel_path, safe="/")
        d = http_json(self.url + "/api/v2.1/dtable/app-download-link/?path=" + q, self.auth)
        assert isinstance(d, dict) and "download_link" in d, d
        return str(d["download_link"])


NGINX_CONF = """\
worker_processes 1;
daemon off;
master_process on;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
{user}
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 120s;
    keepalive_requests 100000000;
    default_type application/octet-stream;
    client_max_body_size 0;
    client_body_buffer_size {body_buf};
    client_body_temp_path {d}/body 1 2;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;

    # The "trivial local endpoint" the upload is proxied to after nginx has stored the body.
    upstream bench_ok {{ server 127.0.0.1:{port2}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port2};
        location / {{
            default_type application/json;
            return 200 '[{{"name": "stored.bin", "id": "{zero_id}", "size": 0}}]';
        }}
    }}

    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location = /api2/ping/ {{ default_type application/json; return 200 '"pong"'; }}
        # Same JSON shapes as SeaTable's link endpoints (static: nginx has no auth or tickets).
        location = /api/v2.1/dtable/app-upload-link/ {{
            default_type application/json;
            return 200 '{{"upload_link": "http://127.0.0.1:{port}/seafhttp/upload-api/{ticket}", "parent_path": "/asset/{asset}", "img_relative_path": "images/bench", "file_relative_path": "files/bench"}}';
        }}
        location = /api/v2.1/dtable/app-download-link/ {{
            default_type application/json;
            return 200 '{{"download_link": "http://127.0.0.1:{port}/seafhttp/files/{ticket}/$arg_path"}}';
        }}
        # Upload: read the whole request body into a file (removed once the request is done,
        # as atoll's replace=1 frees the file it replaces), then a keep-alive proxy hop to the
        # trivial endpoint without the body.
        location ^~ /seafhttp/upload-api/ {{
            client_body_in_file_only clean;
            proxy_pass http://bench_ok;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header Content-Type "";
        }}
        # Same, but the body file is kept: used once to check nginx stores the whole body.
        location ^~ /seafhttp/upload-keep/ {{
            client_body_in_file_only on;
            client_body_temp_path {d}/keep;
            proxy_pass http://bench_ok;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header Content-Type "";
        }}
        # Download: static files with sendfile.
        location /seafhttp/files/{ticket}/ {{
            alias {static}/;
        }}
    }}
}}
"""


class Nginx(Server):
    def __init__(self, tmp: Path, pgid_file: Path, body_buf: str) -> None:
        super().__init__("nginx", tmp, pgid_file)
        self.dir = tmp / "nginx"
        self.static = self.dir / "static"
        self.ticket = str(uuid.uuid4())
        self.body_buf = body_buf

    def start(self) -> None:
        for sub in ("body", "keep", "proxy", "fastcgi", "uwsgi", "scgi", "logs"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        (self.static / "files" / "bench").mkdir(parents=True, exist_ok=True)
        user = ""
        if os.geteuid() == 0:
            # Workers drop to nobody: make the temp tree reachable for them.
            import grp
            import pwd

            nobody = pwd.getpwnam("nobody")
            try:
                group = grp.getgrnam("nogroup").gr_name
            except KeyError:
                group = grp.getgrgid(nobody.pw_gid).gr_name
            user = f"user nobody {group};"
            os.chmod(self.tmp, 0o755)
            for p in [self.dir, *self.dir.rglob("*")]:
                if p.is_dir():
                    os.chmod(p, 0o755)
            for sub in ("body", "keep", "proxy"):
                os.chown(self.dir / sub, nobody.pw_uid, nobody.pw_gid)
        conf = NGINX_CONF.format(
            d=self.dir, user=user, port=self.port, port2=free_port(), ticket=self.ticket,
            asset=uuid.uuid4(), static=self.static, zero_id="0" * 40, body_buf=self.body_buf,
        )
        (self.dir / "nginx.conf").write_text(conf)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self._spawn([nginx, "-p", str(self.dir), "-c", str(self.dir / "nginx.conf")])
        self.wait_ready()

    def publish(self, name: str, src: Path) -> None:
        """Make ``src`` downloadable as files/bench/<name> (hard link, no copy)."""
        dst = self.static / "files" / "bench" / name
        dst.unlink(missing_ok=True)
        try:
            os.link(src, dst)
        except OSError:
            shutil.copyfile(src, dst)
        os.chmod(dst, 0o644)

    def upload_file(self, ctx: dict[str, str], payload: Path, name: str) -> tuple[float, int]:
        link = {"upload_link": ctx["upload_link"], "parent_path": ctx["parent_path"],
                "file_relative_path": ctx["file_relative_path"]}
        t, sent, _ = curl_upload(link, payload, name)  # the static JSON reply says nothing
        return t, sent

    def self_test(self, payload: Path) -> None:
        """Check that the upload location really stores the whole request body."""
        url = f"{self.url}/seafhttp/upload-keep/{self.ticket}?ret-json=1"
        out = subprocess.run(
            ["curl", "-sS", "-f", "-H", "Expect:", "-F", "parent_dir=/asset/x",
             "-F", "relative_path=files/bench", "-F", "replace=1",
             "-F", f"file=@{payload};filename=check.bin", "-o", "/dev/null",
             "-w", "%{size_upload}", url],
            check=True, capture_output=True, text=True,
        )
        sent = int(float(out.stdout))
        stored = [p.stat().st_size for p in (self.dir / "keep").rglob("*") if p.is_file()]
        if stored != [sent]:
            raise RuntimeError(f"nginx stored {stored} bytes for a {sent}-byte body")
        for p in (self.dir / "keep").rglob("*"):
            if p.is_file():
                p.unlink()


class Atoll(Server):
    """One atoll process. Default: SQLite + blobs under its own data dir; ``store`` points it at
    a shared database and blob store instead (PostgreSQL + S3)."""

    def __init__(self, name: str, kind: str, tmp: Path, pgid_file: Path, python: str, repo: Path,
                 env: dict[str, str] | None = None, store: BackendStore | None = None,
                 public_url: str | None = None) -> None:
        super().__init__(name, tmp, pgid_file)
        self.kind = kind
        self.python = python
        self.repo = repo
        self.store = store
        self.env = {**(store.env if store else {}), **(env or {})}
        self.data = tmp / f"data-{name}"
        self.public_url = public_url or self.url

    def backend_args(self) -> list[str]:
        if self.store:
            return ["--db-url", self.store.db_url, "--storage", self.store.storage_url]
        return ["--data-dir", str(self.data)]

    def full_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        env.update(self.env)
        return env

    def launch(self) -> None:
        """Spawn the process; does not wait."""
        self.data.mkdir(parents=True, exist_ok=True)
        self._spawn(
            [self.python, "-m", "atoll", "serve", "--host", "127.0.0.1", "--port",
             str(self.port), *self.backend_args(), "--public-url", self.public_url,
             "--server", self.kind],
            env=self.full_env(),
        )

    def create_token(self) -> dict[str, str]:
        out = subprocess.run(
            [self.python, "-m", "atoll", "token", "create", *self.backend_args(),
             "--base", "Bench"],
            check=True, capture_output=True, text=True, cwd=self.repo, env=self.full_env(),
        )
        token = out.stdout.strip().split()[-1]
        if not re.fullmatch(r"[0-9a-f]{40}", token):
            raise RuntimeError(f"unexpected token output: {out.stdout!r}")
        return {"Authorization": f"Token {token}"}

    def start(self) -> None:
        self.launch()
        self.wait_ready()
        self.auth = self.create_token()


# --------------------------------------------------------------------------------------
# PostgreSQL + S3 (moto): the services atoll runs on with --backend postgres-s3

S3_BUCKET = "atoll-bench"
#: Credentials moto accepts (any non-empty pair), as in tests/services.py.
S3_CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1"}
#: curl signs its requests to moto itself (moto refuses anonymous GET/DELETE).
CURL_SIGV4 = ("--aws-sigv4", f"aws:amz:{S3_CREDS['AWS_REGION']}:s3",
              "--user", f"{S3_CREDS['AWS_ACCESS_KEY_ID']}:{S3_CREDS['AWS_SECRET_ACCESS_KEY']}")


def _as_postgres(cmd: list[str]) -> list[str]:
    """initdb/pg_ctl refuse to run as root: run them as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def pg_bindir() -> Path:
    import glob

    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True).stdout.strip()
        if out and Path(out, "initdb").exists():
            return Path(out)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        raise RuntimeError("PostgreSQL is not installed (scripts/bench installs it)")
    return Path(candidates[-1]).parent


class Postgres:
    """A throwaway PostgreSQL cluster under the bench temp dir, trust auth, 127.0.0.1 only.

    ``scripts/bench``'s cleanup stops it too (``pg_ctl stop -m immediate`` on the data dir
    written to ``<tmp>/pgdata``), should this process die without stopping it."""

    def __init__(self, tmp: Path) -> None:
        self.root = tmp / "postgres"
        self.data = self.root / "data"
        self.port = free_port()
        self.bindir = pg_bindir()
        self.tmp = tmp
        self.started = False

    def _run(self, *args: str) -> None:
        cmd = _as_postgres([str(self.bindir / args[0]), *args[1:]])
        out = subprocess.run(cmd, capture_output=True, text=True, cwd="/")
        if out.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {out.stdout[-1500:]} {out.stderr[-1500:]}")

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            os.chmod(self.tmp, 0o755)
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        (self.tmp / "pgdata").write_text(f"{self.bindir}\n{self.data}\n")
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                "-c max_connections=300")
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-l", str(self.root / "log"),
                  "-o", opts, "start")
        self.started = True

    def create_db(self, name: str) -> str:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.started:
            self.started = False
            self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "30", "stop", "-m", "fast")


class BackendStore:
    """Where one atoll configuration keeps its metadata and blobs: its own database in the
    cluster and its own prefix in the bucket (configurations never see each other's data)."""

    def __init__(self, db_url: str, storage_url: str, s3_endpoint: str) -> None:
        self.db_url = db_url
        self.storage_url = storage_url
        self.env = {**S3_CREDS, "AWS_ENDPOINT_URL": s3_endpoint}


class MotoS3(Server):
    """moto's S3 server: the blob store atoll runs on, and the raw ceiling measured against it:
    PUT / GET of the same payload straight to the bucket with curl (SigV4), no atoll."""

    big_only = True

    def __init__(self, tmp: Path, pgid_file: Path, python: str) -> None:
        super().__init__("moto", tmp, pgid_file)
        self.exe = Path(python).with_name("moto_server")
        self.bucket_url = f"{self.url}/{S3_BUCKET}"

    def start(self) -> None:
        cmd = [str(self.exe)] if self.exe.exists() else [sys.executable, "-m", "moto.server"]
        # Large objects spill from memory to temp files: keep them in the bench temp dir.
        spool = self.tmp / "moto-tmp"
        spool.mkdir(exist_ok=True)
        self._spawn([*cmd, "-H", "127.0.0.1", "-p", str(self.port)],
                    env={**os.environ, **S3_CREDS, "TMPDIR": str(spool)})
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        """Ready once the bucket can be created."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto exited early:\n{self.tail_log()}")
            out = subprocess.run(["curl", "-s", *CURL_SIGV4, "-X", "PUT", "-o", "/dev/null",
                                  "-w", "%{http_code}", self.bucket_url],
                                 capture_output=True, text=True)
            if out.stdout == "200":
                return
            time.sleep(0.2)
        raise RuntimeError(f"moto not ready after {timeout:.0f} s:\n{self.tail_log()}")

    def store_for(self, prefix: str, db_url: str) -> BackendStore:
        return BackendStore(db_url, f"s3://{S3_BUCKET}/{prefix}", self.url)

    # raw ceiling: objects under raw/ in the bucket
    def object_url(self, rel: str) -> str:
        return f"{self.bucket_url}/raw/{urllib.parse.quote(rel, safe='/')}"

    def upload_file(self, ctx: dict[str, str], payload: Path, name: str) -> tuple[float, int]:
        url = self.object_url(f"{ctx['file_relative_path']}/{name}")
        out = subprocess.run(
            ["curl", "-sS", "-f", "--max-time", "900", *CURL_SIGV4, "-H", "Expect:",
             "-T", str(payload), "-o", "/dev/null", "-w", "%{time_total} %{size_upload}", url],
            capture_output=True, text=True,
        )
        if out.returncode != 0:
            raise RuntimeError(f"PUT {url} failed: {out.stderr.strip()}")
        t, up = out.stdout.split()
        return float(t), int(float(up))

    def big_download_url(self, ctx: dict[str, str]) -> str:
        return self.object_url(ctx["big_rel"])

    def download_file(self, url: str) -> tuple[float, int]:
        return curl_download(url, extra=CURL_SIGV4)

    def sha256_download(self, url: str) -> tuple[str, int]:
        proc = subprocess.Popen(["curl", "-sS", "-f", *CURL_SIGV4, url], stdout=subprocess.PIPE)
        h, n = hashlib.sha256(), 0
        assert proc.stdout is not None
        while chunk := proc.stdout.read(4 * MIB):
            h.update(chunk)
            n += len(chunk)
        if proc.wait() != 0:
            raise RuntimeError(f"GET {url} failed")
        return h.hexdigest(), n

    def prepare_ctx(self, small: Path) -> dict[str, str]:
        ctx = {"file_relative_path": "files/bench"}
        self.upload_file(ctx, small, "small.bin")
        digest, n = self.sha256_download(self.object_url("files/bench/small.bin"))
        if (digest, n) != (sha256_of_file(small), small.stat().st_size):
            raise RuntimeError("moto returned a different small object")
        return ctx


def render_template(template: str, values: dict[str, str]) -> str:
    """envsubst restricted to ``values`` (as tests/nginx_proxy.py): fill ``${NAME}``, keep
    nginx's own ``$vars``."""
    names = set(re.findall(r"\$\{(\w+)\}", template))
    missing = names - values.keys()
    if missing:
        raise KeyError(f"no value for placeholder(s) {sorted(missing)}")
    return re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], template)


class AtollBehindProxy(Server):
    """Several atoll processes sharing one database + blob store, behind nginx rendered from
    deploy/nginx.conf as the deployment docs do (the tested config, unchanged). RSS and CPU are
    those of the atoll processes (summed); the proxy is not counted."""

    def __init__(self, name: str, tmp: Path, pgid_file: Path, python: str, repo: Path,
                 store: BackendStore, template: Path, processes: int = 2) -> None:
        super().__init__(name, tmp, pgid_file)
        self.template = template
        self.dir = tmp / f"proxy-{name}"
        self.atolls = [Atoll(f"{name}-{i + 1}", "uvicorn", tmp, pgid_file, python, repo,
                             store=store, public_url=self.url) for i in range(processes)]

    @property
    def roots(self) -> list[int]:
        return [a.pid for a in self.atolls]

    def start(self) -> None:
        # The first process creates the schema; the others start once it answers.
        for a in self.atolls:
            a.launch()
            a.wait_ready()
        self.auth = self.atolls[0].create_token()
        state, logs = self.dir / "state", self.dir / "log"
        state.mkdir(parents=True, exist_ok=True)
        logs.mkdir(parents=True, exist_ok=True)
        import getpass

        conf = render_template(self.template.read_text(), {
            "ATOLL_LISTEN": f"127.0.0.1:{self.port}",
            "ATOLL_SERVER_NAME": "127.0.0.1",
            "ATOLL_UPSTREAM_SERVERS": " ".join(f"server 127.0.0.1:{a.port} max_fails=1 "
                                               "fail_timeout=10s;" for a in self.atolls),
            "NGINX_USER": getpass.getuser(),
            "NGINX_STATE_DIR": str(state),
            "NGINX_LOG_DIR": str(logs),
        })
        (self.dir / "nginx.conf").write_text(conf)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        base = [nginx, "-p", str(self.dir), "-e", str(logs / "error.log"),
                "-c", str(self.dir / "nginx.conf")]
        check = subprocess.run([*base, "-t"], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t failed: {check.stderr}")
        self._spawn([*base, "-g", "daemon off;"])
        self.wait_ready()

    def tail_log(self, n: int = 3000) -> str:
        parts = [a.tail_log(n // 3) for a in self.atolls]
        return "\n".join([*parts, super().tail_log(n // 3)])

    def stop(self) -> None:
        super().stop()
        for a in self.atolls:
            a.stop()


# --------------------------------------------------------------------------------------
# clients


def curl_upload(link: dict[str, str], payload: Path, name: str) -> tuple[float, int, object]:
    """Upload through upload-api exactly like the anchors: curl -F, Expect off. -> (s, bytes, json)"""
    url = link["upload_link"] + "?ret-json=1"
    out = subprocess.run(
        ["curl", "-sS", "-f", "--max-time", "900", "-H", "Expect:",
         "-F", f"parent_dir={link['parent_path']}",
         "-F", f"relative_path={link['file_relative_path']}",
         "-F", "replace=1", "-F", f"file=@{payload};filename={name}",
         "-w", "\n%{time_total} %{size_upload}", url],
        capture_output=True, text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"upload to {url} failed: {out.stderr.strip()} {out.stdout[-500:]}")
    body, _, tail = out.stdout.rpartition("\n")
    t, up = tail.split()
    return float(t), int(float(up)), json.loads(body) if body.strip() else None


def curl_download(url: str, dest: str = "/dev/null", extra: tuple[str, ...] = ()) -> tuple[float, int]:
    out = subprocess.run(
        ["curl", "-sS", "-f", "--max-time", "900", *extra, "-o", dest,
         "-w", "%{time_total} %{size_download}", url],
        capture_output=True, text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"download {url} failed: {out.stderr.strip()}")
    t, n = out.stdout.split()
    return float(t), int(float(n))


def sha256_of_url(url: str) -> tuple[str, int]:
    h = hashlib.sha256()
    n = 0
    with urllib.request.urlopen(url, timeout=900) as resp:
        if resp.status != 200:
            raise RuntimeError(f"GET {url} -> {resp.status}")
        while chunk := resp.read(4 * MIB):
            h.update(chunk)
            n += len(chunk)
    return h.hexdigest(), n


def sha256_of_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(4 * MIB):
            h.update(chunk)
    return h.hexdigest()


def check_upload_reply(reply: object, name: str, size: int) -> None:
    ok = (isinstance(reply, list) and reply and isinstance(reply[0], dict)
          and reply[0].get("name") == name and reply[0].get("size") == size)
    if not ok:
        raise RuntimeError(f"unexpected upload reply {reply!r} (want name={name} size={size})")


# wrk Lua. Modes:
#   get      : GET one pre-fetched download link (static request)
#   linkget  : per op, GET app-download-link then GET the link it returned
#   post     : POST a 4 KiB multipart upload (unique file name) to a pre-fetched upload link
#   linkpost : per op, GET app-upload-link then POST to the link it returned
# With wrk's -c32 the two requests of an op are issued alternately by the thread, so link
# fetches and transfers are interleaved 1:1 across the 32 connections; ops/s counts the
# completed 2xx transfers (link replies are counted separately and checked for 2xx).
WRK_LUA_COMMON = r"""
local counter = 1
local threads = {}
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local ok, links, bad = 0, 0, 0
  for _, t in ipairs(threads) do
    ok = ok + (t:get("ok") or 0)
    links = links + (t:get("links") or 0)
    bad = bad + (t:get("bad") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "BENCHRESULT requests=%d duration_us=%d status_err=%d connect=%d read=%d write=%d timeout=%d ok=%d links=%d bad=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    ok, links, bad, latency:percentile(50), latency:percentile(99)))
end
"""

WRK_LUA_DYNAMIC = r"""
local mode, link_path, xfer_path, parent, rel, size, auth, run_id
local headers_link, headers_post
local head1, head2, tail
local B = "atollbenchb0undary7d3f9a1c"
local n, phase = 0, 0
ok, links, bad = 0, 0, 0

function init(args)
  mode, link_path, xfer_path, parent, rel = args[1], args[2], args[3], args[4], args[5]
  size, auth, run_id = tonumber(args[6]), args[7], args[8]
  headers_link = { ["Authorization"] = auth }
  headers_post = { ["Content-Type"] = "multipart/form-data; boundary=" .. B }
  local CRLF = "\r\n"
  local function field(name, value)
    return "--" .. B .. CRLF .. 'Content-Disposition: form-data; name="' .. name .. '"'
      .. CRLF .. CRLF .. value .. CRLF
  end
  head1 = field("parent_dir", parent) .. field("relative_path", rel) .. field("replace", "1")
    .. "--" .. B .. CRLF .. 'Content-Disposition: form-data; name="file"; filename="'
  head2 = '"' .. CRLF .. CRLF .. string.rep("a", size) .. CRLF
  tail = "--" .. B .. "--" .. CRLF
end

local function xfer()
  if mode == "post" or mode == "linkpost" then
    n = n + 1
    local name = string.format("w%s-%d-%d.bin", run_id, tid, n)
    return wrk.format("POST", xfer_path .. "?ret-json=1", headers_post, head1 .. name .. head2 .. tail)
  end
  return wrk.format("GET", xfer_path)
end

function request()
  if mode == "linkpost" or mode == "linkget" then
    phase = 1 - phase
    if phase == 1 then return wrk.format("GET", link_path, headers_link) end
  end
  return xfer()
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    bad = bad + 1
    return
  end
  local l = string.match(body, '"upload_link"%s*:%s*"https?://[^/"]+([^"]*)"')
    or string.match(body, '"download_link"%s*:%s*"https?://[^/"]+([^"]*)"')
  if l then
    links = links + 1
    xfer_path = l
  else
    ok = ok + 1
  end
end
"""


class Wrk:
    def __init__(self, tmp: Path, threads: int, conns: int, duration: float) -> None:
        self.tmp = tmp
        self.threads, self.conns, self.duration = threads, conns, duration
        self.static_lua = tmp / "wrk-static.lua"
        self.static_lua.write_text(WRK_LUA_COMMON + "\nok, links, bad = 0, 0, 0\n")
        self.dyn_lua = tmp / "wrk-dynamic.lua"
        self.dyn_lua.write_text(WRK_LUA_COMMON + WRK_LUA_DYNAMIC)
        self.run_id = 0

    def run(self, srv: Server, mode: str, ctx: dict[str, str]) -> dict[str, float]:
        self.run_id += 1
        base = ["wrk", f"-t{self.threads}", f"-c{self.conns}", f"-d{self.duration:g}s",
                "--timeout", "10s"]
        if mode == "get":
            cmd = [*base, "-s", str(self.static_lua), ctx["download_link"]]
        else:
            link_path = ("/api/v2.1/dtable/app-upload-link/" if mode in ("post", "linkpost")
                         else "/api/v2.1/dtable/app-download-link/?path="
                         + urllib.parse.quote(ctx["small_rel"], safe="/"))
            xfer_url = ctx["upload_link"] if mode in ("post", "linkpost") else ctx["download_link"]
            xfer_path = urllib.parse.urlsplit(xfer_url).path
            cmd = [*base, "-s", str(self.dyn_lua), srv.url, "--", mode, link_path, xfer_path,
                   ctx["parent_path"], ctx["file_relative_path"], str(ctx["small_size"]),
                   srv.auth.get("Authorization", "none"), f"{self.run_id}{srv.name[0]}"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=self.duration + 120)
        m = re.search(r"^BENCHRESULT (.*)$", out.stdout, re.M)
        if out.returncode != 0 or not m:
            raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout[-1500:]} {out.stderr[-1500:]}")
        r = {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
        secs = r["duration_us"] / 1e6
        errors = r["status_err"] + r["connect"] + r["read"] + r["write"] + r["timeout"] + r["bad"]
        if mode in ("get", "post"):
            good = r["requests"] - r["status_err"]
        else:
            good = r["ok"]
        r["ops_s"] = good / secs
        r["errors"] = errors
        r["p50_ms"] = r["p50_us"] / 1000
        return r


# --------------------------------------------------------------------------------------
# the benchmark


class Results:
    """figures[metric][server] = list per round (None where a round failed)."""

    def __init__(self) -> None:
        self.figures: dict[str, dict[str, list[float | None]]] = {}
        self.extra: dict[str, dict[str, list[float]]] = {}
        self.notes: list[str] = []

    def add(self, metric: str, server: str, rnd: int, value: float | None) -> None:
        col = self.figures.setdefault(metric, {}).setdefault(server, [])
        while len(col) <= rnd:
            col.append(None)
        col[rnd] = value

    def add_extra(self, metric: str, server: str, value: float) -> None:
        self.extra.setdefault(metric, {}).setdefault(server, []).append(value)

    def med(self, metric: str, server: str) -> float:
        return median([v for v in self.figures.get(metric, {}).get(server, []) if v is not None])

    def ratio(self, metric: str, server: str, ref: str = "nginx") -> float:
        a = self.figures.get(metric, {}).get(server, [])
        b = self.figures.get(metric, {}).get(ref, [])
        rs = [x / y for x, y in zip(a, b, strict=False) if x is not None and y]
        return median(rs)

    def ratios(self, metric: str, server: str, ref: str = "nginx") -> list[float]:
        a = self.figures.get(metric, {}).get(server, [])
        b = self.figures.get(metric, {}).get(ref, [])
        return [x / y for x, y in zip(a, b, strict=False) if x is not None and y]


def fmt_ratio(r: float) -> str:
    if math.isnan(r):
        return "—"
    return f"{r:.3f}×" if r < 0.095 else f"{r:.2f}×"


def fmt_num(v: float, digits: int = 0) -> str:
    if v is None or math.isnan(v):
        return "—"
    return f"{v:,.{digits}f}"


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.tmp = Path(args.tmp)
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.pgid_file = self.tmp / "pgids"
        self.servers: dict[str, Server] = {}
        self.ctx: dict[str, dict[str, str]] = {}
        self.res = Results()
        self.failed: dict[str, str] = {}
        self.started = dt.datetime.now(dt.timezone.utc)
        self.backend: Backend = BACKENDS[args.backend]
        self.names = [*args.servers, *args.variants]
        self.atoll_names = [n for n in self.names if n not in self.backend.refs]
        self.postgres: Postgres | None = None

    # ---- setup ------------------------------------------------------------------

    def make_payloads(self) -> None:
        a = self.args
        self.big = self.tmp / "payload.bin"
        self.small = self.tmp / "small.bin"
        log(f"payload: {human_size(a.size)} of random bytes -> {self.big}")
        with self.big.open("wb") as f:
            left = a.size
            while left:
                n = min(left, 8 * MIB)
                f.write(os.urandom(n))
                left -= n
        self.small.write_bytes(os.urandom(a.small_size))
        os.chmod(self.big, 0o644)
        os.chmod(self.small, 0o644)
        self.big_sha = sha256_of_file(self.big)

    def backend_store(self, name: str) -> BackendStore | None:
        """For postgres-s3: a database and a bucket prefix of this configuration's own."""
        if self.backend.name != "postgres-s3":
            return None
        moto = self.servers.get("moto")
        if not isinstance(moto, MotoS3):
            raise RuntimeError("moto is not running")
        if self.postgres is None:
            self.postgres = Postgres(self.tmp)
            self.postgres.start()
            log(f"started postgres on 127.0.0.1:{self.postgres.port}")
        slug = re.sub(r"\W", "_", name).lower()
        return moto.store_for(slug, self.postgres.create_db(f"atoll_{slug}"))

    def make_server(self, name: str) -> Server:
        a = self.args
        if name == "nginx":
            return Nginx(self.tmp, self.pgid_file, a.nginx_body_buffer)
        if name == "moto":
            return MotoS3(self.tmp, self.pgid_file, a.python)
        store = self.backend_store(name)
        if name == PROXIED:
            assert store is not None
            return AtollBehindProxy(name, self.tmp, self.pgid_file, a.python, a.repo, store,
                                    Path(a.proxy_template))
        kind, env = a.variants.get(name, (name, {}))
        return Atoll(name, kind, self.tmp, self.pgid_file, a.python, a.repo, env, store=store)

    def start_servers(self) -> None:
        for name in self.names:
            try:
                srv = self.make_server(name)
                self.servers[name] = srv
                srv.start()  # type: ignore[attr-defined]
                log(f"started {name:14s} on {srv.url} (pid {srv.pid})")
            except Exception as e:  # keep benchmarking the others
                self.fail(name, f"start: {e}")

    def fail(self, name: str, why: str) -> None:
        log(f"!! {name}: {why}")
        self.failed[name] = why
        srv = self.servers.pop(name, None)
        if srv:
            tail = srv.tail_log(1500)
            if tail:
                log(f"   last log lines of {name}:\n" + "\n".join("   | " + ln for ln in tail.splitlines()[-15:]))
            srv.stop()

    def prepare(self) -> None:
        """Links, the small file to download, correctness checks. Untimed."""
        for name, srv in list(self.servers.items()):
            try:
                if isinstance(srv, MotoS3):  # raw store: no links, objects by key
                    ctx = srv.prepare_ctx(self.small)
                    ctx["big_rel"] = "files/bench/big.bin"
                    self.ctx[name] = ctx
                    srv.idle_rss_kib = tree_kib(srv.roots, "VmRSS")
                    continue
                link = srv.upload_link()
                ctx = {
                    "upload_link": link["upload_link"], "parent_path": link["parent_path"],
                    "file_relative_path": link["file_relative_path"],
                    "small_size": str(self.args.small_size),
                }
                if "?" in link["upload_link"]:
                    raise RuntimeError(f"upload_link contains '?': {link['upload_link']}")
                if isinstance(srv, Nginx):
                    srv.self_test(self.small)
                    srv.publish("small.bin", self.small)
                    srv.publish("big.bin", self.big)
                else:
                    _, _, reply = curl_upload(link, self.small, "small.bin")
                    check_upload_reply(reply, "small.bin", self.args.small_size)
                ctx["small_rel"] = f"{link['file_relative_path']}/small.bin"
                ctx["big_rel"] = f"{link['file_relative_path']}/big.bin"
                ctx["download_link"] = srv.download_link(ctx["small_rel"])
                got = urllib.request.urlopen(ctx["download_link"], timeout=30).read()
                if got != self.small.read_bytes():
                    raise RuntimeError(f"small download returned {len(got)} wrong bytes")
                self.ctx[name] = ctx
                srv.idle_rss_kib = tree_kib(srv.roots, "VmRSS")
                log(f"{name:14s} ready: idle RSS {srv.idle_rss_kib / 1024:.1f} MiB "
                    f"({len(process_tree(srv.roots))} processes)")
            except Exception as e:
                self.fail(name, f"prepare: {e}")

    # ---- phases -----------------------------------------------------------------

    def order(self, rnd: int, big: bool = True) -> list[str]:
        return rotated([s for s in self.names if s in self.servers
                        and (big or not self.servers[s].big_only)], rnd)

    def phase_big_upload(self) -> None:
        a = self.args
        log(f"\n== upload {human_size(a.size)} (curl -F, 1 warm-up + 1 timed per server per round), "
            f"{a.rounds} rounds")
        for rnd in range(a.rounds):
            for name in self.order(rnd):
                srv = self.servers.get(name)
                if not srv:
                    continue
                ctx = self.ctx[name]
                try:
                    srv.upload_file(ctx, self.big, "big.bin")  # warm-up, untimed
                    reset_hwm(srv.roots)
                    rss_before = tree_kib(srv.roots, "VmRSS")
                    cpu0 = tree_cpu_s(srv.roots)
                    t, sent = srv.upload_file(ctx, self.big, "big.bin")
                    cpu = tree_cpu_s(srv.roots) - cpu0
                    hwm = tree_kib(srv.roots, "VmHWM")
                except Exception as e:
                    self.fail(name, f"big upload: {e}")
                    continue
                mbs = sent / t / MB
                self.res.add("upload", name, rnd, mbs)
                self.res.add("upload_peak_rss", name, rnd, hwm / 1024)
                self.res.add("upload_rss_before", name, rnd, rss_before / 1024)
                self.res.add("upload_cpu", name, rnd, cpu / (a.size / (1024 * MIB)))
                log(f"  r{rnd + 1} {name:14s} {mbs:8.0f} MB/s   "
                    f"peak RSS {hwm / 1024:6.1f} MiB  server CPU {cpu:5.2f} s")
            self.log_round_ratios("upload", rnd)

    def verify_big(self) -> None:
        """Untimed: one download per server, checked byte for byte (sha256); warms the read path."""
        for name in self.order(0):
            srv = self.servers[name]
            ctx = self.ctx[name]
            try:
                ctx["big_link"] = srv.big_download_url(ctx)
                digest, n = srv.sha256_download(ctx["big_link"])
                if (digest, n) != (self.big_sha, self.args.size):
                    raise RuntimeError(f"big download: {n} bytes, sha256 mismatch")
            except Exception as e:
                self.fail(name, f"verify big download: {e}")

    def phase_big_download(self) -> None:
        a = self.args
        log(f"\n== download {human_size(a.size)} (curl -o /dev/null), {a.rounds} rounds")
        self.verify_big()
        for rnd in range(a.rounds):
            for name in self.order(rnd):
                srv = self.servers.get(name)
                if not srv:
                    continue
                try:
                    cpu0 = tree_cpu_s(srv.roots)
                    t, n = srv.download_file(self.ctx[name]["big_link"])
                    cpu = tree_cpu_s(srv.roots) - cpu0
                    if n != a.size:
                        raise RuntimeError(f"got {n} bytes, want {a.size}")
                except Exception as e:
                    self.fail(name, f"big download: {e}")
                    continue
                mbs = n / t / MB
                self.res.add("download", name, rnd, mbs)
                self.res.add("download_cpu", name, rnd, cpu / (a.size / (1024 * MIB)))
                log(f"  r{rnd + 1} {name:14s} {mbs:8.0f} MB/s   server CPU {cpu:5.2f} s")
            self.log_round_ratios("download", rnd)

    SMALL_MODES = {
        "small_download": ("get", "4 KiB download (GET a pre-fetched download link)"),
        "small_linkget": ("linkget", "4 KiB download, link + GET per op"),
        "small_upload": ("post", "4 KiB upload (POST to a pre-fetched upload link)"),
        "small_linkpost": ("linkpost", "4 KiB upload, link + POST per op"),
    }

    def phase_small(self) -> None:
        a = self.args
        w = Wrk(self.tmp, 1, a.conns, a.duration)
        for metric in a.small_modes:
            mode, title = self.SMALL_MODES[metric]
            log(f"\n== {title}: wrk -t1 -c{a.conns} -d{a.duration:g}s, {a.small_runs} runs")
            for rnd in range(a.small_runs):
                for name in self.order(rnd, big=False):
                    srv = self.servers.get(name)
                    if not srv:
                        continue
                    try:
                        hwm0 = tree_kib(srv.roots, "VmHWM")
                        r = w.run(srv, mode, self.ctx[name])
                        hwm = tree_kib(srv.roots, "VmHWM")
                    except Exception as e:
                        self.fail(name, f"{metric}: {e}")
                        continue
                    self.res.add(metric, name, rnd, r["ops_s"])
                    self.res.add(metric + "_p50", name, rnd, r["p50_ms"])
                    self.res.add_extra("wrk_peak_rss", name, max(hwm, hwm0) / 1024)
                    err = f"  ERRORS {int(r['errors'])}" if r["errors"] else ""
                    if mode.startswith("link"):
                        err = f"  ({int(r['links'])} links){err}"
                    if r["errors"]:
                        self.res.notes.append(f"{metric} {name} run {rnd + 1}: {int(r['errors'])} errors")
                    log(f"  r{rnd + 1} {name:14s} {r['ops_s']:9.0f} ops/s   p50 {r['p50_ms']:7.2f} ms{err}")
                self.log_round_ratios(metric, rnd)

    def log_round_ratios(self, metric: str, rnd: int) -> None:
        for ref in self.backend.refs:
            b = self.res.figures.get(metric, {}).get(ref, [])
            if rnd >= len(b) or not b[rnd]:
                continue
            parts = []
            for name in self.atoll_names:
                a = self.res.figures.get(metric, {}).get(name, [])
                if rnd < len(a) and a[rnd]:
                    parts.append(f"{name} {fmt_ratio(a[rnd] / b[rnd])}")
            if parts:
                log(f"     r{rnd + 1} ratio to {ref}: " + ", ".join(parts))

    def target_text(self, metric: str, ref: str) -> str:
        return next((f"≥ {thr:.2f}× {r}" for m, r, thr in self.backend.targets
                     if m == metric and r == ref), "")

    # ---- report -----------------------------------------------------------------

    def summary_rows(self) -> list[tuple[str, str, dict[str, str], str]]:
        """(label, unit, cells per server, target) for the table."""
        rows = []
        labels = [
            ("upload", f"upload {human_size(self.args.size)}, curl -F", "MB/s",
             self.target_text("upload", "nginx")),
            ("download", f"download {human_size(self.args.size)}, curl", "MB/s",
             self.target_text("download", "nginx")),
            ("small_download", "4 KiB download, GET pre-fetched link", "req/s", ""),
            ("small_linkget", "4 KiB download, link + GET per op", "ops/s", ""),
            ("small_upload", "4 KiB upload, POST to pre-fetched link", "req/s", ""),
            ("small_linkpost", "4 KiB upload, link + POST per op", "ops/s", ""),
        ]
        for metric, label, unit, target in labels:
            if metric not in self.res.figures:
                continue
            cells = {}
            for s in self.names:
                v = self.res.med(metric, s)
                if math.isnan(v):
                    cells[s] = "—"
                elif s == "nginx":
                    cells[s] = fmt_num(v)
                else:
                    cells[s] = f"{fmt_num(v)} ({fmt_ratio(self.res.ratio(metric, s))})"
            rows.append((label, unit, cells, target))
            # Ratios to the other references (postgres-s3: moto's raw PUT / GET), round by round.
            for ref in self.backend.refs[1:]:
                if metric not in ("upload", "download") or ref not in self.res.figures[metric]:
                    continue
                cells = {s: (fmt_ratio(self.res.ratio(metric, s, ref))
                             if s in self.atoll_names else "—") for s in self.names}
                cells[ref] = "1"
                rows.append((f"… ratio to {ref} raw {'PUT' if metric == 'upload' else 'GET'}",
                             "×", cells, self.target_text(metric, ref)))
        if "upload_peak_rss" in self.res.figures:
            cells = {}
            for s in self.names:
                srv_idle = self.idle.get(s)
                peaks = [v for v in self.res.figures["upload_peak_rss"].get(s, []) if v]
                if srv_idle is None or not peaks:
                    cells[s] = "—"
                    continue
                cells[s] = f"{srv_idle:.0f} → {max(peaks):.0f} (+{max(peaks) - srv_idle:.0f})"
            rows.append((f"server RSS idle → peak in {human_size(self.args.size)} upload",
                         "MiB", cells, "≤ idle + 64 MiB"))
        for metric, label in (("upload_cpu", "server CPU per GiB uploaded"),
                              ("download_cpu", "server CPU per GiB downloaded")):
            if metric in self.res.figures:
                cells = {s: fmt_num(self.res.med(metric, s), 2) for s in self.names}
                rows.append((label, "s", cells, ""))
        if "wrk_peak_rss" in self.res.extra:
            cells = {s: (f"{max(v):.0f}" if (v := self.res.extra['wrk_peak_rss'].get(s)) else "—")
                     for s in self.names}
            rows.append((f"server RSS peak under wrk -c{self.args.conns}", "MiB", cells, ""))
        return rows

    def verdicts(self) -> list[str]:
        out = []
        for s in self.atoll_names:
            if s not in self.res.figures.get("upload", {}):
                continue
            parts = []
            for metric, ref, thr in self.backend.targets:
                r = self.res.ratio(metric, s, ref)
                if not math.isnan(r):
                    parts.append(f"{metric} {r:.2f}× {ref} {'PASS' if r >= thr else 'MISS'} "
                                 f"(≥ {thr}×)")
            peaks = [v for v in self.res.figures.get("upload_peak_rss", {}).get(s, []) if v]
            idle = self.idle.get(s)
            if peaks and idle is not None:
                d = max(peaks) - idle
                parts.append(f"peak RSS +{d:.0f} MiB {'PASS' if d <= TARGETS['rss_mib'] else 'MISS'} (≤ +64)")
            out.append(f"{s}: " + "; ".join(parts))
        return out

    def faster(self) -> list[str]:
        if not all(s in self.res.figures.get("upload", {}) for s in ATOLL_SERVERS):
            return []
        lines = []
        geo = []
        for metric in ("upload", "download", "small_download", "small_linkget", "small_upload",
                       "small_linkpost"):
            rs = self.res.ratios(metric, "granian", "uvicorn")
            if not rs:
                continue
            r = median(rs)
            geo.append(r)
            who = "granian" if r > 1 else "uvicorn"
            lines.append(f"{metric}: granian/uvicorn = {r:.2f} → {who}")
        if geo:
            g = math.exp(sum(math.log(x) for x in geo) / len(geo))
            big = [median(self.res.ratios(m, "granian", "uvicorn")) for m in ("upload", "download")
                   if self.res.ratios(m, "granian", "uvicorn")]
            gb = math.exp(sum(math.log(x) for x in big) / len(big)) if big else float("nan")
            winner = "granian" if g > 1 else "uvicorn"
            lines.append(f"overall (geometric mean of the ratios above): granian/uvicorn = {g:.2f} "
                         f"(big transfers only: {gb:.2f}) → **{winner}** is faster")
            self.winner = winner
        return lines

    def print_summary(self) -> None:
        self.idle = {n: s.idle_rss_kib / 1024 for n, s in self.servers.items()}
        self.winner = None
        rows = self.summary_rows()
        log("\n== summary: median figure (median of per-round ratios to nginx)")
        w = max((len(r[0]) for r in rows), default=10) + 8
        log(f"{'':{w}s}" + "".join(f"{s:>24s}" for s in self.names))
        for label, unit, cells, _ in rows:
            log(f"{label + ' [' + unit + ']':{w}s}" + "".join(f"{cells[s]:>24s}" for s in self.names))
        for v in self.verdicts():
            log("targets: " + v)
        for ln in self.faster():
            log("faster: " + ln.replace("**", ""))
        for name, why in self.failed.items():
            log(f"FAILED {name}: {why.splitlines()[0][:300]}")

    def machine(self) -> dict[str, str]:
        def cmd(*c: str) -> str:
            try:
                out = subprocess.run(c, capture_output=True, text=True, timeout=20)
                return (out.stdout or out.stderr).strip().splitlines()[0]
            except Exception:
                return "?"
        cpu = "?"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        mem = "?"
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
        fs = cmd("findmnt", "-no", "FSTYPE,SOURCE", "-T", str(self.tmp))
        pyv = subprocess.run([self.args.python, "-c",
                              "import sys,importlib.metadata as m;print(sys.version.split()[0],"
                              "*(f'{p} {m.version(p)}' for p in ('uvicorn','granian','starlette',"
                              "'python-multipart')),sep=', ')"],
                             capture_output=True, text=True).stdout.strip()
        commit = subprocess.run(["git", "-C", str(self.args.repo), "describe", "--always", "--dirty"],
                                capture_output=True, text=True).stdout.strip()
        return {
            "cpu": f"{os.cpu_count()} × {cpu}", "memory": mem,
            "kernel": platform.release(), "filesystem": fs,
            "nginx": cmd("nginx", "-v"), "curl": cmd("curl", "--version"),
            "wrk": cmd("wrk", "--version"), "python": pyv, "atoll commit": commit,
        }

    def doc_backend_intro(self) -> list[str]:
        if self.backend.name == "sqlite-local":
            return ["Figures for atoll on PostgreSQL + S3 (moto) are in "
                    "[benchmarks-postgres-s3.md](benchmarks-postgres-s3.md) "
                    "(`scripts/bench --backend postgres-s3`).", ""]
        return ["The default backend (SQLite + local folder) is in [benchmarks.md](benchmarks.md).",
                ""]

    def doc_servers_method(self) -> list[str]:
        if self.backend.name == "sqlite-local":
            return ["- nginx, atoll on uvicorn and atoll on granian are all up at once on "
                    "127.0.0.1, one process/worker each (nginx `worker_processes 1`); the client "
                    "shares the 2 cores."]
        return [
            "- All up at once on 127.0.0.1, the client sharing the 2 cores: a throwaway PostgreSQL "
            "cluster and moto's S3 server (`moto_server`, objects in memory/spooled temp files); "
            "**moto** = the raw ceiling: the same payload PUT (`curl -T`) and GET (`curl -o "
            "/dev/null`) straight to the bucket, signed with `curl --aws-sigv4`, no atoll; "
            "**uvicorn** = one atoll process (`atoll serve --db-url postgresql://… --storage "
            "s3://…`); **atoll-2p-nginx** = two atoll uvicorn processes sharing one database and "
            "bucket prefix behind nginx rendered from `deploy/nginx.conf` unchanged (streaming "
            "proxy, `worker_processes auto`, access log on); **nginx** = the usual static "
            "reference (one worker, see below). Each atoll configuration has its own database "
            "and bucket prefix.",
            "- Targets (from the issue): upload and download ≥ 0.7× moto's raw PUT / GET "
            "throughput, server RSS ≤ idle + 64 MiB. For atoll-2p-nginx, RSS and CPU are the sum "
            "over both atoll process trees (the proxy is not counted). moto's own RSS grows with "
            "what it stores and is shown for information.",
        ]

    def write_doc(self, path: Path) -> None:
        a = self.args
        m = self.machine()
        rows = self.summary_rows()
        lines = [
            f"# {self.backend.title}",
            "",
            f"Generated by `scripts/bench{' ' + ' '.join(a.argv) if a.argv else ''}` on "
            f"{self.started:%Y-%m-%d %H:%M} UTC (run took {(time.time() - self.t0) / 60:.1f} min). "
            "Re-run it to refresh this page; figures drift 10-25% between runs on this shared VM, "
            "the ratios to nginx (taken side by side, round by round) are what to compare.",
            "",
            "## Machine",
            "",
            *[f"- {k}: {v}" for k, v in m.items()],
            "",
            *self.doc_backend_intro(),
            "## Method",
            "",
            *self.doc_servers_method(),
            "- Each round runs the same command against every server in a rotated order; each "
            "figure is the median over rounds and each ratio is the **median of the per-round "
            "ratios** to nginx.",
            f"- Big upload: {human_size(a.size)} of random bytes, `curl -sS -f -H 'Expect:' -F "
            "parent_dir=… -F relative_path=… -F replace=1 -F file=@payload <upload_link>?ret-json=1`"
            f", {a.rounds} rounds; before every timed upload one untimed warm-up upload to the same "
            "server (this VM returns freed memory to its host). atoll fsyncs the file (by design); "
            "nginx does not.",
            f"- Big download: `curl -o /dev/null <download_link>`, {a.rounds} rounds, after one "
            "untimed download per server checked by sha256.",
            f"- 4 KiB files: `wrk -t1 -c{a.conns} -d{a.duration:g}s`, {a.small_runs} runs, the "
            "same Lua scripts against every server. *pre-fetched link*: the harness fetches the "
            "upload/download link once (tickets are reusable for 1 h) and wrk only transfers. "
            "*link + … per op*: every op is a link request (`app-upload-link` / "
            "`app-download-link`, API token) followed by the transfer to the link it returned, the "
            "way the official client does it; ops/s counts completed transfers. Uploads use a "
            "unique file name per request, `replace=1`.",
            "- Server RSS: VmRSS/VmHWM summed over the server's process tree; idle = after "
            "start-up and a first small upload; peak = VmHWM (reset with `clear_refs` right "
            "before each timed upload), max over rounds. Server CPU = utime+stime of the tree "
            "during the timed transfer.",
            "- nginx reference: upload = `client_body_in_file_only clean` (the whole body is "
            f"written to a file, `client_body_buffer_size {a.nginx_body_buffer}`) then a "
            "keep-alive proxy hop without the body to a `return 200` endpoint; the link "
            "endpoints are static `return 200` JSON; download = static file, `sendfile on`, "
            "`tcp_nopush on`; access log off.",
            "- MB = 10^6 bytes.",
            "",
            "## Results",
            "",
            "Median figure (median of per-round ratios to nginx).",
            "",
            "| what | unit | " + " | ".join(
                n if n in self.backend.refs or n.startswith("atoll") else f"atoll {n}"
                for n in self.names) + " | target |",
            "|---|---|" + "---:|" * len(self.names) + "---|",
        ]
        for label, unit, cells, target in rows:
            lines.append(f"| {label} | {unit} | " + " | ".join(cells[n] for n in self.names)
                         + f" | {target} |")
        lat = []
        for metric in ("small_download", "small_linkget", "small_upload", "small_linkpost"):
            if metric + "_p50" in self.res.figures:
                lat.append(f"- p50 latency {metric}: " + ", ".join(
                    f"{s} {self.res.med(metric + '_p50', s):.2f} ms" for s in self.names
                    if s in self.res.figures[metric + "_p50"]))
        lines += ["", *lat, "", "## Targets", ""]
        lines += [f"- {v}" for v in self.verdicts()] or ["- (atoll did not run)"]
        if self.backend.name == "sqlite-local":
            lines += ["", "## Which server is faster", "",
                      "Median of per-round ratios granian / uvicorn (> 1: granian faster):", ""]
            lines += [f"- {ln}" for ln in self.faster()] or ["- (needs both servers)"]
        lines += ["", "## Per-round figures", "", "```"]
        w = max([8, *(len(n) for n in self.names)])
        for metric, per in self.res.figures.items():
            for s, vals in per.items():
                lines.append(f"{metric:22s} {s:{w}s} " + " ".join(
                    "—" if v is None else f"{v:.1f}" for v in vals))
        lines.append("```")
        if self.failed or self.res.notes:
            lines += ["", "## Problems during the run", ""]
            lines += [f"- {n}: {w.splitlines()[0][:300]}" for n, w in self.failed.items()]
            lines += [f"- {n}" for n in self.res.notes]
        # Hand-written analysis below the marker survives re-runs; --findings replaces it.
        kept = ""
        if self.args.findings:
            kept = FINDINGS_MARKER + "\n\n" + Path(self.args.findings).read_text().strip()
        elif path.exists() and FINDINGS_MARKER in path.read_text():
            kept = path.read_text()[path.read_text().index(FINDINGS_MARKER):].strip()
        if kept:
            lines += ["", kept]
        path.write_text("\n".join(lines) + "\n")
        log(f"\nwrote {path}")

    # ---- main -------------------------------------------------------------------

    def run(self) -> int:
        self.t0 = time.time()
        self.make_payloads()
        self.start_servers()
        self.prepare()
        if not self.servers:
            log("no server could be benchmarked")
            return 1
        if not self.args.skip_big:
            self.phase_big_upload()
            if not self.args.skip_download:
                self.phase_big_download()
        if not self.args.skip_small:
            self.phase_small()
        # RSS after the run (leak hint)
        for name, srv in self.servers.items():
            self.res.add_extra("rss_after", name, tree_kib(srv.roots, "VmRSS") / 1024)
        self.print_summary()
        doc = self.args.doc
        if doc is None and not self.args.no_doc and not self.args.quick and \
                all(s in self.servers for s in self.backend.servers) and not self.args.variants \
                and not self.args.skip_big \
                and not self.args.skip_small:
            doc = str(Path(self.args.repo) / self.backend.doc)
        if doc and not self.args.no_doc:
            self.write_doc(Path(doc))
        log(f"total {(time.time() - self.t0) / 60:.1f} min")
        return 0 if not self.failed else 2

    def stop_all(self) -> None:
        for srv in self.servers.values():
            srv.stop()
        if self.postgres:
            self.postgres.stop()


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=sorted(BACKENDS), default="sqlite-local",
                   help="what atoll runs on: sqlite-local (default) or postgres-s3 (a throwaway "
                   "PostgreSQL cluster + moto's S3 server; also measures moto's raw PUT/GET and two "
                   "atoll processes behind deploy/nginx.conf; writes docs/benchmarks-postgres-s3.md)")
    p.add_argument("--servers", default=None,
                   help="comma list of nginx,uvicorn,granian (sqlite-local) or "
                   f"nginx,moto,uvicorn,{PROXIED} (postgres-s3); default: all of the backend's")
    p.add_argument("--proxy-template", default=None,
                   help=f"nginx template for {PROXIED} (default: deploy/nginx.conf)")
    p.add_argument("--rounds", type=int, default=None, help="big transfer rounds (default 5)")
    p.add_argument("--size", type=parse_size, default=None, help="big file size (default 1G)")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: --size 64M --rounds 2, wrk 2 runs x 3 s; does not write the doc")
    p.add_argument("--small-size", type=parse_size, default=4096)
    p.add_argument("--small-runs", type=int, default=None, help="wrk runs per mode (default 3)")
    p.add_argument("--duration", type=float, default=None, help="wrk seconds per run (default 8)")
    p.add_argument("--conns", type=int, default=32)
    p.add_argument("--small-modes", default=",".join(Bench.SMALL_MODES),
                   help="comma list of " + ",".join(Bench.SMALL_MODES))
    p.add_argument("--skip-big", action="store_true")
    p.add_argument("--skip-small", action="store_true")
    p.add_argument("--skip-download", action="store_true", help="big uploads only")
    p.add_argument("--nginx-body-buffer", default="1m", help="nginx client_body_buffer_size")
    p.add_argument("--doc", default=None, help="write the markdown report here (default: "
                   "docs/benchmarks.md after a full run of all servers)")
    p.add_argument("--no-doc", action="store_true")
    p.add_argument("--findings", default=None, help="markdown file appended to the report")
    p.add_argument("--variant", action="append", default=[], metavar="'NAME=SERVER [K=V ...]'",
                   help="extra atoll server for A/B runs, e.g. 'big=granian ATOLL_CHUNK_BYTES=4194304'"
                   " (environment for that server only; PYTHONPATH works too); repeatable")
    p.add_argument("--python", default=None, help="python with atoll installed (default: repo .venv)")
    p.add_argument("--repo", default=str(Path(__file__).resolve().parent.parent), help=argparse.SUPPRESS)
    p.add_argument("--tmp", default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    hidden = {"--repo", "--tmp", "--findings", "--doc"}
    a.argv = []
    skip = False
    for x in argv:
        if skip:
            skip = False
        elif x in hidden:
            skip = True
        elif not x.startswith(tuple(h + "=" for h in hidden)):
            a.argv.append(x)
    backend = BACKENDS[a.backend]
    a.servers = [s.strip() for s in (a.servers or ",".join(backend.servers)).split(",") if s.strip()]
    bad = set(a.servers) - set(backend.servers)
    if bad:
        p.error(f"unknown servers {bad}")
    a.variants = {}
    for v in a.variant:
        name, _, rest = v.partition("=")
        kind, *envs = rest.split()
        if not name or name in backend.servers or kind not in ATOLL_SERVERS:
            p.error(f"bad --variant {v!r}")
        a.variants[name] = (kind, dict(e.split("=", 1) for e in envs))
    a.small_modes = [s.strip() for s in a.small_modes.split(",") if s.strip()]
    if set(a.small_modes) - set(Bench.SMALL_MODES):
        p.error("unknown small mode")
    a.size = a.size or (64 * MIB if a.quick else 1024 * MIB)
    a.rounds = a.rounds or (2 if a.quick else 5)
    a.small_runs = a.small_runs or (2 if a.quick else 3)
    a.duration = a.duration or (3 if a.quick else 8)
    if a.backend == "postgres-s3" and "moto" not in a.servers and set(a.servers) - {"nginx"}:
        p.error("atoll on postgres-s3 needs moto in --servers")
    a.proxy_template = a.proxy_template or str(Path(a.repo) / "deploy" / "nginx.conf")
    if PROXIED in a.servers and not Path(a.proxy_template).exists():
        p.error(f"{a.proxy_template} not found (--proxy-template)")
    if a.python is None:
        venv = Path(a.repo) / ".venv" / "bin" / "python"
        a.python = str(venv) if venv.exists() else sys.executable
    own_tmp = a.tmp is None
    if own_tmp:
        import tempfile
        a.tmp = tempfile.mkdtemp(prefix="atoll-bench.", dir="/var/tmp")
    for tool in ("curl", "wrk"):
        if not shutil.which(tool):
            p.error(f"{tool} not found (scripts/bench installs it)")

    bench = Bench(a)

    def on_signal(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        return bench.run()
    finally:
        bench.stop_all()
        if own_tmp:
            shutil.rmtree(a.tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
