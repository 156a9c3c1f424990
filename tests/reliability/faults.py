"""Fault tools for the reliability tests: a small tmpfs (a disk that fills) and strace syscall
injection on a live process. Both clean up in ``finally`` (unmount, detach strace)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

#: Seconds strace may take to attach to every thread of a process.
ATTACH_S = 10.0


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """Mount a tmpfs of ``size`` (e.g. ``64m``) on ``path`` for the block; skip if not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
                         capture_output=True, text=True, check=False)
    if out.returncode:
        pytest.skip(f"cannot mount a tmpfs (needs root or CAP_SYS_ADMIN): {out.stderr.strip()[:200]}")
    try:
        yield path
    finally:
        for _ in range(50):  # a process may still hold a file there for a moment
            if subprocess.run(["umount", str(path)], capture_output=True, check=False).returncode == 0:
                break
            time.sleep(0.1)
        else:
            subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def fill(folder: Path, leave_bytes: int) -> Path:
    """A file in ``folder`` taking all but ``leave_bytes`` of its filesystem's free space."""
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    filler = folder / "filler"
    with filler.open("wb") as f:
        remaining = max(free - leave_bytes, 0)
        block = b"\0" * (1 << 20)
        while remaining > 0:
            f.write(block[:min(len(block), remaining)])
            remaining -= min(len(block), remaining)
    return filler


def strace_available() -> str:
    found = shutil.which("strace")
    if not found:
        pytest.skip("strace is not installed")
    return found


@contextlib.contextmanager
def strace(pid: int, *args: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``strace -f -p pid <args>`` for the block (attached before it starts, killed after)."""
    proc = subprocess.Popen([strace_available(), "-f", "-qq", "-o", str(log), "-p", str(pid), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + ATTACH_S
        threads = len(os.listdir(f"/proc/{pid}/task"))
        while _traced(pid) < threads:  # every thread has strace as its tracer
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                pytest.skip(f"strace cannot attach (ptrace not allowed?): {err.strip()[:200]}")
            if time.monotonic() > deadline:
                raise AssertionError("strace did not attach in time")
            time.sleep(0.05)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # detach cleanly: the traced process goes on
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()


def _traced(pid: int) -> int:
    count = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
            tracer = next(line for line in status.splitlines() if line.startswith("TracerPid:"))
            count += tracer.split()[1] != "0"
    return count
