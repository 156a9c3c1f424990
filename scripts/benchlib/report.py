"""Figures per round, their medians and ratios, and the report: the summary table and the
Markdown page (docs/benchmarks*.md)."""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

from benchlib.common import (
    ATOLL_SERVERS,
    BARE,
    BEFORE,
    FINDINGS_MARKER,
    ISSUE9,
    TARGETS,
    Backend,
    human_size,
    log,
    median,
)

if TYPE_CHECKING:
    from benchlib.servers import Server


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

    def at(self, metric: str, server: str, rnd: int) -> float | None:
        """The figure of round ``rnd`` (None where missing)."""
        col = self.figures.get(metric, {}).get(server, [])
        return col[rnd] if rnd < len(col) else None

    def med(self, metric: str, server: str) -> float:
        return median([v for v in self.figures.get(metric, {}).get(server, []) if v is not None])

    def ratio(self, metric: str, server: str, ref: str = "nginx") -> float:
        a = self.figures.get(metric, {}).get(server, [])
        b = self.figures.get(metric, {}).get(ref, [])
        rs = [x / y for x, y in zip(a, b, strict=False) if x is not None and y]
        return median(rs)

    def ratio_to(self, metric: str, server: str, ref_metric: str, ref: str) -> float:
        """Median of per-round ratios to another figure (atoll's upload / the ceiling)."""
        a = self.figures.get(metric, {}).get(server, [])
        b = self.figures.get(ref_metric, {}).get(ref, [])
        return median([x / y for x, y in zip(a, b, strict=False) if x is not None and y])

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



def fig_cell(v: float, ratio: float | None) -> str:
    """A table cell: the figure, and its ratio to the reference in parentheses when given."""
    if math.isnan(v):
        return "—"
    return fmt_num(v) if ratio is None else f"{fmt_num(v)} ({fmt_ratio(ratio)})"


def appendix(res: Results, failed: dict[str, str], metric_w: int) -> list[str]:
    """The report's "Per-round figures" and, if any, "Problems during the run" sections."""
    w = max([8, *(len(n) for per in res.figures.values() for n in per)])
    lines = ["", "## Per-round figures", "", "```"]
    for metric, per in res.figures.items():
        for s, vals in per.items():
            lines.append(f"{metric:{metric_w}s} {s:{w}s} " + " ".join(
                "—" if v is None else f"{v:.1f}" for v in vals))
    lines.append("```")
    if failed or res.notes:
        lines += ["", "## Problems during the run", ""]
        lines += [f"- {n}: {why.splitlines()[0][:300]}" for n, why in failed.items()]
        lines += [f"- {n}" for n in res.notes]
    return lines


def kept_findings(path: Path, findings: str | None) -> str:
    """The hand-written analysis below the marker, which survives re-runs; ``--findings FILE``
    replaces it. "" when there is none."""
    if findings:
        return FINDINGS_MARKER + "\n\n" + Path(findings).read_text().strip()
    if path.exists() and FINDINGS_MARKER in path.read_text():
        return path.read_text()[path.read_text().index(FINDINGS_MARKER):].strip()
    return ""


