"""Helpers of the live file tests: the server settings they run with, random files, hashes."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import atoll
from tests.faultproxy import FaultProxy
from tests.live_server import LiveServer

MiB = 1024 * 1024
#: The server records a long PATCH's offset every MiB (so a cut keeps most of what arrived),
#: and a killed writer's lease lapses after 2 s.
SERVER_ENV = {"ATOLL_UPLOAD_COMMIT_BYTES": str(MiB), "ATOLL_UPLOAD_LEASE_S": "2"}


@dataclass
class Proxied:
    """A live server, the fault proxy its links point at, and an API token of a base on it."""

    server: LiveServer
    proxy: FaultProxy
    token: str

    def base(self, **options: Any) -> atoll.Base:
        return atoll.Base(self.token, self.server.url, **options)

    def async_base(self, **options: Any) -> atoll.AsyncBase:
        return atoll.AsyncBase(self.token, self.server.url, **options)

    def tus_requests(self) -> list[str]:
        """The methods of the tus requests the proxy passed, in order."""
        return [m for m, target in self.proxy.requests if "/seafhttp/tus" in target]

    def patch_offsets(self) -> list[int]:
        """The ``Upload-Offset`` of each PATCH the proxy passed, in order."""
        return [int(h["upload-offset"]) for (m, _), h in zip(self.proxy.requests,
                self.proxy.request_headers, strict=True) if m == "PATCH"]

    def clear(self) -> None:
        self.proxy.faults.clear()
        self.proxy.requests.clear()
        self.proxy.request_headers.clear()


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




def ctrl_c_at(limit: int) -> Callable[[int, int | None], None]:
    """A progress callback that stops the transfer as Ctrl-C would, once ``limit`` bytes are done."""

    def progress(done: int, total: int | None) -> None:
        if done >= limit:
            raise KeyboardInterrupt

    return progress
