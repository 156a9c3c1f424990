"""The benchmark run: start the servers, run the phases round by round, write the report."""

from __future__ import annotations

import argparse
import datetime as dt
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
from pathlib import Path
from typing import ClassVar

from benchlib.common import (
    ATOLL_SERVERS,
    BACKENDS,
    BARE,
    BEFORE,
    MB,
    MIB,
    PROXIED,
    Backend,
    human_size,
    log,
    parse_size,
    rotated,
)
from benchlib.large_args import add_large_args, check_large_args
from benchlib.load import Wrk, check_upload_reply, curl_upload, sha256_of_file
from benchlib.processes import process_tree, reset_hwm, tree_cpu_s, tree_kib
from benchlib.report import Report, Results, fmt_ratio
from benchlib.rows import before_lines as rows_before_lines
from benchlib.rows import rows_table, run_rows, write_rows_doc
from benchlib.rows import verdicts as rows_verdicts
from benchlib.servers import (
    Atoll,
    AtollBehindProxy,
    BackendStore,
    Bare,
    ImportMismatch,
    MotoS3,
    Nginx,
    Postgres,
    Server,
    check_imports,
)
from benchlib.zipbench import TARGET as ZIP_TARGET
from benchlib.zipbench import run_zip


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
        self.atoll_names = [n for n in self.names if n not in self.backend.refs and n != BARE]
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
        if name == BARE:
            return Bare(self.tmp, self.pgid_file, a.python)
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
                if isinstance(srv, Atoll) and self.args.baseline_dir:
                    # Fails loudly (aborts the run) if a server does not run the code it should.
                    before = name == BEFORE
                    where = check_imports(srv, Path(self.args.baseline_dir) / "src", before)
                    log(f"  {name} imports atoll from {where}"
                        + (f" ({self.args.baseline} = {self.args.baseline_commit[:12]})"
                           if before else ""))
            except ImportMismatch:
                raise
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
                ctx["asset_url"], ctx["asset_auth"] = srv.asset_url(ctx["small_rel"])
                req = urllib.request.Request(ctx["asset_url"],
                                             headers={"Authorization": ctx["asset_auth"]})
                got = urllib.request.urlopen(req, timeout=30).read()  # follows the 302
                if got != self.small.read_bytes():
                    raise RuntimeError(f"asset URL returned {len(got)} wrong bytes")
                self.ctx[name] = ctx
                srv.idle_rss_kib = tree_kib(srv.roots, "VmRSS")
                log(f"{name:14s} ready: idle RSS {srv.idle_rss_kib / 1024:.1f} MiB "
                    f"({len(process_tree(srv.roots))} processes)")
            except Exception as e:
                self.fail(name, f"prepare: {e}")

    # ---- phases -----------------------------------------------------------------

    def order(self, rnd: int, big: bool = True) -> list[str]:
        names = [s for s in self.names if s in self.servers
                 and not (self.servers[s].small_only if big else self.servers[s].big_only)]
        return rotated(names, rnd) if names else []

    def ceiling(self, rnd: int) -> None:
        """The durable write ceiling: the payload written with O_DIRECT + fsync (dd) to a file
        on the filesystem the servers keep their data on -> figure ``ceiling`` (MB/s)."""
        out = self.tmp / "ceiling.bin"
        base = ["dd", f"if={self.big}", f"of={out}", "bs=4M", "conv=fsync"]
        try:
            for cmd in ([*base, "oflag=direct"], base):  # tmpfs has no O_DIRECT
                t0 = time.monotonic()
                p = subprocess.run(cmd, capture_output=True, text=True)
                t = time.monotonic() - t0
                if p.returncode == 0:
                    break
            else:
                raise RuntimeError(p.stderr.strip()[-300:])
        finally:
            out.unlink(missing_ok=True)
        m = re.search(r"^(\d+) bytes.* copied, ([\d.,]+) s", p.stderr, re.M)
        n, secs = (int(m.group(1)), float(m.group(2).replace(",", "."))) if m else (self.args.size, t)
        if n != self.args.size:
            raise RuntimeError(f"dd wrote {n} bytes, want {self.args.size}")
        mbs = n / secs / MB
        self.res.add("ceiling", "dd", rnd, mbs)
        direct = "oflag=direct" in cmd
        if not direct and "ceiling without O_DIRECT (not supported here)" not in self.res.notes:
            self.res.notes.append("ceiling without O_DIRECT (not supported here)")
        log(f"  r{rnd + 1} {'ceiling (dd)':14s} {mbs:8.0f} MB/s   "
            f"{' '.join(cmd[3:])}")

    def phase_big_upload(self) -> None:
        a = self.args
        log(f"\n== upload {human_size(a.size)} (curl -F, 1 warm-up + 1 timed per server per round), "
            f"{a.rounds} rounds")
        for rnd in range(a.rounds):
            try:
                self.ceiling(rnd)
            except Exception as e:
                log(f"!! ceiling: {e}")
                self.res.notes.append(f"ceiling round {rnd + 1}: {e}")
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
        "small_asseturl": ("assetget", "4 KiB download, asset URL -> 302 -> GET per op"),
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
                    self.res.add(metric + "_p99", name, rnd, r["p99_ms"])
                    self.res.add_extra("wrk_peak_rss", name, max(hwm, hwm0) / 1024)
                    err = f"  ERRORS {int(r['errors'])}" if r["errors"] else ""
                    if mode.startswith("link") or mode == "assetget":
                        err = f"  ({int(r['links'])} {'302s' if mode == 'assetget' else 'links'})"\
                              f"{err}"
                    if r["errors"]:
                        self.res.notes.append(f"{metric} {name} run {rnd + 1}: {int(r['errors'])} errors")
                    log(f"  r{rnd + 1} {name:14s} {r['ops_s']:9.0f} ops/s   p50 {r['p50_ms']:7.2f} ms"
                        f"   p99 {r['p99_ms']:7.2f} ms{err}")
                self.log_round_ratios(metric, rnd)

    def log_round_ratios(self, metric: str, rnd: int, ref_metric: str | None = None) -> None:
        """This round's ratios to each reference (to its ``ref_metric`` figure when given)."""
        for ref in (*self.backend.refs, BARE, BEFORE):
            y = self.res.at(ref_metric or metric, ref, rnd)
            if not y:
                continue
            parts = []
            for name in self.atoll_names:
                if name == ref:
                    continue
                x = self.res.at(metric, name, rnd)
                if x:
                    parts.append(f"{name} {fmt_ratio(x / y)}")
            if parts:
                what = f"{metric} ratio to {ref} {ref_metric}" if ref_metric else f"ratio to {ref}"
                log(f"     r{rnd + 1} {what}: " + ", ".join(parts))

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


