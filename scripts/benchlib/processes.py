"""Process trees: RSS high-water marks and CPU time summed over a server's processes."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def _ppid_map() -> dict[int, int]:
    out: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
        except OSError:
            continue
        rest = stat[stat.rfind(")") + 2 :].split()
        out[int(d)] = int(rest[1])
    return out


def process_tree(roots: int | list[int]) -> list[int]:
    """The processes under ``roots`` (one pid or several: a server made of several processes)."""
    ppids = _ppid_map()
    tree: list[int] = []
    todo = [roots] if isinstance(roots, int) else list(roots)
    while todo:
        p = todo.pop()
        if p in ppids or os.path.exists(f"/proc/{p}"):
            tree.append(p)
        todo.extend(c for c, pp in ppids.items() if pp == p)
    return tree


def _status_kib(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_kib(roots: int | list[int], field: str) -> int:
    return sum(_status_kib(p, field) for p in process_tree(roots))


def reset_hwm(roots: int | list[int]) -> None:
    for p in process_tree(roots):
        try:
            with open(f"/proc/{p}/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            pass


CLK_TCK = os.sysconf("SC_CLK_TCK")


def tree_cpu_s(roots: int | list[int]) -> float:
    total = 0
    for p in process_tree(roots):
        try:
            with open(f"/proc/{p}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
        except OSError:
            continue
        rest = stat[stat.rfind(")") + 2 :].split()
        total += int(rest[11]) + int(rest[12])  # utime, stime
    return total / CLK_TCK


def measured(roots: int | list[int], fn: Callable[[], T]) -> tuple[T, float, float]:
    """``fn()`` with the tree's VmHWM reset first -> (its result, the tree's CPU seconds during
    it, the tree's peak RSS in MiB)."""
    reset_hwm(roots)
    cpu0 = tree_cpu_s(roots)
    out = fn()
    return out, tree_cpu_s(roots) - cpu0, tree_kib(roots, "VmHWM") / 1024
