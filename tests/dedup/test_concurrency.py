"""add_ref and drop_ref are race-free: many writers on their own engines (as separate server
processes would be), and two real server processes uploading the same bytes at once."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import httpx
from sqlalchemy import select

from atoll.db import blobs, schema
from atoll.db.engine import make_engine, write_tx
from atoll.storage.base import new_key
from atoll.timeutil import utcnow
from tests.dedup.conftest import Env, blob_rows
from tests.live_server import two_processes

WRITERS = 6
ROUNDS = 15
SHA, SIZE = hashlib.sha256(b"race").hexdigest(), 4
T = TypeVar("T")


def _in_parallel(env: Env, job: Callable[[int, Callable[[Callable[..., T]], T]], list[T]]) -> list[T]:
    """Run ``job(writer, tx)`` on WRITERS threads, each with its own engine, started together;
    ``tx(fn)`` runs ``fn(conn)`` in one write transaction of that writer's engine."""
    barrier = threading.Barrier(WRITERS)

    def one(n: int) -> list[T]:
        engine = make_engine(env.ctx.settings.db_url)
        try:
            def tx(fn: Callable[..., T]) -> T:
                with write_tx(engine) as conn:
                    return fn(conn)

            barrier.wait()
            return job(n, tx)
        finally:
            engine.dispose()

    with ThreadPoolExecutor(WRITERS) as pool:
        return [x for part in pool.map(one, range(WRITERS)) for x in part]


def test_concurrent_add_then_drop_keep_one_row_and_exact_counts(env: Env) -> None:
    def adds(_: int, tx: Callable[[Callable[..., str]], str]) -> list[str]:
        return [tx(lambda c: blobs.add_ref(c, new_key(), SHA, SIZE, utcnow().isoformat()))
                for _ in range(ROUNDS)]

    keys = _in_parallel(env, adds)
    rows = blob_rows(env)
    assert len(rows) == 1 and rows[0].refs == WRITERS * ROUNDS
    assert set(keys) == {rows[0].key}

    def drops(_: int, tx: Callable[[Callable[..., bool]], bool]) -> list[bool]:
        return [tx(lambda c: blobs.drop_ref(c, rows[0].key)) for _ in range(ROUNDS)]

    unused = _in_parallel(env, drops)
    assert unused.count(True) == 1 and len(unused) == WRITERS * ROUNDS  # exactly the last one
    assert blob_rows(env) == []


def test_adds_and_drops_racing_on_a_held_blob(env: Env) -> None:
    with write_tx(env.ctx.engine) as conn:
        pinned = blobs.add_ref(conn, new_key(), SHA, SIZE, utcnow().isoformat())

    def churn(_: int, tx: Callable[[Callable[..., object]], object]) -> list[object]:
        out = []
        for _ in range(ROUNDS):
            out.append(tx(lambda c: blobs.add_ref(c, new_key(), SHA, SIZE, utcnow().isoformat())))
            out.append(tx(lambda c: blobs.drop_ref(c, pinned)))
        return out

    results = _in_parallel(env, churn)
    assert {r for r in results if isinstance(r, str)} == {pinned}  # every add found the held row
    assert not any(r is True for r in results)  # the pin kept the count above zero
    assert [(r.key, r.refs) for r in blob_rows(env)] == [(pinned, 1)]


def test_two_server_processes_upload_the_same_bytes_at_once(tmp_path: Path) -> None:
    content = b"the same file, uploaded through two processes at once" * 1000
    with two_processes(tmp_path / "data") as (first, second):
        tokens = [first.create_token("A"), first.create_token("B")]
        barrier = threading.Barrier(8)

        def upload(n: int) -> int:
            server, token = (first, second)[n % 2], tokens[n % 2]
            with httpx.Client(base_url=server.url, timeout=60) as http:
                auth = {"Authorization": f"Token {token}"}
                link = http.get("/api/v2.1/dtable/app-upload-link/", headers=auth).json()
                barrier.wait()
                resp = http.post(link["upload_link"] + "?ret-json=1",
                                 data={"parent_dir": link["parent_path"], "relative_path": "files/x"},
                                 files={"file": (f"f{n}.bin", content)})
                return resp.status_code

        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(upload, range(8))) == [200] * 8
        engine = make_engine(first.settings.db_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(select(schema.blobs.c.key, schema.blobs.c.refs)).all()
                keys = set(conn.execute(select(schema.assets.c.blob_key)).scalars())
        finally:
            engine.dispose()
        assert len(rows) == 1 and rows[0][1] == 8 and keys == {rows[0][0]}
        out = first.cli("fsck", "--verify", "--data-dir", str(first.data_dir))
        assert out == "", out  # exit 0 and no problem line: no orphan, no refcount mismatch