class RowsBench(Bench):
    """``--rows``: atoll servers only, the rows operations of benchlib.rows on each."""

    def run(self) -> int:
        a = self.args
        self.t0 = time.time()
        self.start_servers()
        results: dict[str, dict[int, dict[str, float]]] = {}
        for name in self.names:
            srv = self.servers.get(name)
            if not srv or name == "moto":
                continue
            log(f"\n== rows on {name}: tables of {', '.join(f'{n:,}' for n in a.rows_sizes)} rows, "
                f"median of {a.rows_reps}")
            try:
                results[name] = run_rows(srv, a.rows_sizes, a.rows_reps)
            except Exception as e:
                self.fail(name, f"rows: {e}")
        if results:
            log("\n== rows summary (ms per call, median)")
            for ln in rows_table(results, a.rows_sizes):
                log(ln)
            for v in rows_verdicts(results, a.rows_sizes):
                log("targets: " + v)
            for v in rows_before_lines(results, a.rows_sizes):
                log("baseline: " + v)
        for name, why in self.failed.items():
            log(f"FAILED {name}: {why.splitlines()[0][:300]}")
        doc = a.doc
        if doc is None and not a.quick and not self.failed and not a.variants \
                and a.rows_sizes == [1000, 10000, 100000]:
            name = "benchmarks-rows-postgres-s3.md" if a.backend == "postgres-s3" else "benchmarks-rows.md"
            doc = str(Path(a.repo) / "docs" / name)
        if doc and not a.no_doc and results:
            header = [f"Generated by `scripts/bench{' ' + ' '.join(a.argv) if a.argv else ''}` on "
                      f"{self.started:%Y-%m-%d %H:%M} UTC (run took "
                      f"{(time.time() - self.t0) / 60:.1f} min). Re-run it to refresh this page.",
                      "", "File-transfer figures are in [benchmarks.md](benchmarks.md)."]
            backend = ("PostgreSQL (a fresh local cluster) + S3 (moto's server)" if a.backend == "postgres-s3"
                       else "SQLite + local folder")
            write_rows_doc(Path(doc), results, a.rows_sizes, a.rows_reps, header, self.machine(), backend)
        log(f"total {(time.time() - self.t0) / 60:.1f} min")
        return 0 if not self.failed and results else 2


