"""The servers under test: nginx (the anchor), atoll on uvicorn or granian, PostgreSQL,
moto's S3, and atoll processes behind nginx rendered from deploy/nginx.conf."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from benchlib.common import MIB, free_port, http_json, http_status, template
from benchlib.load import check_upload_reply, curl_download, curl_upload, sha256_of_file, sha256_of_url


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
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pg, signal.SIGKILL)

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
    #: Only in the 4 KiB phases (the bare-framework reference).
    small_only = False

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
        return d

    def download_link(self, rel_path: str) -> str:
        q = urllib.parse.quote(rel_path, safe="/")
        d = http_json(self.url + "/api/v2.1/dtable/app-download-link/?path=" + q, self.auth)
        assert isinstance(d, dict) and "download_link" in d, d
        return str(d["download_link"])

    def asset_url(self, rel_path: str) -> tuple[str, str]:
        """The asset URL of ``rel_path`` (``/workspace/<wid>/asset/<uuid>/<path>``) and the
        ``Authorization`` value it wants (``Token <access token>`` from app-access-token)."""
        d = http_json(self.url + "/api/v2.1/dtable/app-access-token/", self.auth)
        assert isinstance(d, dict) and "access_token" in d, d
        q = urllib.parse.quote(rel_path, safe="/")
        return (f"{self.url}/workspace/{d['workspace_id']}/asset/{d['dtable_uuid']}/{q}",
                f"Token {d['access_token']}")




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
        conf = render_template(template("nginx-anchor.conf"), {
            "D": str(self.dir), "USER": user, "PORT": str(self.port), "PORT2": str(free_port()),
            "TICKET": self.ticket, "ASSET": str(uuid.uuid4()), "STATIC": str(self.static),
            "ZERO_ID": "0" * 40, "BODY_BUF": self.body_buf,
        })
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


class Bare(Server):
    """The bare-framework reference: ``bare_app.py`` (Starlette, no auth, no metadata) on
    uvicorn like atoll's, in the 4 KiB phases only; not an atoll server, not a ratio reference."""

    small_only = True

    def __init__(self, tmp: Path, pgid_file: Path, python: str) -> None:
        super().__init__("bare", tmp, pgid_file)
        self.python = python
        self.data = tmp / "data-bare"

    def start(self) -> None:
        env = dict(os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        self._spawn([self.python, str(Path(__file__).with_name("bare_app.py")),
                     "--port", str(self.port), "--data", str(self.data)], env=env)
        self.wait_ready()


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


class ImportMismatch(RuntimeError):
    """A server does not run the atoll code it is meant to (--baseline): the run stops."""


def check_imports(srv: Atoll, baseline_src: Path, before: bool) -> str:
    """Where the running process ``srv`` imports atoll from: the same interpreter, environment
    (PYTHONPATH included) and working directory as the process, read from /proc/<pid>; raise
    :class:`ImportMismatch` unless that is under ``baseline_src`` exactly when ``before``."""
    pid = srv.pid
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    env = dict(kv.split("=", 1) for kv in raw.decode(errors="replace").split("\0") if "=" in kv)
    cwd = os.readlink(f"/proc/{pid}/cwd")
    # argv[0], not /proc/<pid>/exe: a venv's python is a symlink whose target loses the venv.
    exe = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
    out = subprocess.run([exe, "-c", "import atoll; print(atoll.__file__)"], env=env, cwd=cwd,
                         capture_output=True, text=True)
    where = out.stdout.strip()
    if out.returncode != 0 or not where:
        raise ImportMismatch(f"{srv.name}: cannot import atoll as pid {pid} does: {out.stderr[-500:]}")
    inside = Path(where).resolve().is_relative_to(baseline_src.resolve())
    if inside != before:
        raise ImportMismatch(
            f"{srv.name} (pid {pid}, PYTHONPATH={env.get('PYTHONPATH', '')!r}, cwd {cwd}) imports "
            f"atoll from {where}, {'outside' if before else 'inside'} the baseline {baseline_src}")
    return where


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
