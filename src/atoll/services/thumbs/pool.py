"""Worker processes for thumbnails: a hostile file can hang, exhaust or crash only a worker.

Each server process has its own pool (made on first use, per limits). A task gets a wall-clock
time limit that counts from when a worker starts on it (a semaphore keeps tasks from queueing
inside the executor); on a timeout or a crash the whole executor is killed and replaced, and
tasks that died with it through no fault of their own run once more on the new one.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

from atoll.services.thumbs.render import init_worker

#: Modules the fork server imports before it forks workers.
PRELOAD = ("atoll.services.thumbs.render", "PIL.Image", "PIL.ImageOps", "PIL.JpegImagePlugin",
           "PIL.PngImagePlugin", "PIL.GifImagePlugin", "PIL.WebPImagePlugin", "pillow_heif",
           "pypdfium2")
P = ParamSpec("P")
T = TypeVar("T")


class WorkerTimeout(Exception):
    """The task ran past its time limit; its worker was killed."""


class WorkerCrashed(Exception):
    """The worker died while running the task (a signal, or the memory limit)."""


class ThumbPool:
    def __init__(self, workers: int, memory_bytes: int) -> None:
        self.workers = max(1, workers)
        self.memory_bytes = memory_bytes
        self._lock = threading.Lock()
        self._executor = self._new_executor()
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary())
        #: Executors replaced so far (tests and logs read it).
        self.restarts = 0

    def _new_executor(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        # The fork server imports these once; every worker (and every replacement after a
        # timeout or crash) is a fork of it, ready at once.
        context.set_forkserver_preload(list(PRELOAD))
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=init_worker,
            initargs=(self.memory_bytes,),
        )

    def _slot(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        slot = self._slots.get(loop)
        if slot is None:
            slot = self._slots[loop] = asyncio.Semaphore(self.workers)
        return slot

    async def run(self, timeout_s: float, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args)`` in a worker, within ``timeout_s`` seconds of running time."""
        async with self._slot():
            for attempt in (1, 2):
                executor = self._executor
                try:
                    future = executor.submit(fn, *args, **kwargs)
                except (BrokenProcessPool, RuntimeError):  # replaced or shut down meanwhile
                    self._replace(executor)
                    continue
                try:
                    return await asyncio.wait_for(asyncio.wrap_future(future), timeout_s)
                except TimeoutError:
                    self._replace(executor)
                    raise WorkerTimeout from None
                except BrokenProcessPool:
                    self._replace(executor)
                    if attempt == 2:  # it broke a fresh pool too: the task itself is the cause
                        raise WorkerCrashed from None
            raise WorkerCrashed

    def _replace(self, executor: ProcessPoolExecutor) -> bool:
        """Kill ``executor``'s workers and start a fresh executor, unless another task did so
        already; True when this call did it."""
        with self._lock:
            if self._executor is not executor:
                return False
            self._executor = self._new_executor()
            self.restarts += 1
        for process in list((executor._processes or {}).values()):
            process.kill()
        executor.shutdown(wait=False, cancel_futures=True)
        return True

    def close(self) -> None:
        with self._lock:
            executor = self._executor
        executor.shutdown(wait=True, cancel_futures=True)


_pools: dict[tuple[int, int], ThumbPool] = {}
_pools_lock = threading.Lock()


def pool_for(workers: int, memory_bytes: int) -> ThumbPool:
    """The process's pool for these limits (made on first use)."""
    with _pools_lock:
        pool = _pools.get((workers, memory_bytes))
        if pool is None:
            pool = _pools[(workers, memory_bytes)] = ThumbPool(workers, memory_bytes)
        return pool
