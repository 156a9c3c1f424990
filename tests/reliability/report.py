"""Figures from reliability runs, for docs/reliability.md.

Set ``ATOLL_RELIABILITY_REPORT=/path/file.jsonl`` and each test that calls ``record`` appends one
JSON line (test, backend, figures). ``scripts/reliability`` runs the suite at full size with it.
"""

from __future__ import annotations

import json
import os
from typing import Any

from tests.backends import BACKEND


def record(test: str, **figures: Any) -> None:
    path = os.environ.get("ATOLL_RELIABILITY_REPORT")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps({"test": test, "backend": BACKEND, **figures}) + "\n")
