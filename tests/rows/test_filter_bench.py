"""filter_rows at 100k rows (run with ATOLL_FILTER_BENCH=1 and -s; prints ms per filter).

The median of REPEAT runs after a warm-up run. Not a pass/fail test: a measurement for docs and
reviews, skipped by default."""

from __future__ import annotations

import os
import random
import statistics
import time
from typing import Any

import pytest

from atoll.models import Principal
from atoll.services import rows as svc
from atoll.services import tables
from atoll.services.context import Context
from atoll.services.structure import TableRef
from tests.rows.test_services import principal_on, run

pytestmark = pytest.mark.skipif(not os.environ.get("ATOLL_FILTER_BENCH"), reason="ATOLL_FILTER_BENCH unset")

T = TableRef("T")
ROWS = int(os.environ.get("ATOLL_FILTER_BENCH_ROWS", "100000"))
REPEAT = 7  # the median is printed


def one(column: str, predicate: str, term: Any) -> dict[str, Any]:
    return {"column_name": column, "filter_predicate": predicate, "filter_term": term}


CASES: list[tuple[str, list[dict[str, Any]], str]] = [
    ("N < 100 (0.1%, spread)", [one("N", "<", 100)], "And"),
    ("Name is name7 (1%)", [one("Name", "is", "name7")], "And"),
    ("N < 100 and Name contains 7", [one("N", "<", 100), one("Name", "contains", "7")], "And"),
    ("N < 50 or Name is name7", [one("N", "<", 50), one("Name", "is", "name7")], "Or"),
    ("N >= 1000 (dense)", [one("N", ">=", 1000)], "And"),
    ("s is any of [b] (20%)", [one("s", "is any of", ["b"])], "And"),
]


def test_filter_rows_at_scale(ctx: Context) -> None:
    p: Principal = principal_on(ctx, "B")
    spec = [{"column_name": "Name", "column_type": "text"}, {"column_name": "N", "column_type": "number"},
            {"column_name": "s", "column_type": "single-select"}]
    run(tables.add_table(ctx, p, table_name="T", columns=spec))
    numbers = list(range(ROWS))
    random.Random(1).shuffle(numbers)
    for part in range(0, ROWS, 1000):
        rows = [{"Name": f"name{n % 100}", "N": n, "s": "abcde"[n % 5]} for n in numbers[part: part + 1000]]
        run(svc.append_rows(ctx, p, T, rows=rows))
    if ctx.engine.dialect.name == "postgresql":  # statistics, as a running server would have them
        with ctx.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    backend = os.environ.get("ATOLL_TEST_BACKEND", "sqlite-local")
    for label, filters, conjunction in CASES:
        svc._filter_rows(ctx.engine, p.dtable.uuid, T, filters, conjunction, None, 1000)  # warm-up
        times, count = [], 0
        for _ in range(REPEAT):
            start = time.perf_counter()
            page = svc._filter_rows(ctx.engine, p.dtable.uuid, T, filters, conjunction, None, 1000)
            times.append((time.perf_counter() - start) * 1000)
            count = len(page.rows)
        print(f"BENCH {backend} {ROWS} rows | {label} | {count} rows | {statistics.median(times):.1f} ms")
