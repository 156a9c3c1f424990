"""Fresh planner statistics on PostgreSQL after bulk row writes.

PostgreSQL plans with statistics that ``ANALYZE`` gathers; autovacuum refreshes them only after
a tenth of a table changed and at most once per ``autovacuum_naptime`` (a minute). Right after a
big import the planner still sees the small table of before and picks plans that read every row:
on 100,000 rows a page of ``list_rows`` took 3-5x its time on 1,000 rows, and one append 4x
(``max(seq)`` without the index), until autovacuum caught up. So each server process counts the
rows it appended or deleted (rows API, big_data_insert, SQL INSERT and DELETE, copy_base), and
after every ``analyze_after_rows`` of them runs ``VACUUM (ANALYZE) rows, row_keys`` in the
background (one at a time). ANALYZE samples a fixed number of rows; VACUUM reads only the pages
written since the last one and marks them all-visible, which index-only scans need: a sorted page
in the middle of 100k rows (an OFFSET over the key index) took 97 ms after ANALYZE alone, 52 ms after both.
SQLite plans from its schema alone: nothing to do.
"""

from __future__ import annotations

import asyncio
import logging

import anyio.to_thread
from sqlalchemy import Engine, text

log = logging.getLogger("atoll.planner_stats")

#: The tables whose statistics the row paths' plans depend on.
ANALYZED_TABLES = ("rows", "row_keys")


class PlannerStats:
    def __init__(self, engine: Engine, every_rows: int) -> None:
        self._engine = engine
        self._every = every_rows if engine.dialect.name == "postgresql" else 0
        self._pending = 0
        self._task: asyncio.Task[None] | None = None
        #: ANALYZE runs so far (for tests and logs).
        self.runs = 0

    def wrote(self, rows: int) -> None:
        """Count ``rows`` appended or deleted (after their commit); start ANALYZE when due."""
        if self._every <= 0:
            return
        self._pending += rows
        if self._pending < self._every or (self._task is not None and not self._task.done()):
            return
        self._pending = 0
        self._task = asyncio.get_running_loop().create_task(self._analyze())

    async def settled(self) -> None:
        """Wait for a running ANALYZE (tests; shutdown)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def _analyze(self) -> None:
        try:
            await anyio.to_thread.run_sync(self._analyze_sync)
            self.runs += 1
        except Exception as exc:  # statistics are an optimisation: never fail a request for them
            log.warning("VACUUM (ANALYZE) after bulk row writes failed (autovacuum will do it): %s", exc)

    def _analyze_sync(self) -> None:
        # VACUUM cannot run inside a transaction: autocommit. It reads only the pages changed
        # since the last one (the visibility map skips the rest) and marks them all-visible, so
        # index-only scans (a page's OFFSET over the table-order or key index) stop visiting the
        # table for every entry they skip.
        with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE) " + ", ".join(ANALYZED_TABLES)))
