"""Constants, backends and small helpers shared by the benchmark modules."""

from __future__ import annotations

import argparse
import json
import math
import re
import socket
import statistics
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TypeVar

MIB = 1024 * 1024
MB = 1_000_000
ATOLL_SERVERS = ("uvicorn", "granian")
BARE = "bare"  # the bare-framework reference (benchlib/bare_app.py), 4 KiB phases only
BEFORE = "before"  # atoll at --baseline REV
ALL_SERVERS = ("nginx", BARE, *ATOLL_SERVERS)
PROXIED = "atoll-2p-nginx"  # two atoll uvicorn processes behind deploy/nginx.conf
TARGETS = {"upload": 0.5, "download": 0.4, "rss_mib": 64}
#: Issue 9: big upload >= 0.6x nginx or >= 0.75x the durable write ceiling, whichever is lower;
#: the 4 KiB figures >= 0.6x the bare framework.
ISSUE9 = {"upload_nginx": 0.6, "upload_ceiling": 0.75, "small_bare": 0.6}


class Backend:
    """What atoll runs on, and what its figures are held against."""

    def __init__(self, name: str, servers: tuple[str, ...], refs: tuple[str, ...],
                 targets: tuple[tuple[str, str, float], ...], doc: str, title: str) -> None:
        self.name, self.servers, self.refs, self.targets = name, servers, refs, targets
        self.doc, self.title = doc, title


BACKENDS = {
    "sqlite-local": Backend(
        "sqlite-local", ALL_SERVERS, ("nginx",),
        (("upload", "nginx", TARGETS["upload"]), ("download", "nginx", TARGETS["download"])),
        "docs/benchmarks.md", "atoll file-transfer benchmarks"),
    # moto is both atoll's blob store and the raw ceiling (PUT/GET straight to it, no atoll).
    "postgres-s3": Backend(
        "postgres-s3", ("nginx", "moto", "uvicorn", PROXIED), ("nginx", "moto"),
        (("upload", "moto", 0.7), ("download", "moto", 0.7)),
        "docs/benchmarks-postgres-s3.md", "atoll on PostgreSQL + S3 (moto): file-transfer benchmarks"),
}
FINDINGS_MARKER = "<!-- findings: hand-written, kept when scripts/bench rewrites this file -->"


# --------------------------------------------------------------------------------------
# small helpers


def log(msg: str) -> None:
    print(msg, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def parse_size(text: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgKMG]?)(i?[bB])?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {text!r} (use e.g. 1G, 64M, 4096)")
    mult = {"": 1, "k": 1024, "m": MIB, "g": 1024 * MIB}[m.group(2).lower()]
    return int(float(m.group(1)) * mult)


def human_size(n: int) -> str:
    for unit, div in (("GiB", 1024 * MIB), ("MiB", MIB), ("KiB", 1024)):
        if n >= div and n % div == 0:
            return f"{n // div} {unit}"
    return f"{n} B"


def http_json(url: str, headers: dict[str, str] | None = None, timeout: float = 30) -> object:
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())


def http_status(url: str, timeout: float = 2) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            resp.read()
            return int(resp.status)
    except urllib.error.HTTPError as e:
        return int(e.code)
    except (urllib.error.URLError, OSError):
        return 0


def median(xs: list[float]) -> float:
    xs = [x for x in xs if x is not None and not math.isnan(x)]
    return statistics.median(xs) if xs else float("nan")


T = TypeVar("T")


def rotated(items: list[T], k: int) -> list[T]:
    k %= len(items)
    return items[k:] + items[:k]




TEMPLATES = Path(__file__).parent / "templates"


def template(name: str) -> str:
    """The text of ``templates/<name>`` (nginx configuration, wrk Lua)."""
    return (TEMPLATES / name).read_text()
