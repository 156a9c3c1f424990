"""The server process's garbage collector (server/collector.py): start-up objects frozen, a
higher young threshold, cyclic garbage still collected. Each case runs in a fresh interpreter:
freezing the test process itself would keep every later test's garbage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from atoll.config import DEFAULT_GC_YOUNG_THRESHOLD


def _run(code: str, env: dict[str, str] | None = None) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=True,
                         capture_output=True, text=True, env={**os.environ, **(env or {})})
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_tune_freezes_start_up_objects_and_raises_the_young_threshold() -> None:
    got = _run("""
        import gc, json
        from atoll.server import collector
        before = gc.get_threshold()
        collector.tune(5000)
        print(json.dumps({"before": before, "after": gc.get_threshold(),
                          "frozen": gc.get_freeze_count()}))
    """)
    before, after = got["before"], got["after"]
    assert isinstance(before, list) and isinstance(after, list)
    assert after == [5000, before[1], before[2]]
    assert isinstance(got["frozen"], int) and got["frozen"] > 1000  # the imported modules


def test_zero_leaves_the_collector_alone() -> None:
    got = _run("""
        import gc, json
        from atoll.server import collector
        before = gc.get_threshold()
        collector.tune(0)
        print(json.dumps({"same": gc.get_threshold() == before, "frozen": gc.get_freeze_count()}))
    """)
    assert got == {"same": True, "frozen": 0}


def test_cyclic_garbage_is_still_collected_after_tuning() -> None:
    """Cycles made after tune() are freed once the young threshold is passed, without any
    explicit gc.collect()."""
    got = _run("""
        import json, weakref
        from atoll.server import collector
        collector.tune(2000)
        class Node:
            pass
        alive = []
        for _ in range(20):
            a, b = Node(), Node()
            a.peer, b.peer = b, a
            alive.append(weakref.ref(a))
            del a, b
        first = sum(r() is not None for r in alive)
        keep = [[i] for i in range(10_000)]  # allocations that pass the threshold
        print(json.dumps({"first": first, "left": sum(r() is not None for r in alive)}))
    """)
    assert got == {"first": 20, "left": 0}


@pytest.mark.parametrize(("value", "expected"), [("12345", 12345), ("", DEFAULT_GC_YOUNG_THRESHOLD)])
def test_the_server_entry_point_applies_the_setting(tmp_path: Path, value: str, expected: int) -> None:
    """``app_from_env`` (what uvicorn and granian call in each server process) tunes the
    collector from ATOLL_GC_YOUNG_THRESHOLD."""
    got = _run("""
        import gc, json
        from atoll.server.asgi import app_from_env
        app_from_env()
        print(json.dumps({"young": gc.get_threshold()[0], "frozen": gc.get_freeze_count() > 0}))
    """, env={"ATOLL_DATA_DIR": str(tmp_path), "ATOLL_GC_YOUNG_THRESHOLD": value})
    assert got == {"young": expected, "frozen": True}
