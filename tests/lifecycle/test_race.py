"""gc racing uploads, deletes and row edits on two server processes loses nothing.

Two uploaders (one per process) upload files, put each into a row's image cell, and delete
some of them while the row still uses them (they go to the trash and must survive every gc) and
some unreferenced ones (gc may purge those). An editor moves references between rows. Meanwhile
``atoll gc --retention 0`` runs again and again as its own process. Afterwards every file a row
uses is either live or restorable from the trash, byte-identical; every live file downloads.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from pathlib import Path

import httpx

from atoll.client import Base
from atoll.wire.links import asset_path_from_url
from tests.live_server import LiveServer, two_processes

ROUNDS = 12
COLUMNS = [{"column_name": "Name", "column_type": "text"}, {"column_name": "P", "column_type": "image"}]


def _content(tag: str) -> bytes:
    return hashlib.sha256(tag.encode()).digest() * 512 + tag.encode()


class Shared:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.content: dict[str, bytes] = {}  # asset path -> bytes
        self.live: list[str] = []  # URLs never deleted
        self.rows: list[str] = []
        self.errors: list[BaseException] = []
        self.done = threading.Event()


def _delete(server: LiveServer, token: str, path: str) -> None:
    r = httpx.delete(server.url + "/api/v2.1/dtable/app-asset/", params={"path": path},
                     headers={"Authorization": f"Token {token}"}, timeout=60)  # fmt: skip
    assert r.status_code == 200, r.text


def _uploader(server: LiveServer, token: str, who: str, shared: Shared) -> None:
    try:
        with Base(token, server.url) as base:
            base.auth()
            for i in range(ROUNDS):
                tag = f"{who}-{i}"
                cell = base.upload_bytes_file(f"{tag}.bin", _content(tag), file_type="image")
                spare = base.upload_bytes_file(f"{tag}-spare.bin", _content(tag + "s"), file_type="image")
                path = asset_path_from_url(cell["url"], dtable_uuid=str(base.dtable_uuid))
                spare_path = asset_path_from_url(spare["url"], dtable_uuid=str(base.dtable_uuid))
                with shared.lock:
                    shared.content[path] = _content(tag)
                    shared.content[spare_path] = _content(tag + "s")
                row = base.append_row("T", {"Name": tag, "P": [cell["url"]]})
                with shared.lock:
                    shared.rows.append(row["_id"])
                if i % 2:
                    _delete(server, token, path)  # trashed, but a row uses it: never purged
                    _delete(server, token, spare_path)  # unused: gc may purge it
                else:
                    with shared.lock:
                        shared.live.append(cell["url"])
    except BaseException as exc:  # reported by the test
        shared.errors.append(exc)


def _editor(server: LiveServer, token: str, shared: Shared) -> None:
    rng = random.Random(7)
    try:
        with Base(token, server.url) as base:
            base.auth()
            while not shared.done.is_set():
                with shared.lock:
                    rows, live = list(shared.rows), list(shared.live)
                if len(rows) < 2 or not live:
                    time.sleep(0.05)
                    continue
                row = rng.choice(rows)
                current = base.get_row("T", row).get("P") or []
                extra = rng.choice(live)  # add a live file's URL: references move around
                base.update_row("T", row, {"P": list(dict.fromkeys([*current, extra]))})
    except BaseException as exc:
        shared.errors.append(exc)


def _gc_loop(server: LiveServer, shared: Shared, runs: list[str]) -> None:
    try:
        while not shared.done.is_set():
            runs.append(server.cli("gc", "--data-dir", str(server.data_dir), "--retention", "0",
                                   "--grace", "3600"))  # fmt: skip
    except BaseException as exc:
        shared.errors.append(exc)


def test_gc_races_uploads_and_row_edits(tmp_path: Path) -> None:
    with two_processes(tmp_path / "data") as (first, second):
        token = first.create_token("Race")
        with Base(token, first.url) as base:
            base.auth()
            base.add_table("T", columns=COLUMNS)
        shared = Shared()
        runs: list[str] = []
        writers = [threading.Thread(target=_uploader, args=(s, token, w, shared))
                   for s, w in ((first, "one"), (second, "two"))]  # fmt: skip
        others = [threading.Thread(target=_editor, args=(second, token, shared)),
                  threading.Thread(target=_gc_loop, args=(first, shared, runs))]  # fmt: skip
        for t in writers + others:
            t.start()
        for t in writers:
            t.join(timeout=600)
        while len(runs) < 2 and not shared.errors:  # gc ran during the race and once after it
            time.sleep(0.1)
        shared.done.set()
        for t in others:
            t.join(timeout=600)
        assert not shared.errors, shared.errors
        final = first.cli("gc", "--data-dir", str(first.data_dir), "--retention", "0", "--grace", "3600")
        purged = [line for out in [*runs, final] for line in out.splitlines() if line.startswith("purged")]
        assert purged, "gc purged no unused trashed file: the race did not exercise it"
        _check_nothing_lost(second, token, shared)


def _check_nothing_lost(server: LiveServer, token: str, shared: Shared) -> None:
    auth = {"Authorization": f"Token {token}"}
    with Base(token, server.url) as base:
        base.auth()
        uuid = str(base.dtable_uuid)
        used = {
            asset_path_from_url(url, dtable_uuid=uuid)
            for row in base.list_rows("T")
            for url in row.get("P") or []
        }
        assert len(used) >= ROUNDS
        for path in sorted(used):
            link = httpx.get(server.url + "/api/v2.1/dtable/app-download-link/", params={"path": path},
                             headers=auth, timeout=60)  # fmt: skip
            if link.status_code != 200:  # in the trash: it must come back whole
                back = httpx.post(server.url + "/api/v2.1/dtable/app-asset-trash/", params={"path": path},
                                  headers=auth, timeout=60)  # fmt: skip
                assert back.status_code == 200 and back.json()["renamed"] is False, (path, back.text)
                link = httpx.get(server.url + "/api/v2.1/dtable/app-download-link/", params={"path": path},
                                 headers=auth, timeout=60)  # fmt: skip
            assert link.status_code == 200, (path, link.text)
            got = httpx.get(link.json()["download_link"], timeout=60)
            assert got.status_code == 200 and got.content == shared.content[path], path
