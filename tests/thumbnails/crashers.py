"""Tasks for the worker-pool tests (imported by the workers, so a module of its own)."""

from __future__ import annotations

import os
import signal
import time


def die() -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return 0


def nap(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def hog(n_bytes: int) -> int:
    return len(bytearray(n_bytes))
