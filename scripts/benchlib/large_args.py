"""The command-line options of ``scripts/bench --large`` (benchlib/large.py) and their defaults."""

from __future__ import annotations

import argparse

from benchlib.common import BARE, MIB, parse_size

GIB = 1024 * MIB


def add_large_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--large", action="store_true",
                   help="issue 10's benchmark instead: a --large-size upload through tus and through "
                   "upload-api, the same download, nginx as reference, server peak RSS; then the "
                   "official client vs atoll's SDK on --client-size (benchlib/large.py); writes "
                   "docs/benchmarks-large.md after a full run (default servers: nginx,uvicorn)")
    p.add_argument("--large-size", type=parse_size, default=None,
                   help="--large file size (default 10G; --quick 256M)")
    p.add_argument("--large-rounds", type=int, default=None, help="--large rounds (default 2)")
    p.add_argument("--large-warmup", type=parse_size, default=None,
                   help="--large warm-up upload before each timed one (default 1G; --quick 64M)")
    p.add_argument("--client-size", type=parse_size, default=None,
                   help="--large client comparison file size (default 1G; --quick 64M)")
    p.add_argument("--client-rounds", type=int, default=None,
                   help="--large client comparison rounds (default 3; --quick 2)")
    p.add_argument("--official-python", default=None,
                   help="python of a venv with seatable-api 4.0.0 (default: the compat tests' "
                   "venv under .cache/clients, installed on first use)")
    p.add_argument("--skip-clients", action="store_true", help="--large without the clients")


def check_large_args(p: argparse.ArgumentParser, a: argparse.Namespace) -> None:
    """Defaults (``--quick`` shrinks the sizes) and the combinations --large does not take."""
    if a.rows or a.backend != "sqlite-local" or a.baseline:
        p.error("--large runs alone: not with --rows, --backend postgres-s3 or --baseline")
    a.servers = a.servers or "nginx,uvicorn"
    if BARE in a.servers.split(","):
        p.error("--large: bare serves 4 KiB files only")
    a.large_size = a.large_size or (256 * MIB if a.quick else 10 * GIB)
    a.large_warmup = min(a.large_warmup or (64 * MIB if a.quick else GIB), a.large_size)
    a.client_size = a.client_size or (64 * MIB if a.quick else GIB)
    a.large_rounds = a.large_rounds or 2
    a.client_rounds = a.client_rounds or (2 if a.quick else 3)
    a.size = a.large_size
