"""The thumbnail worker pool: a task that kills its worker, hangs or exhausts memory fails alone
and the pool keeps working (a new set of workers replaces the broken one)."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

from atoll.services.thumbs.pool import ThumbPool, WorkerCrashed, WorkerTimeout
from tests.thumbnails import crashers

MiB = 1024 * 1024


@pytest.fixture
def pool() -> Iterator[ThumbPool]:
    p = ThumbPool(2, 512 * MiB)
    yield p
    p.close()


def test_crash_is_worker_crashed_then_the_pool_works(pool: ThumbPool) -> None:
    async def run() -> None:
        with pytest.raises(WorkerCrashed):
            await pool.run(30, crashers.die)
        assert pool.restarts == 2  # broke the pool, then the fresh one too: the task is the cause
        assert await pool.run(30, crashers.nap, 0) > 0

    anyio.run(run)


def test_innocent_task_survives_a_neighbours_crash(pool: ThumbPool) -> None:
    async def run() -> None:
        results: dict[str, object] = {}

        async def innocent() -> None:
            results["innocent"] = await pool.run(30, crashers.nap, 0.5)

        async def culprit() -> None:
            await anyio.sleep(0.1)
            try:
                await pool.run(30, crashers.die)
            except WorkerCrashed:
                results["culprit"] = "crashed"

        async with anyio.create_task_group() as tg:
            tg.start_soon(innocent)
            tg.start_soon(culprit)
        assert results["culprit"] == "crashed"
        assert isinstance(results["innocent"], int)

    anyio.run(run)


def test_timeout_kills_the_task_not_the_pool(pool: ThumbPool) -> None:
    async def run() -> None:
        with pytest.raises(WorkerTimeout):
            await pool.run(0.3, crashers.nap, 30)
        assert pool.restarts == 1
        assert await pool.run(30, crashers.nap, 0) > 0

    anyio.run(run)


def test_memory_limit_holds_in_the_worker(pool: ThumbPool) -> None:
    async def run() -> None:
        with pytest.raises(MemoryError):
            await pool.run(30, crashers.hog, 1024 * MiB)  # over the 512 MiB address-space cap
        assert await pool.run(30, crashers.hog, 16 * MiB) == 16 * MiB

    anyio.run(run)
