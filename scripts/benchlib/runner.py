"""The benchmark run: start the servers, run the phases round by round, write the report."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import ClassVar

from benchlib.common import (
    ATOLL_SERVERS,
    BACKENDS,
    MB,
    MIB,
    PROXIED,
    Backend,
    human_size,
    log,
    parse_size,
    rotated,
)
from benchlib.load import Wrk, check_upload_reply, curl_upload, sha256_of_file
from benchlib.processes import process_tree, reset_hwm, tree_cpu_s, tree_kib
from benchlib.report import Report, Results, fmt_ratio
from benchlib.servers import Atoll, AtollBehindProxy, BackendStore, MotoS3, Nginx, Postgres, Server


class Bench(Report):
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.tmp = Path(args.tmp)
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.pgid_file = self.tmp / "pgids"
        self.servers: dict[str, Server] = {}
        self.ctx: dict[str, dict[str, str]] = {}
        self.res = Results()
        self.failed: dict[str, str] = {}
        self.started = dt.datetime.now(dt.UTC)
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
                log(f"   last log lines of {name}:\n"
                    + "\n".join("   | " + ln for ln in tail.splitlines()[-15:]))
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

    SMALL_MODES: ClassVar[dict[str, tuple[str, str]]] = {
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
            y = b[rnd] if rnd < len(b) else None
            if not y:
                continue
            parts = []
            for name in self.atoll_names:
                a = self.res.figures.get(metric, {}).get(name, [])
                x = a[rnd] if rnd < len(a) else None
                if x:
                    parts.append(f"{name} {fmt_ratio(x / y)}")
            if parts:
                log(f"     r{rnd + 1} ratio to {ref}: " + ", ".join(parts))

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

