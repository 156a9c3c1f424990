"""Chaining onto the server's own SIGTERM/SIGINT handlers, so that a component hears of a stop
without changing how the server stops."""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def on_stop_signal(hear: Callable[[], None]) -> Callable[[], None]:
    """Call ``hear()`` when SIGTERM or SIGINT arrives, then the handler the server installed
    (uvicorn's ``handle_exit``; asyncio's no-op on granian's worker, whose loop still gets the
    signal); returns an undo. Does nothing off the main thread (test clients)."""
    installed: list[tuple[int, Any, Any]] = []
    for sig in STOP_SIGNALS:
        try:
            previous = signal.getsignal(sig)
            if not callable(previous):
                continue
            ours = _chained(hear, previous)
            signal.signal(sig, ours)
            installed.append((sig, previous, ours))
        except ValueError:  # not the main thread
            break

    def undo() -> None:
        for sig, previous, ours in installed:
            if signal.getsignal(sig) is ours:
                signal.signal(sig, previous)

    return undo


def _chained(
    hear: Callable[[], None], previous: Callable[[int, FrameType | None], Any]
) -> Callable[[int, FrameType | None], Any]:
    def handler(signum: int, frame: FrameType | None) -> Any:
        hear()
        return previous(signum, frame)

    return handler
