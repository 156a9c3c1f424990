"""Resilience: PostgreSQL restarts (``pg_ctl stop -m immediate``, then start) under upload load.

The server is not restarted: requests in flight either succeed or fail cleanly (503, nothing
stored), new requests succeed within 10 s of the database being back, and nothing dangles:
every file has its blob, every acknowledged upload reads back intact, no write is left open.
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import anyio
import httpx

from atoll.services import fsck as fsck_service
from atoll.services.context import Context
from tests import services
from tests.backends import blob_state_sync, server_env
from tests.live_server import LiveServer

WRITERS = 4
BACK_WITHIN_S = 10.0


def test_postgres_restart_under_upload_load(tmp_path: Path) -> None:
    pg = services.postgres()
    env = {**server_env(), "ATOLL_DB_URL": pg.new_url()}
    with LiveServer(tmp_path / "data", env=env) as server:
        auth = {"Authorization": f"Token {server.create_token('Restart')}"}
        link = httpx.get(server.url + "/api/v2.1/dtable/app-upload-link/", headers=auth).json()
        acknowledged: dict[str, str] = {}
        statuses: list[int] = []
        stop = threading.Event()

        def writer(w: int) -> None:
            n = 0
            while not stop.is_set():
                n += 1
                content = f"writer {w} upload {n} ".encode() * 2000
                try:
                    r = httpx.post(link["upload_link"] + "?ret-json=1", timeout=30, files={
                        "file": (f"w{w}-{n}.bin", content)},
                        data={"parent_dir": link["parent_path"], "relative_path": "files/load"})
                except httpx.HTTPError:
                    statuses.append(-1)
                    continue
                statuses.append(r.status_code)
                if r.status_code == 200:
                    acknowledged[r.json()[0]["name"]] = hashlib.sha256(content).hexdigest()

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.0)
            pg.stop("immediate")
            time.sleep(1.5)
            pg.pg_ctl("start")
            back = time.monotonic()
            recovered = None
            while time.monotonic() - back < BACK_WITHIN_S + 5:
                r = httpx.get(server.url + "/api/v2.1/dtable/app-upload-link/", headers=auth, timeout=10)
                if r.status_code == 200:
                    recovered = time.monotonic() - back
                    break
                time.sleep(0.1)
            time.sleep(1.0)  # uploads go on after recovery
        finally:
            stop.set()
            for t in threads:
                t.join()
            if not pg.started:
                pg.pg_ctl("start")

        assert recovered is not None and recovered < BACK_WITHIN_S, recovered
        assert set(statuses) <= {200, 503}, sorted(set(statuses))  # clean failures only
        assert 503 in statuses and statuses[-1] == 200
        for name, digest in acknowledged.items():
            r = httpx.get(server.url + "/api/v2.1/dtable/app-download-link/",
                          params={"path": f"files/load/{name}"}, headers=auth)
            assert r.status_code == 200, (name, r.text)
            assert hashlib.sha256(httpx.get(r.json()["download_link"]).content).hexdigest() == digest
        ctx = Context.open(server.settings)
        report = anyio.run(fsck_service.fsck, ctx)
        assert report.ok and report.assets >= len(acknowledged), report
        assert blob_state_sync(ctx.blobs)[1] == frozenset()  # no unfinished write left open
        ctx.engine.dispose()
