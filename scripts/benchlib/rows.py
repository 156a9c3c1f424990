"""The rows benchmark (``scripts/bench --rows``): atoll only, through its gateway API.

Per table size (one table each: a text, a number, a second text and a checkbox column, filled
with batch appends of 1,000 rows), the median time per call over ``reps`` timed calls (after
one untimed warm-up) of: a list_rows page of 1,000 (the first page and a page in the middle),
the same ordered by the number column, filter_rows with one predicate on the number column
(matching 1,000 rows at every size), SQL (a WHERE/ORDER BY/LIMIT 100 and a GROUP BY over the
table), list_rows through a view whose filter matches 1,000 rows, then the writes: append one
row, batch-append 1,000 rows, update one row. Reads run before writes, so reads see exactly the table's size.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from benchlib.common import http_json, log, median
from benchlib.servers import Server

BATCH = 1000
PAGE = 1000
PRIME = 7919  # the number column holds a permutation of 0..n-1: (i * PRIME) % n

#: (key, label, is a page read: target <= 2x the smallest table's time at the largest size)
OPS = (
    ("list_first", "list_rows, first page of 1,000", True),
    ("list_middle", "list_rows, page of 1,000 in the middle", True),
    ("list_first_sorted", "list_rows, first page, order_by number desc", True),
    ("list_middle_sorted", "list_rows, middle page, order_by number desc", True),
    ("filter", "filter_rows, number < 1000 (1,000 rows match)", True),
    # the sort keys narrow a selective WHERE / view filter (docs/sql.md, "Indexes")
    ("sql_where", "SQL select … where number < 1000 order by number desc limit 100", True),
    # no WHERE: a GROUP BY over the whole table reads it in the database
    ("sql_group", "SQL select Done, count(*), sum(number) … group by Done", False),
    ("list_view", "list_rows through a view filtering number < 1000 (first page)", True),
    ("append_one", "append_row (one row)", False),
    ("batch_append", "batch_append_rows (1,000 rows)", False),
    ("update_one", "update_row (one row)", False),
)
PAGE_TARGET = 2.0


class Gateway:
    def __init__(self, srv: Server) -> None:
        d = http_json(srv.url + "/api/v2.1/dtable/app-access-token/", srv.auth)
        assert isinstance(d, dict) and "access_token" in d, d
        self.base = f"{srv.url}/api-gateway/api/v2/dtables/{d['dtable_uuid']}"
        self.headers = {"Authorization": f"Token {d['access_token']}",
                        "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: object = None,
             query: dict[str, str | int] | None = None) -> tuple[float, Any]:
        url = self.base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method, headers=self.headers)
        t0 = time.perf_counter()
        with urllib.request.urlopen(req, timeout=600) as resp:
            raw = resp.read()
        t = time.perf_counter() - t0
        return t, json.loads(raw) if raw else None


def row(i: int, n: int) -> dict[str, object]:
    return {"Name": f"row {i}", "N": (i * PRIME) % n, "Note": f"note {i % 97} " + "x" * 20,
            "Done": i % 2 == 0}


def bench_table(gw: Gateway, n: int, reps: int) -> dict[str, float]:
    """Create and fill a table of ``n`` rows, time the operations -> ms per op (and fill s)."""
    table = f"Bench{n}"
    cols = [{"column_name": "Name", "column_type": "text"},
            {"column_name": "N", "column_type": "number"},
            {"column_name": "Note", "column_type": "text"},
            {"column_name": "Done", "column_type": "checkbox"}]
    gw.call("POST", "/tables/", {"table_name": table, "columns": cols})
    t0 = time.perf_counter()
    for b in range(n // BATCH):
        gw.call("POST", "/rows/", {"table_name": table,
                                   "rows": [row(i, n) for i in range(b * BATCH, (b + 1) * BATCH)]})
    fill = time.perf_counter() - t0
    log(f"  {n:>7,} rows: filled in {fill:.1f} s ({n // BATCH} batches of {BATCH:,})")
    gw.call("POST", "/views/", {"name": "Small"}, {"table_name": table})
    gw.call("PUT", "/views/Small/", {"filters": [{"column_name": "N", "filter_predicate": "<",
                                                  "filter_term": 1000}]}, {"table_name": table})
    middle = (n // 2 // PAGE) * PAGE
    page: dict[str, str | int] = {"table_name": table, "limit": PAGE}
    reads: dict[str, tuple[str, str, object, dict[str, str | int] | None]] = {
        "list_first": ("GET", "/rows/", None, {**page, "start": 0}),
        "list_middle": ("GET", "/rows/", None, {**page, "start": middle}),
        "list_first_sorted": ("GET", "/rows/", None, {**page, "start": 0, "order_by": "N",
                                                       "direction": "desc"}),
        "list_middle_sorted": ("GET", "/rows/", None, {**page, "start": middle, "order_by": "N",
                                                        "direction": "desc"}),
        "filter": ("GET", "/filtered-rows/", {
            "table_name": table, "filter_conjunction": "And",
            "filters": [{"column_name": "N", "filter_predicate": "<", "filter_term": 1000}]}, None),
        "sql_where": ("POST", "/sql", {"sql": f"select Name, N from {table} where N < 1000 "
                                              "order by N desc limit 100", "convert_keys": True}, None),
        "sql_group": ("POST", "/sql", {"sql": f"select Done, count(*), sum(N) from {table} group by Done",
                                       "convert_keys": True}, None),
        "list_view": ("GET", "/rows/", None, {**page, "start": 0, "view_name": "Small"}),
    }
    wants = {"filter": min(1000, n), "sql_where": min(100, n), "sql_group": 2, "list_view": min(1000, n)}
    out = {"fill_s": fill}
    row_id = ""
    for key, (method, path, body, query) in reads.items():
        times = []
        for k in range(reps + 1):
            t, got = gw.call(method, path, body, query)
            if k:
                times.append(t)
        rows = (got.get("rows") or got.get("results") or []) if isinstance(got, dict) else []
        want = wants.get(key, min(PAGE, n))
        if len(rows) != want:
            raise RuntimeError(f"{key} on {n:,} rows returned {len(rows)} rows, want {want}")
        if key == "list_middle":
            row_id = rows[0]["_id"]
        out[key] = median(times) * 1000
    writes: dict[str, tuple[str, object]] = {
        "append_one": ("POST", {"table_name": table, "rows": [row(n + 1, n)]}),
        "batch_append": ("POST", {"table_name": table,
                                  "rows": [row(i, n) for i in range(n, n + BATCH)]}),
        "update_one": ("PUT", {"table_name": table, "updates": [
            {"row_id": row_id, "row": {"Note": "updated", "N": -1}}]}),
    }
    for key, (method, body) in writes.items():
        times = [gw.call(method, "/rows/", body)[0] for _ in range(reps + 1)][1:]
        out[key] = median(times) * 1000
    log("  " + f"{n:>7,} rows: " + ", ".join(f"{k} {out[k]:.1f} ms" for k, _, _ in OPS))
    return out


def run_rows(srv: Server, sizes: list[int], reps: int) -> dict[int, dict[str, float]]:
    gw = Gateway(srv)
    return {n: bench_table(gw, n, reps) for n in sizes}


def rows_table(results: dict[str, dict[int, dict[str, float]]], sizes: list[int]) -> list[str]:
    """Markdown: one row per operation, ms per size for every server, ratio largest/smallest."""
    lo, hi = sizes[0], sizes[-1]
    head = ["operation"]
    for name in results:
        head += [f"{name} {n:,} [ms]" for n in sizes] + [f"{name} {hi // 1000}k/{lo // 1000}k"]
    lines = ["| " + " | ".join([*head, "target"]) + " |",
             "|---|" + "---:|" * (len(head) - 1) + "---|"]
    for key, label, is_page in (("fill_s", f"fill, {BATCH:,} rows per batch [s, total]", False),
                                *OPS):
        cells = [label]
        for per in results.values():
            vals = [per.get(n, {}).get(key, float("nan")) for n in sizes]
            cells += [f"{v:,.1f}" for v in vals]
            cells.append(f"{vals[-1] / vals[0]:.2f}×" if vals[0] else "—")
        target = f"≤ {PAGE_TARGET:g}× at {hi // 1000}k" if is_page else ""
        lines.append("| " + " | ".join([*cells, target]) + " |")
    return lines


def verdicts(results: dict[str, dict[int, dict[str, float]]], sizes: list[int]) -> list[str]:
    out = []
    lo, hi = sizes[0], sizes[-1]
    for name, per in results.items():
        parts = []
        for key, _, is_page in OPS:
            if is_page and lo in per and hi in per and key in per[hi] and key in per[lo]:
                r = per[hi][key] / per[lo][key]
                parts.append(f"{key} {r:.2f}× {'PASS' if r <= PAGE_TARGET else 'MISS'}")
        out.append(f"{name}: {hi // 1000}k / {lo // 1000}k (≤ {PAGE_TARGET:g}×): " + "; ".join(parts))
    return out


def before_lines(results: dict[str, dict[int, dict[str, float]]], sizes: list[int]) -> list[str]:
    """With --baseline: time now / time before per operation and size (< 1: now faster)."""
    before = results.get("before")
    if not before:
        return []
    out = []
    for name, per in results.items():
        if name == "before":
            continue
        for n in sizes:
            if n in per and n in before:
                out.append(f"{name} / before at {n:,} rows (time, < 1: now faster): " + ", ".join(
                    f"{k} {per[n][k] / before[n][k]:.2f}×" for k, _, _ in OPS if before[n].get(k)))
    return out


def write_rows_doc(path: Path, results: dict[str, dict[int, dict[str, float]]], sizes: list[int],
                   reps: int, header: list[str], machine: dict[str, str], backend: str) -> None:
    lines = [
        "# atoll rows benchmarks", "", *header, "", "## Machine", "",
        *[f"- {k}: {v}" for k, v in machine.items()], "", "## Method", "",
        f"- atoll alone (no nginx), one process, {backend}; every call is a plain "
        "HTTP request (Python urllib, one connection per call) to the gateway API "
        "`/api-gateway/api/v2/dtables/<uuid>/…` with the access token from `app-access-token`.",
        f"- One table per size ({', '.join(f'{n:,}' for n in sizes)} rows): columns Name (text), "
        "N (number, a permutation of 0…n-1), Note (text), Done (checkbox); filled with "
        f"`POST rows/` of {BATCH:,} rows per call (batch_append_rows).",
        f"- Each operation: one untimed warm-up, then {reps} timed calls; the median is quoted "
        "(ms per call, client-side wall time).",
        f"- list_rows: `GET rows/?table_name=…&start=…&limit={PAGE}`; the middle page starts at "
        "the page boundary nearest below n/2 (for 1,000 rows that is the first page); sorted: "
        "`&order_by=N&direction=desc`. filter_rows: `GET filtered-rows/` with "
        "`{\"filters\": [{\"column_name\": \"N\", \"filter_predicate\": \"<\", \"filter_term\": "
        "1000}]}` (1,000 rows match at every size). SQL (`POST sql`): `select Name, N … where "
        "N < 1000 order by N desc limit 100` and `select Done, count(*), sum(N) … group by Done`; "
        "list_rows through a view whose filter is `N < 1000` (first page). The WHERE and the "
        "view's filter are narrowed through the cells' sort keys (docs/sql.md, \"Indexes\"), so "
        "they carry the page target; the GROUP BY has no WHERE and reads the whole table in the "
        "database (no target). PostgreSQL: the bench runs no ANALYZE of its own; the server "
        "refreshes the statistics (VACUUM (ANALYZE)) after every 20,000 rows it appends "
        "(`analyze_after_rows`, "
        "docs/architecture.md). Writes run after the reads: append_row "
        "(`POST rows/`, one row), batch_append_rows (`POST rows/`, 1,000 rows; the table grows "
        "by them), update_row (`PUT rows/`, one row of the middle page).",
        f"- Target (issue 9): a page at the largest size ≤ {PAGE_TARGET:g}× the same page at "
        "the smallest.",
        "", "## Results", "", *rows_table(results, sizes), "", "## Targets", "",
        *[f"- {v}" for v in verdicts(results, sizes)],
        *(["", "## Against the baseline", "", *[f"- {v}" for v in before_lines(results, sizes)]]
          if "before" in results else []),
    ]
    path.write_text("\n".join(lines) + "\n")
    log(f"\nwrote {path}")
