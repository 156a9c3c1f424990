"""The report of ``scripts/bench --large``: tables (printed and written to
docs/benchmarks-large.md), the issue 10 targets with MET/MISS, the hand-written findings kept
below the marker across rewrites."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TYPE_CHECKING

from benchlib.common import human_size, log, median
from benchlib.large_clients import CLIENTS, OFFICIAL_VERSION
from benchlib.report import appendix, fig_cell, fmt_num, fmt_ratio, kept_findings

if TYPE_CHECKING:
    from benchlib.large import LargeBench

#: Issue 10: tus upload >= 0.6x nginx's upload; server RSS <= idle + 64 MiB at 10 GiB; the SDK
#: >= 2x the official client's throughput with client RSS <= 64 MiB.
TUS_NGINX, SERVER_RSS_MIB, SDK_SPEED, CLIENT_RSS_MIB = 0.6, 64, 2.0, 64
RSS_ROWS = (("rss_upload_tus", "tus upload"), ("rss_upload", "upload-api upload"),
            ("rss_download", "download"))
Row = tuple[str, str, dict[str, str], str]


def met(ok: bool) -> str:
    return "MET" if ok else "MISS"


def peak(b: LargeBench, metric: str, name: str) -> float:
    vals = [v for v in b.res.figures.get(metric, {}).get(name, []) if v is not None]
    return max(vals) if vals else float("nan")


def transfer_rows(b: LargeBench) -> list[Row]:
    size = human_size(b.args.large_size)
    rows: list[Row] = []
    for metric, label, target in (
            ("upload_tus", f"upload {size}, tus: POST + one PATCH (`curl -T`)",
             f"≥ {TUS_NGINX}× nginx upload"),
            ("upload", f"upload {size}, upload-api (`curl -F`)", ""),
            ("download", f"download {size}, `curl -o /dev/null`", "")):
        if metric not in b.res.figures:
            continue
        ref = "upload" if metric.startswith("upload") else "download"
        cells = {s: fig_cell(b.res.med(metric, s),
                             None if s == "nginx" else b.res.ratio_to(metric, s, ref, "nginx"))
                 for s in b.names}
        rows.append((label, "MB/s", cells, target))
    for metric, label in RSS_ROWS:
        if metric not in b.res.figures:
            continue
        cells = {}
        for s in b.names:
            p, idle = peak(b, metric, s), b.idle.get(s)
            cells[s] = "—" if math.isnan(p) or idle is None else \
                f"{idle:.0f} → {p:.0f} (+{p - idle:.0f})"
        rows.append((f"server RSS idle → peak, {label} {size}", "MiB", cells,
                     f"≤ idle + {SERVER_RSS_MIB} MiB"))
    for metric, label in (("cpu_upload_tus", "tus upload"), ("cpu_upload", "upload-api upload"),
                          ("cpu_download", "download")):
        if metric in b.res.figures:
            rows.append((f"server CPU per GiB, {label}", "s",
                         {s: fmt_num(b.res.med(metric, s), 2) for s in b.names}, ""))
    return rows


def client_ratio(b: LargeBench, metric: str) -> float:
    per = b.res.figures.get(metric, {})
    pairs = zip(per.get("atoll", []), per.get("official", []), strict=False)
    return median([a / o for a, o in pairs if a is not None and o])


def client_rows(b: LargeBench) -> list[tuple[str, str, dict[str, str], str, str]]:
    """(label, unit, cells for official/atoll, atoll / official, target)."""
    if "client_upload" not in b.res.figures:
        return []
    rows = []
    for op in ("upload", "download"):
        m = f"client_{op}"
        rows.append((f"{op}, throughput of the call", "MB/s",
                     {k: fmt_num(b.res.med(m, k)) for k in CLIENTS},
                     fmt_ratio(client_ratio(b, m)), f"≥ {SDK_SPEED:g}×"))
    for op in ("upload", "download"):
        m = f"client_{op}_rss"
        cells = {k: f"{fmt_num(peak(b, m, k), 1)} (before the call "
                    f"{fmt_num(peak(b, m + '_before', k), 1)})" for k in CLIENTS}
        r = peak(b, m, "atoll") / peak(b, m, "official")
        rows.append((f"client peak RSS, {op}", "MiB", cells, fmt_ratio(r),
                     f"atoll ≤ {CLIENT_RSS_MIB} MiB"))
    for op in ("upload", "download"):
        m = f"client_{op}_server_rss"
        rows.append((f"server peak RSS during the client's {op} (idle "
                     f"{b.idle.get(b.client_server, float('nan')):.0f})", "MiB",
                     {k: fmt_num(peak(b, m, k)) for k in CLIENTS}, "", ""))
    return rows


def verdicts(b: LargeBench) -> list[str]:
    out = []
    for s in b.atoll_names:
        parts = []
        r = b.res.ratio_to("upload_tus", s, "upload", "nginx")
        if not math.isnan(r):
            parts.append(f"tus upload {r:.2f}× nginx {met(r >= TUS_NGINX)} (≥ {TUS_NGINX}×)")
        idle = b.idle.get(s)
        for metric, label in RSS_ROWS:
            p = peak(b, metric, s)
            if idle is not None and not math.isnan(p):
                parts.append(f"server RSS {label} +{p - idle:.0f} MiB "
                             f"{met(p - idle <= SERVER_RSS_MIB)} (≤ +{SERVER_RSS_MIB})")
        if parts:
            out.append(f"{s}: " + "; ".join(parts))
    if "client_upload" in b.res.figures:
        parts = []
        for op in ("upload", "download"):
            r = client_ratio(b, f"client_{op}")
            parts.append(f"{op} {fmt_ratio(r)} official {met(r >= SDK_SPEED)} (≥ {SDK_SPEED:g}×)")
        rss = max(peak(b, "client_upload_rss", "atoll"), peak(b, "client_download_rss", "atoll"))
        parts.append(f"client peak RSS {rss:.1f} MiB {met(rss <= CLIENT_RSS_MIB)} "
                     f"(≤ {CLIENT_RSS_MIB} MiB)")
        out.append("atoll SDK vs official client: " + "; ".join(parts))
    return out


def tables(b: LargeBench) -> list[str]:
    servers = [n for n in b.names if n in b.res.figures.get("download", {})
               or n in b.res.figures.get("upload", {})] or b.names
    lines = ["| what | unit | " + " | ".join(s if s == "nginx" else f"atoll {s}" for s in servers)
             + " | target |", "|---|---|" + "---:|" * len(servers) + "---|"]
    for label, unit, cells, target in transfer_rows(b):
        lines.append(f"| {label} | {unit} | " + " | ".join(cells.get(s, "—") for s in servers)
                     + f" | {target} |")
    crows = client_rows(b)
    if crows:
        size = human_size(b.args.client_size)
        lines += ["", f"Clients, {size} on atoll {b.client_server} (median over rounds; RSS: the "
                  "maximum over rounds; ratio: median of per-round ratios):", "",
                  f"| what | unit | official seatable-api {OFFICIAL_VERSION} | atoll SDK | "
                  "atoll / official | target |", "|---|---|---:|---:|---:|---|"]
        for label, unit, cells, ratio, target in crows:
            lines.append(f"| {label} | {unit} | {cells['official']} | {cells['atoll']} | {ratio} "
                         f"| {target} |")
    return lines


def print_large_summary(b: LargeBench) -> None:
    log("\n== summary: median MB/s (median of per-round ratios to nginx)")
    for ln in tables(b):
        log(ln)
    for v in verdicts(b):
        log("targets: " + v)
    if "atoll_resumable" in b.facts:
        log(f"atoll SDK upload path: {sdk_path(b)}")
    for name, why in b.failed.items():
        log(f"FAILED {name}: {why.splitlines()[0][:300]}")


def sdk_path(b: LargeBench) -> str:
    if b.facts.get("atoll_resumable"):
        return "tus (resumable; the SDK's default above its threshold)"
    return "multipart upload-api (this SDK's upload_local_file has no resumable keyword)"


def method(b: LargeBench) -> list[str]:
    a = b.args
    size, warm = human_size(a.large_size), human_size(b.warm.stat().st_size)
    return [
        "- nginx (the anchor configuration of [benchmarks.md](benchmarks.md): upload = the body "
        "written to a file, download = static file with sendfile) and atoll (one process each, "
        "SQLite + local folder) up at once on 127.0.0.1; the client shares the 2 cores.",
        f"- {size} of random bytes, sha256 computed once while writing it. {a.large_rounds} "
        "rounds; each round runs the upload legs in a rotated order, then the downloads in a "
        "rotated order. Figures: median over rounds; ratios: **median of per-round ratios** to "
        "nginx's upload (resp. download) of the same round.",
        f"- Before every timed upload, one untimed warm-up upload of {warm} by the same method "
        "to the same server (this VM returns freed memory to its host; a full-size warm-up "
        "would double the run's time). The warm-up goes to `warmup.bin`, the timed upload to "
        "`big.bin` (`replace`): the large file a timed upload replaces is freed at its end, "
        "before the next leg's warm-up, not right before a timed upload.",
        "- **tus**: `curl -X POST <tus_link> -H 'Tus-Resumable: 1.0.0' -H 'Upload-Length: <n>' "
        "-H 'Upload-Metadata: filename …,relative_path …,replace MQ=='` (201, `Location`), then "
        "one `curl -X PATCH -T <payload> -H 'Tus-Resumable: 1.0.0' -H 'Upload-Offset: 0' -H "
        "'Content-Type: application/offset+octet-stream' -H 'Expect:' <Location>` (streams "
        "from disk); the final 204's `Atoll-Upload-Result` must give the payload's size and "
        "sha256. Time = both curls' `time_total`.",
        "- **upload-api**: `curl -sS -f -H 'Expect:' -F parent_dir=… -F relative_path=… -F "
        "replace=1 -F file=@payload <upload_link>?ret-json=1` (atoll's reply checked for name "
        "and size); nginx's upload is the same command. atoll runs with `ATOLL_MAX_UPLOAD_BYTES`"
        f" = max(10 GiB, size + 64 MiB) = {max(10 << 30, a.large_size + (64 << 20)):,} bytes: "
        "upload-api limits the whole request body, and a 10 GiB file plus its multipart framing "
        "is over the default 10 GiB.",
        "- **download**: `curl -o /dev/null <download_link>`, after one untimed download of the "
        "same file (round 1: atoll's read in Python and checked by sha256), so both servers "
        "serve from the page cache as far as it holds the file.",
        "- Server RSS: VmRSS/VmHWM summed over the server's process tree; idle = after start-up "
        "and a first small upload; peak = VmHWM reset (`clear_refs` 5) right before each timed "
        "transfer, maximum over rounds. Server CPU = utime+stime of the tree during the transfer.",
        f"- Clients: the official client (seatable-api {OFFICIAL_VERSION}, the compat tests' "
        "venv from tests/compat/clients.py) and atoll's SDK (`atoll.Base`, the checkout's "
        "`src/`) on the first atoll server, each operation a process of its own "
        "(`scripts/benchlib/client_op.py`): `Base(api_token, server_url).auth()`, then timed "
        "alone `upload_local_file(path, name=…, file_type='file', replace=True)` or "
        "`download_file(<the cell url>, save_path)` (to disk, checked by size, sha256 in round "
        f"1). {a.client_rounds} rounds, the two clients in rotated order; each timed upload is "
        "preceded by the same upload, untimed, by the same client. Throughput = bytes / the "
        "call's time (start-up and `auth()` excluded). Client peak RSS = `ru_maxrss` of that "
        "process (wait4), its whole life; \"before the call\" = its VmRSS after imports and "
        f"`auth()`. atoll SDK upload path in this run: {sdk_path(b)}.",
        "- MB = 10^6 bytes.",
    ]


def smoke_warning(b: LargeBench) -> list[str]:
    a = b.args
    if a.large_size == 10 << 30 and a.client_size == 1 << 30 and not a.quick:
        return []
    return [f"**Not issue 10's measurement**: {human_size(a.large_size)} (not 10 GiB) and clients "
            f"on {human_size(a.client_size)} (not 1 GiB); a smoke run of the harness.", ""]


def write_large_doc(b: LargeBench, path: Path) -> None:
    a = b.args
    lines = [
        "# atoll large-file benchmarks (issue 10)", "",
        f"Generated by `scripts/bench{' ' + ' '.join(a.argv) if a.argv else ''}` on "
        f"{b.started:%Y-%m-%d %H:%M} UTC (run took {(time.time() - b.t0) / 60:.1f} min). Re-run "
        "it to refresh this page; single figures drift 10-25% (nginx up to 2×) between runs on "
        "this shared VM, the ratios taken side by side in one run are what to compare.", "",
        *smoke_warning(b),
        "The 1 GiB and 4 KiB figures are in [benchmarks.md](benchmarks.md).", "",
        "## Machine", "", *[f"- {k}: {v}" for k, v in b.machine().items()], "",
        "## Method", "", *method(b), "",
        "## Results", "", "Median MB/s (median of per-round ratios to nginx).", "", *tables(b), "",
        "## Targets", "", *([f"- {v}" for v in verdicts(b)] or ["- (atoll did not run)"]),
    ]
    lines += appendix(b.res, b.failed, 26)
    kept = kept_findings(path, a.findings)
    if kept:
        lines += ["", kept]
    path.write_text("\n".join(lines) + "\n")
    log(f"\nwrote {path}")
