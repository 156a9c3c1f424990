"""Benchmark: ``atoll export`` of a base with 1 GiB of assets, and ``atoll import`` of the archive.

    .venv/bin/python -m tests.export.bench_export [--gib 1] [--files 64] [--dir /tmp/atoll-bench-export]

Seeds a base (SQLite + local folder in ``--dir``; ``ATOLL_DB_URL``/``ATOLL_STORAGE`` select other
backends) with ``--files`` random files totalling ``--gib`` GiB, written straight to the blob store,
then runs the real CLI commands as child processes and prints wall time, throughput and each
child's peak RSS (``ru_maxrss``). The export is checked to contain every byte (sizes) and the
import to restore every asset with the same SHA-256. Figures: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import anyio
from sqlalchemy import select

from atoll.config import Settings
from atoll.db import assets as db_assets
from atoll.db import schema
from atoll.db.engine import write_tx
from atoll.models import Asset
from atoll.services.access import create_api_token
from atoll.services.context import Context
from atoll.timeutil import utcnow

MiB = 1024 * 1024
CHUNK = 4 * MiB


async def _seed(ctx: Context, dtable_uuid: str, files: int, total: int) -> None:
    per = total // files
    block = os.urandom(CHUNK)
    for i in range(files):
        writer = await ctx.blobs.create(size_hint=per)
        left = per
        while left:
            n = min(CHUNK, left)
            await writer.write(block[:n] if n < CHUNK else block)
            left -= n
        info = await writer.commit()
        with write_tx(ctx.engine) as conn:
            db_assets.ensure_dirs(conn, dtable_uuid, "/files/2026-11", utcnow().isoformat())
            db_assets.insert_asset(
                conn,
                Asset(
                    id=0,
                    dtable_uuid=dtable_uuid,
                    dir_path="/files/2026-11",
                    name=f"f{i:04d}.bin",
                    blob_key=info.key,
                    size=info.size,
                    sha256=info.sha256,
                    mtime=utcnow(),
                    uuid=str(uuid.uuid4()),
                ),
            )
        block = hashlib.sha256(block[:64]).digest() + block[32:]  # distinct files


def _run(argv: list[str]) -> tuple[float, int, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "atoll", *argv], capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"{argv[0]} failed: {done.stderr}{done.stdout}")
    rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(rss_kib, before), done.stderr + done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--files", type=int, default=64)
    parser.add_argument("--dir", default="/tmp/atoll-bench-export")
    args = parser.parse_args()
    root = Path(args.dir)
    shutil.rmtree(root, ignore_errors=True)
    total = int(args.gib * 1024 * MiB)
    src = Settings.load(data_dir=root / "src")
    ctx = Context.open(src)
    base = create_api_token(ctx.engine, base="Bench").dtable
    t0 = time.monotonic()
    anyio.run(_seed, ctx, base.uuid, args.files, total)
    print(f"seeded {args.files} files, {total / MiB:.0f} MiB in {time.monotonic() - t0:.1f} s")
    archive = root / "bench.tar"
    dst_dir = root / "dst"
    backend = ["--data-dir", str(root / "src")]
    elapsed, rss, out = _run(["export", "Bench", "-o", str(archive), *backend])
    size = archive.stat().st_size
    assert size > total, "the archive lacks bytes"
    print(
        f"export: {elapsed:.2f} s, {size / MiB / elapsed:.0f} MiB/s, archive {size / MiB:.0f} MiB, "
        f"CLI peak RSS {rss / 1024:.0f} MiB\n  {out.strip()}"
    )
    elapsed, rss2, out = _run(["import", str(archive), "--as", "Bench", "--data-dir", str(dst_dir)])
    print(
        f"import: {elapsed:.2f} s, {size / MiB / elapsed:.0f} MiB/s, CLI peak RSS (max of both) "
        f"{rss2 / 1024:.0f} MiB\n  {out.strip()}"
    )
    dst = Context.open(Settings.load(data_dir=dst_dir))
    with ctx.engine.connect() as a, dst.engine.connect() as b:
        q = select(schema.assets.c.name, schema.assets.c.sha256).order_by(schema.assets.c.name)
        assert a.execute(q).all() == b.execute(q).all(), "imported assets differ"
    print("import verified: every asset with the same SHA-256")
    ctx.engine.dispose()
    dst.engine.dispose()


if __name__ == "__main__":
    main()
