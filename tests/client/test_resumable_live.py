"""Resumable uploads, upload-and-attach and resumed downloads end to end: ``atoll.Base`` against
a real ``python -m atoll serve`` (behind a fault proxy that cuts connections mid-body), a server
killed and restarted mid-upload, and a second ``Base`` resuming through the resume store."""

from __future__ import annotations

import json
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import atoll
from tests.client.live_files import SERVER_ENV, MiB, Proxied, ctrl_c_at, random_file, sha256_of
from tests.faultproxy import Fault
from tests.live_server import LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("resumable") / "data", env=SERVER_ENV) as srv:
        yield srv


@pytest.fixture(scope="module")
def token(server: LiveServer) -> str:
    return server.create_token("Resumable")


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def base(server: LiveServer, token: str, store: Path) -> Iterator[atoll.Base]:
    with atoll.Base(token, server.url, resume_store=store) as b:
        yield b


def test_resumable_round_trip_with_sha256(base: atoll.Base, tmp_path: Path, store: Path) -> None:
    local = tmp_path / "big.bin"
    digest = random_file(local, 20 * MiB)  # above the 8 MiB threshold: tus
    seen: list[tuple[int, int | None]] = []
    tracemalloc.start()
    try:
        cell = base.upload_local_file(local, progress=lambda d, t: seen.append((d, t)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MiB  # one PATCH, streamed: O(chunk), never the file
    assert cell["name"] == "big.bin" and cell["size"] == 20 * MiB and cell["type"] == "file"
    assert "row_id" not in cell
    assert seen[0] == (0, 20 * MiB) and seen[-1] == (20 * MiB, 20 * MiB)
    assert list(store.iterdir()) == []
    out = base.download_file(cell["url"], tmp_path / "back.bin")
    assert sha256_of(out) == digest


def test_cut_mid_patch_resumes(proxied: Proxied, tmp_path: Path) -> None:
    proxy = proxied.proxy
    local = tmp_path / "cut.bin"
    digest = random_file(local, 12 * MiB)
    proxy.faults[:] = [Fault("cut", method="PATCH", cut_after=4 * MiB + 1234, times=2)]
    with proxied.base(resume_store=tmp_path / "store") as b:
        cell = b.upload_local_file(local, name="cut.bin")
        assert cell["size"] == 12 * MiB
        methods = proxied.tus_requests()
        assert methods[:3] == ["POST", "PATCH", "HEAD"] and methods.count("POST") == 1, methods
        assert proxy.faults[0].hits == 2, methods
        # continued from what the server held, not from 0 (a PATCH between may have met the
        # server still busy with the cut one: 423, or 409 and a HEAD)
        offsets = proxied.patch_offsets()
        assert len(offsets) >= 3 and offsets[0] == 0 and offsets[-1] >= 2 * MiB, (offsets, methods)
        assert sha256_of(b.download_file(cell["url"], tmp_path / "back")) == digest


def test_ctrl_c_then_a_new_base_resumes_through_the_store(proxied: Proxied, tmp_path: Path) -> None:
    local, store = tmp_path / "again.bin", tmp_path / "store"
    digest = random_file(local, 10 * MiB)
    with proxied.base(resume_store=store) as first, pytest.raises(KeyboardInterrupt):
        first.upload_local_file(local, progress=ctrl_c_at(6 * MiB))
    assert len(list(store.iterdir())) == 1
    proxied.clear()
    with proxied.base(resume_store=store) as second:
        cell = second.upload_local_file(local)
        methods, offsets = proxied.tus_requests(), proxied.patch_offsets()
        assert methods[:2] == ["HEAD", "PATCH"] and "POST" not in methods, methods
        assert offsets[-1] >= MiB, (offsets, methods)  # the stored upload, continued
        assert sha256_of(second.download_file(cell["url"], tmp_path / "back")) == digest
    assert list(store.iterdir()) == []


def test_server_killed_and_restarted_mid_upload(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    local = tmp_path / "crash.bin"
    digest = random_file(local, 16 * MiB)
    with LiveServer(tmp_path_factory.mktemp("crash") / "data", env=SERVER_ENV) as srv:
        token = srv.create_token("Crash")
        restarted = threading.Event()
        state: dict[str, Any] = {}

        def restart() -> None:
            srv.start()
            restarted.set()

        def crash(done: int, total: int | None) -> None:
            if done >= 6 * MiB and "thread" not in state:
                srv.kill()  # mid-PATCH: connection refused until it is back
                state["thread"] = threading.Timer(1.0, restart)
                state["thread"].start()

        with atoll.Base(token, srv.url, resume_store=tmp_path / "store") as b:
            b.auth()
            cell = b.upload_local_file(local, progress=crash)
            state["thread"].join()
            assert restarted.is_set() and cell["size"] == 16 * MiB
            assert sha256_of(b.download_file(cell["url"], tmp_path / "back")) == digest


def test_download_resumed_after_a_cut(proxied: Proxied, tmp_path: Path) -> None:
    proxy = proxied.proxy
    local = tmp_path / "dl.bin"
    digest = random_file(local, 9 * MiB)
    with proxied.base(resume_store=None) as b:
        cell = b.upload_local_file(local, resumable=False)
        proxied.clear()
        proxy.faults[:] = [Fault("cut_reply", method="GET", target_contains="/seafhttp/files/",
                                 cut_after=4 * MiB)]
        seen: list[int] = []
        out = b.download_file(cell["url"], tmp_path / "out.bin", progress=lambda d, t: seen.append(d))
        assert sha256_of(out) == digest and proxy.faults[0].hits == 1
        assert seen.count(0) == 1, seen[:3]  # resumed at the cut, not restarted
        ranges = [h.get("range") for h in proxy.request_headers]
        assert len(ranges) == 2 and ranges[0] is None, ranges
        resumed_at = int(str(ranges[1]).removeprefix("bytes=").removesuffix("-"))
        assert 3 * MiB < resumed_at <= 4 * MiB, ranges  # what it had written of the 4 MiB passed
        with (tmp_path / "obj.bin").open("wb") as f:
            proxy.faults[0].seen = 0
            assert b.download_file(cell["url"], f) == tmp_path / "obj.bin"
        assert sha256_of(tmp_path / "obj.bin") == digest and proxy.faults[0].hits == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dl.bin", "obj.bin", "out.bin"]


# -- upload-and-attach ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def table(server: LiveServer, token: str) -> str:
    with atoll.Base(token, server.url, resume_store=None) as b:
        b.add_table("Docs", columns=[
            {"column_name": "Name", "column_type": "text"},
            {"column_name": "Files", "column_type": "file"},
            {"column_name": "Pics", "column_type": "image"},
        ])
    return "Docs"


def test_upload_and_attach_new_and_existing_rows(base: atoll.Base, table: str,
                                                 tmp_path: Path) -> None:
    doc = tmp_path / "report.pdf"
    doc.write_bytes(b"%PDF-1.4 small")
    pic = tmp_path / "shot.png"
    pic.write_bytes(b"\x89PNG\r\n\x1a\n small")

    cell = base.upload_local_file(doc, table=table, column="Files")  # small, attached: tus
    assert cell["row_id"] and cell["table_id"] and cell["name"] == "report.pdf"
    row = base.get_row(table, cell["row_id"])
    assert row["Files"] == [{"name": "report.pdf", "size": 14, "type": "file", "url": cell["url"]}]

    img = base.upload_local_file(pic, file_type="image", table=table, row_id=cell["row_id"],
                                 column="Pics")
    assert img["row_id"] == cell["row_id"] and img["type"] == "image"
    again = base.upload_local_file(doc, table=table, row_id=cell["row_id"], column="Files")
    assert again["name"] == "report (1).pdf"
    row = base.get_row(table, cell["row_id"])
    assert row["Pics"] == [img["url"]]
    assert [f["name"] for f in row["Files"]] == ["report.pdf", "report (1).pdf"]
    assert len(base.list_rows(table)) == 1

    base.create_custom_folder("/Scans")
    custom = base.upload_local_file_to_custom_folder(doc, "/Scans", table=table, column="Files")
    assert custom["url"].startswith("custom-asset://") and custom["row_id"] != cell["row_id"]
    assert len(base.list_rows(table)) == 2


def test_attach_to_a_bad_target_fails_before_any_byte(base: atoll.Base, table: str,
                                                      tmp_path: Path, store: Path) -> None:
    doc = tmp_path / "x.txt"
    doc.write_bytes(b"x")
    with pytest.raises(atoll.AtollHTTPError) as info:
        base.upload_local_file(doc, table=table, column="Name")  # a text column
    assert info.value.status is not None and 400 <= info.value.status < 500
    with pytest.raises(atoll.AtollHTTPError):
        base.upload_local_file(doc, table=table, row_id="nope", column="Files")
    assert not store.exists() or list(store.iterdir()) == []


def test_terminated_upload_starts_afresh(proxied: Proxied, tmp_path: Path) -> None:
    """A stored upload the server no longer has (terminated, expired) is started again."""
    local, store = tmp_path / "gone.bin", tmp_path / "store"
    digest = random_file(local, 3 * MiB)
    with proxied.base(resume_store=store) as b:
        with pytest.raises(KeyboardInterrupt):
            b.upload_local_file(local, resumable=True, progress=ctrl_c_at(2 * MiB))
        (entry,) = store.iterdir()
        url = json.loads(entry.read_text())["upload_url"]
        for _ in range(300):  # 423 until the server has seen the interrupted PATCH end
            deleted = httpx.delete(url, headers={"Tus-Resumable": "1.0.0"})
            if deleted.status_code != 423:
                break
            time.sleep(0.1)
        assert deleted.status_code == 204, deleted.text
        proxied.clear()
        cell = b.upload_local_file(local, resumable=True)
        assert proxied.tus_requests()[:3] == ["HEAD", "POST", "PATCH"], proxied.tus_requests()
        assert sha256_of(b.download_file(cell["url"], tmp_path / "back")) == digest
        empty = tmp_path / "empty.txt"
        empty.write_bytes(b"")
        assert b.upload_local_file(empty, resumable=True)["size"] == 0
    assert list(store.iterdir()) == []


def test_row_deleted_while_uploading_is_a_conflict(base: atoll.Base, table: str, server: LiveServer,
                                                   token: str, tmp_path: Path, store: Path) -> None:
    local = tmp_path / "late.bin"
    random_file(local, 3 * MiB)
    row = base.append_row(table, {"Name": "doomed"})
    with atoll.Base(token, server.url, resume_store=None) as other:

        def delete_row(done: int, total: int | None) -> None:
            if done >= MiB and other.is_authed is False:
                other.delete_row(table, row["_id"])

        with pytest.raises(atoll.AtollHTTPError, match="was deleted") as info:
            base.upload_local_file(local, table=table, row_id=row["_id"], column="Files",
                                   progress=delete_row)
    assert info.value.status == 409
    assert all(r["_id"] != row["_id"] for r in base.list_rows(table))
