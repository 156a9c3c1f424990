"""Quick local timing of the rows use cases at 1k/10k/100k rows (SQLite, in process).

Not a benchmark suite (see scripts/bench): one table, median of a few runs per operation.
Usage: PYTHONPATH=src:. .venv/bin/python scripts/rows_timing.py [sizes...]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from atoll.config import Settings
from atoll.models import Principal
from atoll.services import rows as svc
from atoll.services import tables
from atoll.services.access import create_api_token
from atoll.services.context import Context
from atoll.services.structure import TableRef

T = TableRef("T")


def ms(fn: Callable[[], Any], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main(sizes: list[int]) -> None:
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            ctx = Context.open(Settings.load(environ={}, data_dir=Path(tmp)))
            p = Principal(create_api_token(ctx.engine, base="B").dtable, "rw", "app")
            spec = [{"column_name": "Name", "column_type": "text"}, {"column_name": "n", "column_type": "number"}]
            asyncio.run(tables.add_table(ctx, p, table_name="T", columns=spec))
            for start in range(0, size, 1000):
                batch = [{"Name": f"r{i}", "n": (i * 7919) % size} for i in range(start, min(size, start + 1000))]
                asyncio.run(svc.append_rows(ctx, p, T, rows=batch))
            first = asyncio.run(svc.list_rows(ctx, p, T, limit=1)).rows[0].row_id

            def page(order_by: str | None, start: int) -> Callable[[], Any]:
                return lambda: asyncio.run(svc.list_rows(ctx, p, T, order_by=order_by, start=start, limit=1000))

            where = [{"column_name": "n", "filter_predicate": ">", "filter_term": size // 2}]
            figures = {
                "page": ms(page(None, 0)),
                "page mid": ms(page(None, size // 2)),
                "sorted page": ms(page("n", 0)),
                "sorted page mid": ms(page("n", size // 2)),
                "filter n>": ms(lambda: asyncio.run(svc.filter_rows(ctx, p, T, filters=where, limit=1000))),
                "append 1": ms(lambda: asyncio.run(svc.append_rows(ctx, p, T, rows=[{"Name": "x", "n": 1}]))),
                "append 1000": ms(
                    lambda: asyncio.run(svc.append_rows(ctx, p, T, rows=[{"Name": "x", "n": 1}] * 1000)), runs=3
                ),
                "update 1": ms(
                    lambda: asyncio.run(svc.update_rows(ctx, p, T, updates=[{"row_id": first, "row": {"n": 5}}]))
                ),
            }
            print(f"{size:>7} rows: " + ", ".join(f"{k} {v:.1f} ms" for k, v in figures.items()), flush=True)
            ctx.engine.dispose()


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 10_000, 100_000])