class ThumbsBench(Bench):
    """``--thumbs``: atoll servers only, a 24 MP JPEG's thumbnail against vipsthumbnail."""

    def run(self) -> int:
        from benchlib.thumbs import lines, run_thumbs

        self.t0 = time.time()
        self.start_servers()
        results: dict[str, dict[str, float]] = {}
        for name in self.names:
            srv = self.servers.get(name)
            if not srv or name == "moto":
                continue
            log(f"\n== thumbnails on {name}: {self.args.thumbs_rounds} rounds")
            try:
                results[name] = run_thumbs(srv, self.args.thumbs_rounds)
            except Exception as e:
                self.fail(name, f"thumbs: {e}")
        if results:
            log("\n== thumbnails summary")
            for ln in lines(results, self.args.thumbs_rounds):
                log(ln)
        for name, why in self.failed.items():
            log(f"FAILED {name}: {why.splitlines()[0][:300]}")
        log(f"total {(time.time() - self.t0) / 60:.1f} min")
        return 0 if not self.failed and results else 2


class ZipBench(Bench):
    """``--zip``: the zip download of --zip-files files against ``zip -0`` (benchlib.zipbench)."""

    def run(self) -> int:
        a = self.args
        self.t0 = time.time()
        self.start_servers()
        name = next((n for n in self.names if n in ATOLL_SERVERS and n in self.servers), None)
        if name is None:
            log("FAILED: --zip needs an atoll server")
            return 2
        try:
            result = run_zip(self.servers[name], Path(a.tmp), a.zip_files, a.zip_file_size, a.rounds)
        except Exception as e:
            self.fail(name, f"zip: {e}")
            log(f"FAILED {name}: {e}")
            return 2
        ratio = float(result["ratio"])  # type: ignore[arg-type]
        log(f"target zip >= {ZIP_TARGET}x zip -0: {'met' if ratio >= ZIP_TARGET else 'MISSED'} ({ratio:.2f})")
        log(f"total {(time.time() - self.t0) / 60:.1f} min")
        return 0


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
                   "docs/benchmarks.md after a full run of all servers; with --rows "
                   "docs/benchmarks-rows.md after a run with the default sizes)")
    p.add_argument("--no-doc", action="store_true")
    p.add_argument("--findings", default=None, help="markdown file appended to the report")
    p.add_argument("--variant", action="append", default=[], metavar="'NAME=SERVER [K=V ...]'",
                   help="extra atoll server for A/B runs, e.g. 'big=granian ATOLL_CHUNK_BYTES=4194304'"
                   " (environment for that server only; PYTHONPATH works too); repeatable")
    p.add_argument("--baseline", default=None, metavar="REV",
                   help=f"also run atoll at git revision REV as server '{BEFORE}' (same server kind "
                   "as the first atoll server; a temporary detached worktree, PYTHONPATH=<it>/src) "
                   f"and report atoll / {BEFORE}")
    p.add_argument("--rows", action="store_true",
                   help="rows benchmark instead of files: atoll only, tables of --rows-sizes rows "
                   "filled through the gateway API; list/filter/append/update timings; writes "
                   "docs/benchmarks-rows.md after a full run")
    p.add_argument("--zip", action="store_true",
                   help="zip benchmark instead of files: atoll's zip download of --zip-files files "
                   "against zip -0 of the same files, --rounds rounds (docs/benchmarks.md, 'Zip download')")
    p.add_argument("--zip-files", type=int, default=1000, help="files in the zip benchmark (default 1000)")
    p.add_argument("--zip-file-size", default="256K", help="size of each file there (default 256K)")
    p.add_argument("--rows-sizes", default="1000,10000,100000",
                   help="comma list of table sizes for --rows (default 1000,10000,100000)")
    p.add_argument("--rows-reps", type=int, default=5,
                   help="timed repetitions per rows operation, median quoted (default 5)")
    add_large_args(p)
    p.add_argument("--thumbs", action="store_true",
                   help="thumbnail benchmark instead of files: a 24 MP JPEG's first and cached "
                   "thumbnail on atoll against vipsthumbnail (needs libvips-tools)")
    p.add_argument("--thumbs-rounds", type=int, default=5, help="timed rounds for --thumbs")
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
    if a.thumbs:
        a.rows = False
    if a.zip:
        a.zip_file_size = parse_size(a.zip_file_size)
        a.rows = False
        if a.servers is None:
            a.servers = "moto,uvicorn" if a.backend == "postgres-s3" else "uvicorn"
    if (a.rows or a.thumbs) and a.servers is None:
        a.servers = "moto,uvicorn" if a.backend == "postgres-s3" else "uvicorn"
    if a.large:
        check_large_args(p, a)
    a.servers = [s.strip() for s in (a.servers or ",".join(backend.servers)).split(",") if s.strip()]
    if a.rows or a.thumbs:
        # atoll servers only (and moto's S3 under them on postgres-s3)
        keep = {*ATOLL_SERVERS, "moto"} if a.backend == "postgres-s3" else set(ATOLL_SERVERS)
        a.servers = [s for s in a.servers if s in keep]
        if not a.servers and not a.baseline:
            p.error("--rows needs an atoll server in --servers (uvicorn or granian)")
    try:
        a.rows_sizes = [int(x) for x in a.rows_sizes.split(",") if x.strip()]
    except ValueError:
        p.error("bad --rows-sizes")
    if not a.rows_sizes or any(n < 1000 or n % 1000 for n in a.rows_sizes):
        p.error("--rows-sizes: multiples of 1000")
    bad = set(a.servers) - set(backend.servers)
    if bad:
        p.error(f"unknown servers {bad}")
    a.variants = {}
    for v in a.variant:
        name, _, rest = v.partition("=")
        kind, *envs = rest.split()
        if not name or name in backend.servers or name == BEFORE or kind not in ATOLL_SERVERS:
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
    a.baseline_dir = None
    if a.baseline:
        rev = subprocess.run(["git", "-C", a.repo, "rev-parse", "--verify", "-q",
                              a.baseline + "^{commit}"], capture_output=True, text=True)
        if rev.returncode != 0:
            p.error(f"--baseline: no commit {a.baseline!r}")
        a.baseline_commit = rev.stdout.strip()
        kind = next((s for s in a.servers if s in ATOLL_SERVERS), "uvicorn")
        a.baseline_dir = str(Path(a.tmp) / "baseline")

    bench: Bench | RowsBench | ThumbsBench | ZipBench
    if a.large:
        from benchlib.large import LargeBench  # imports this module

        bench = LargeBench(a)
    else:
        bench = (ZipBench(a) if a.zip else ThumbsBench(a) if a.thumbs
                 else RowsBench(a) if a.rows else Bench(a))

    def on_signal(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        if a.baseline_dir:
            add_baseline_worktree(a.repo, a.baseline_dir, a.baseline_commit)
            a.variants[BEFORE] = (kind, {"PYTHONPATH": str(Path(a.baseline_dir) / "src")})
            bench.names.append(BEFORE)
            bench.atoll_names.append(BEFORE)
        return bench.run()
    except ImportMismatch as e:
        log(f"!! {e}")
        return 3
    finally:
        bench.stop_all()
        if a.baseline_dir:
            remove_baseline_worktree(a.repo, a.baseline_dir)
        if own_tmp:
            shutil.rmtree(a.tmp, ignore_errors=True)


def add_baseline_worktree(repo: str, path: str, commit: str) -> None:
    out = subprocess.run(["git", "-C", repo, "worktree", "add", "--detach", path, commit],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"git worktree add failed: {out.stderr.strip()}")
    log(f"baseline: {commit[:12]} checked out in {path}")
    build_native(Path(path))


def build_native(tree: Path) -> None:
    """Build the commit's native write helper as scripts/setup does, so the baseline runs as
    shipped (commits before it have none)."""
    source = tree / "src/atoll/storage/_durable.c"
    if not source.exists():
        return
    out = subprocess.run(["cc", "-O2", "-Wall", "-shared", "-fPIC", "-o", str(source.with_suffix(".so")),
                          str(source)], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"building the baseline's native helper failed: {out.stderr.strip()}")
    log("baseline: native write helper built")


def remove_baseline_worktree(repo: str, path: str) -> None:
    """Also after Ctrl-C or a failure. Should ``git worktree remove`` fail, the worktree's own
    record (the gitdir its ``.git`` file names) and folder are removed by hand; no global
    ``prune`` (other worktrees' records are not ours)."""
    dotgit = Path(path) / ".git"
    admin = None
    if dotgit.is_file():
        admin = Path(dotgit.read_text().split("gitdir:", 1)[-1].strip())
    out = subprocess.run(["git", "-C", repo, "worktree", "remove", "--force", path],
                         capture_output=True, text=True)
    if out.returncode != 0:
        if admin is not None and admin.parent.name == "worktrees":
            shutil.rmtree(admin, ignore_errors=True)
        shutil.rmtree(path, ignore_errors=True)
    if Path(path).exists() or (admin is not None and admin.exists()):
        log(f"!! baseline worktree {path} not fully removed")
    else:
        log(f"baseline: worktree {path} removed")

