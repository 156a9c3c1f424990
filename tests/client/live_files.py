"""Helpers of the live file tests: the server settings they run with, random files, hashes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

MiB = 1024 * 1024
#: The server records a long PATCH's offset every MiB (so a cut keeps most of what arrived),
#: and a killed writer's lease lapses after 2 s.
SERVER_ENV = {"ATOLL_UPLOAD_COMMIT_BYTES": str(MiB), "ATOLL_UPLOAD_LEASE_S": "2"}


def random_file(path: Path, size: int) -> str:
    """Write ``size`` random bytes to ``path``; their SHA-256."""
    h = hashlib.sha256()
    with path.open("wb") as f:
        for _ in range(0, size, MiB):
            block = os.urandom(min(MiB, size - f.tell()))
            h.update(block)
            f.write(block)
    return h.hexdigest()


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(MiB):
            h.update(block)
    return h.hexdigest()