class Report:
    """The report half of :class:`benchlib.runner.Bench`: the summary and the Markdown page.
    The attributes are set by the run."""

    args: argparse.Namespace
    backend: Backend
    names: list[str]
    atoll_names: list[str]
    res: Results
    failed: dict[str, str]
    servers: dict[str, Server]
    started: dt.datetime
    t0: float
    tmp: Path
    idle: dict[str, float]
    winner: str | None

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
            ("small_asseturl", "4 KiB download, asset URL → 302 → GET per op", "ops/s", ""),
        ]
        for metric, label, unit, target in labels:
            if metric not in self.res.figures:
                continue
            cells = {s: fig_cell(self.res.med(metric, s),
                                 None if s == "nginx" else self.res.ratio(metric, s))
                     for s in self.names}
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
            if metric == "upload" and "ceiling" in self.res.figures:
                ceil = self.res.med("ceiling", "dd")
                cells = {s: (fmt_ratio(self.res.ratio_to(metric, s, "ceiling", "dd"))
                             if s in self.atoll_names or s == "nginx" else "—") for s in self.names}
                rows.append((f"… ratio to the durable write ceiling ({fmt_num(ceil)} MB/s, dd "
                             "O_DIRECT + fsync)", "×", cells,
                             f"≥ {ISSUE9['upload_nginx']}× nginx or ≥ {ISSUE9['upload_ceiling']}× "
                             "ceiling, whichever is lower"))
            if metric.startswith("small_") and BARE in self.res.figures[metric]:
                cells = {s: (fmt_ratio(self.res.ratio(metric, s, BARE))
                             if s in self.atoll_names else "—") for s in self.names}
                cells[BARE] = "1"
                rows.append(("… atoll / bare", "×", cells, f"≥ {ISSUE9['small_bare']}× bare"))
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
            cells = {s: (f"{max(peak):.0f}" if (peak := self.res.extra['wrk_peak_rss'].get(s)) else "—")
                     for s in self.names}
            rows.append((f"server RSS peak under wrk -c{self.args.conns}", "MiB", cells, ""))
        return rows

    def before_lines(self) -> list[str]:
        """atoll / before (--baseline), per figure and server: median of per-round ratios."""
        out = []
        for s in self.atoll_names:
            if s == BEFORE:
                continue
            parts = []
            for metric in self.METRICS:
                per = self.res.figures.get(metric, {})
                if s in per and BEFORE in per:
                    parts.append(f"{metric} {fmt_ratio(self.res.ratio(metric, s, BEFORE))}")
            if parts:
                out.append(f"{s} / before: " + ", ".join(parts))
        return out

    METRICS = ("upload", "download", "small_download", "small_linkget", "small_upload",
               "small_linkpost", "small_asseturl")

    def issue9_verdicts(self) -> list[str]:
        """Big upload >= 0.6x nginx or >= 0.75x ceiling (the lower bar); 4 KiB >= 0.6x bare."""
        out = []
        up = self.res.figures.get("upload", {})
        nginx, ceil = self.res.med("upload", "nginx"), self.res.med("ceiling", "dd")
        for s in self.atoll_names:
            parts = []
            if s in up and not (math.isnan(nginx) and math.isnan(ceil)):
                bars = [x for x in (ISSUE9["upload_nginx"] * nginx, ISSUE9["upload_ceiling"] * ceil)
                        if not math.isnan(x)]
                bar, v = min(bars), self.res.med("upload", s)
                parts.append(f"upload {fmt_num(v)} MB/s vs bar {fmt_num(bar)} MB/s "
                             f"{'PASS' if v >= bar else 'MISS'}")
            for metric in self.METRICS[2:]:
                per = self.res.figures.get(metric, {})
                if s in per and BARE in per:
                    r = self.res.ratio(metric, s, BARE)
                    parts.append(f"{metric} {fmt_ratio(r)} bare "
                                 f"{'PASS' if r >= ISSUE9['small_bare'] else 'MISS'}")
            if parts:
                out.append(f"{s} (issue 9): " + "; ".join(parts))
        return out

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
        return out + self.issue9_verdicts()

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

    def latency_lines(self) -> list[str]:
        lat = []
        for metric in self.METRICS[2:]:
            if metric + "_p50" in self.res.figures:
                lat.append(f"latency {metric} p50 / p99: " + ", ".join(
                    f"{s} {self.res.med(metric + '_p50', s):.2f} / "
                    f"{self.res.med(metric + '_p99', s):.2f} ms" for s in self.names
                    if s in self.res.figures[metric + "_p50"]))
        return lat

    def print_summary(self) -> None:
        self.idle = {n: s.idle_rss_kib / 1024 for n, s in self.servers.items()}
        self.winner = None
        rows = self.summary_rows()
        log("\n== summary: median figure (median of per-round ratios to nginx)")
        w = max((len(r[0]) for r in rows), default=10) + 8
        log(f"{'':{w}s}" + "".join(f"{s:>24s}" for s in self.names))
        for label, unit, cells, _ in rows:
            log(f"{label + ' [' + unit + ']':{w}s}" + "".join(f"{cells[s]:>24s}" for s in self.names))
        for ln in self.latency_lines():
            log(ln)
        for v in self.verdicts():
            log("targets: " + v)
        for ln in self.before_lines():
            log("baseline: " + ln)
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
            "- *asset URL → 302 → GET per op* (`small_asseturl`): every op is a GET of the "
            "asset URL `/workspace/<wid>/asset/<uuid>/<path>` with `Authorization: Token <access "
            "token>` (from `app-access-token`), then a GET of the `Location` of its 302 (wrk does "
            "not follow redirects: the Lua script does); an op counts only when the 4 KiB body "
            "arrives. nginx answers the asset URL with a static 302 to its file location "
            "(no token check) and the access-token endpoint with static JSON.",
            "- Latency: wrk's p50 and p99 over all requests of a run (for the two-request modes, "
            "link/302 requests included), median over runs.",
            "- **bare** = the bare framework: `scripts/benchlib/bare_app.py`, a Starlette app on "
            "uvicorn like atoll's (one worker, `http=httptools`, uvicorn's default loop) without "
            "auth, tickets or metadata, answering the same URLs: static link JSON, the file read "
            "from disk per request, the upload parsed by Starlette (python-multipart, streaming) "
            "and written durably (write + fsync to a temporary name, rename into its folder, in "
            "the thread pool). 4 KiB modes only; *atoll / bare* is the median of per-round ratios "
            f"(issue 9 target: ≥ {ISSUE9['small_bare']}×).",
            "- Durable write ceiling: once per round of the big upload, `dd if=<payload> "
            "of=<file in the bench temp dir, the servers' data filesystem> bs=4M oflag=direct "
            "conv=fsync` (MB/s from dd's own time; without `oflag=direct` where the filesystem "
            "refuses it, noted below). Issue 9's big-upload bar: atoll ≥ "
            f"{ISSUE9['upload_nginx']}× nginx or ≥ {ISSUE9['upload_ceiling']}× the ceiling, "
            "whichever is lower (medians).",
            *([f"- **before** = atoll at `{a.baseline}` ({a.baseline_commit[:12]}): a temporary "
               "`git worktree add --detach` of that commit, the same server kind as the first "
               "atoll server, `PYTHONPATH=<worktree>/src`; at start the harness imports atoll "
               "with each atoll process's own interpreter, environment and working directory "
               "(from /proc/<pid>) and stops the run unless `before` runs the worktree's code "
               "and the others do not."] if a.baseline else []),
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
                n if n in (*self.backend.refs, BARE) or n.startswith("atoll")
                else f"atoll {n} ({self.args.baseline})" if n == BEFORE else f"atoll {n}"
                for n in self.names) + " | target |",
            "|---|---|" + "---:|" * len(self.names) + "---|",
        ]
        for label, unit, cells, target in rows:
            lines.append(f"| {label} | {unit} | " + " | ".join(cells[n] for n in self.names)
                         + f" | {target} |")
        lines += ["", *[f"- {ln}" for ln in self.latency_lines()], "", "## Targets", ""]
        lines += [f"- {v}" for v in self.verdicts()] or ["- (atoll did not run)"]
        if self.before_lines():
            lines += ["", f"## Against the baseline ({self.args.baseline})", "",
                      f"atoll now / atoll at `{self.args.baseline}` "
                      f"({self.args.baseline_commit[:12]}), median of per-round ratios "
                      "(> 1: now faster; for latency see above):", ""]
            lines += [f"- {ln}" for ln in self.before_lines()]
        if self.backend.name == "sqlite-local":
            lines += ["", "## Which server is faster", "",
                      "Median of per-round ratios granian / uvicorn (> 1: granian faster):", ""]
            lines += [f"- {ln}" for ln in self.faster()] or ["- (needs both servers)"]
        lines += appendix(self.res, self.failed, 22)
        kept = kept_findings(path, self.args.findings)
        if kept:
            lines += ["", kept]
        path.write_text("\n".join(lines) + "\n")
        log(f"\nwrote {path}")
