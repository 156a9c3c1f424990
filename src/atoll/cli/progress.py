"""Progress bars for transfers, drawn by rich on stderr: one line per file with bytes done/total,
percentage, rate and ETA, plus a total line when a command moves several files.

- On a terminal the lines are redrawn in place (10 times a second); a finished file's line is
  printed once, above the ones still moving.
- When ``--progress`` is forced on something that is not a terminal, plain lines are written
  (a file's line at most once a second, and once when it finishes); no escape codes.
- Otherwise (the default off a terminal, or ``--no-progress``) nothing is written at all.

stdout is never touched: it carries the commands' JSON results.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

from rich.console import Console
from rich.progress import Progress, ProgressColumn, Task, TaskID
from rich.text import Text

#: Seconds between plain progress lines (``--progress`` off a terminal).
LINE_EVERY_S = 1.0
#: The SDK's progress callback: ``progress(bytes_done, bytes_total_or_None)``.
Callback = Callable[[int, int | None], None]


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def clock(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on."""
    s = int(seconds + 0.5)
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def _moved(task: Task) -> float:
    """Bytes moved by this run (a resumed upload starts at the server's offset)."""
    return task.completed - float(task.fields.get("start_at", 0))


def rate(task: Task) -> float:
    """Bytes per second: rich's recent-window estimate, else the average since the start."""
    if task.finished and task.finished_time:
        return _moved(task) / task.finished_time
    speed = task.speed
    if speed is not None:
        return speed
    elapsed = task.elapsed or 0.0
    return _moved(task) / elapsed if elapsed > 0 else 0.0


def _bytes(task: Task) -> str:
    done = human_bytes(task.completed)
    return f"{done} / {human_bytes(task.total)}" if task.total else done


def _percent(task: Task) -> str:
    return f"{int(100 * task.completed // task.total)}%" if task.total else ""


def _rate(task: Task) -> str:
    return f"{human_bytes(rate(task))}/s"


def _eta(task: Task) -> str:
    if task.finished:
        return f"in {clock(task.finished_time or 0.0)}"
    speed = rate(task)
    if task.total and speed > 0:
        return f"ETA {clock((task.total - task.completed) / speed)}"
    return ""


_PARTS = (_bytes, _percent, _rate, _eta)


class _Column(ProgressColumn):
    def __init__(self, part: Callable[[Task], str]) -> None:
        super().__init__()
        self.part = part

    def render(self, task: Task) -> Text:
        return Text(self.part(task))


def line(task: Task) -> str:
    """One task as a plain line: ``big.iso  4.0 MiB / 10.0 MiB  40%  2.0 MiB/s  ETA 0:03``."""
    return "  ".join(p for p in [task.description, *(part(task) for part in _PARTS)] if p)


def _name(task: Task) -> str:
    return task.description  # as is: a file name is not rich markup


def _columns() -> list[ProgressColumn]:
    return [_Column(part) for part in (_name, *_PARTS)]


class Transfers:
    """The progress display of one command; ``file(label, size)`` gives each transfer's
    callback. Use as a context manager (the terminal display starts and stops with it)."""

    def __init__(
        self,
        console: Console,
        *,
        files: int = 1,
        total_bytes: int | None = None,
        get_time: Callable[[], float] = time.monotonic,
    ) -> None:
        self.console = console
        self.live = console.is_terminal and not console.is_dumb_terminal
        self.get_time = get_time
        self.bars = Progress(
            *_columns(), console=console, get_time=get_time, transient=True,
            redirect_stdout=False, redirect_stderr=False,  # results: ``result()``
        )
        #: stdout is the terminal the bars are drawn on: results go above them, through rich
        self.shared = self.live and sys.stdout.isatty()
        self.done_bytes = 0
        self.total: TaskID | None = None
        if files > 1:
            self.total = self.bars.add_task(f"total ({files} files)", total=total_bytes)

    def __enter__(self) -> Transfers:
        if self.live:
            self.bars.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.live:
            self.bars.stop()
        if self.total is not None and exc_info[1] is None:  # the total only when all went
            self._print(self.total)

    def result(self, text: str) -> None:
        """One line of the command's result on stdout (above the bars when they share it)."""
        if self.shared and self.bars.live.is_started:
            self.console.print(text, soft_wrap=True, markup=False, highlight=False, emoji=False)
        else:
            print(text, flush=True)

    def _print(self, task_id: TaskID) -> None:
        task = next(t for t in self.bars.tasks if t.id == task_id)
        self.console.print(line(task), soft_wrap=True, highlight=False, markup=False, emoji=False)

    @contextmanager
    def file(self, label: str, size: int | None = None) -> Iterator[Callback]:
        """A callback for one transfer; its final line is printed when the block ends."""
        bar = _FileBar(self, self.bars.add_task(label, total=size))
        try:
            yield bar
            if bar.started:
                self._print(bar.task)
        finally:
            self.done_bytes += bar.done
            self.bars.remove_task(bar.task)


class _FileBar:
    """``progress(done, total)`` for one file of a ``Transfers``."""

    def __init__(self, owner: Transfers, task: TaskID) -> None:
        self.owner, self.task = owner, task
        self.started = False
        self.done = 0
        self.last_line = -1e9

    def __call__(self, done: int, total: int | None) -> None:
        bars = self.owner.bars
        if not self.started or done < self.done:
            # a resumed upload starts where the server was; a retry starts over
            bars.reset(self.task, total=total, completed=done, start_at=done)
            self.started = True
        else:
            bars.update(self.task, total=total, completed=done)
        self.done = done
        if self.owner.total is not None:
            bars.update(self.owner.total, completed=self.owner.done_bytes + done)
        if not self.owner.live:
            now = self.owner.get_time()
            if now - self.last_line >= LINE_EVERY_S and not (total and done >= total):
                self.last_line = now
                self.owner._print(self.task)


class Quiet:
    """No display: every callback is ``None`` (the SDK then reports nothing)."""

    def result(self, text: str) -> None:
        print(text, flush=True)

    def __enter__(self) -> Quiet:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    @contextmanager
    def file(self, label: str, size: int | None = None) -> Iterator[None]:
        yield None


def stderr_console(stream: IO[str] | None = None) -> Console:
    return Console(file=stream or sys.stderr, highlight=False)


def transfers(
    wanted: bool | None, *, files: int = 1, total_bytes: int | None = None
) -> Transfers | Quiet:
    """``--progress`` (True), ``--no-progress`` (False) or the default (None: only when stderr
    is a terminal)."""
    if not (wanted if wanted is not None else sys.stderr.isatty()):
        return Quiet()
    return Transfers(stderr_console(), files=files, total_bytes=total_bytes)
