"""End-to-end: ``atoll.Base`` and the file CLI against a real ``python -m atoll serve``."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import tracemalloc
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import click
import httpx
import pytest
from click.testing import CliRunner

import atoll
from atoll.cli import files as cli_files
from tests.live_server import LiveServer

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("live") / "data") as srv:
        yield srv


@pytest.fixture(scope="module")
def token(server: LiveServer) -> str:
    return server.create_token("SDK")


@pytest.fixture
def closing() -> Iterator[ExitStack]:
    """Closes what a test enters into it (a Base, its own httpx.Client) when the test ends."""
    with ExitStack() as stack:
        yield stack


@pytest.fixture
def base(server: LiveServer, token: str) -> Iterator[atoll.Base]:
    with atoll.Base(token, server.url) as b:
        b.auth()
        yield b


def _get(url: str) -> bytes:
    r = httpx.get(url)
    assert r.status_code == 200, r.text
    return r.content


# -- the files API spec, end to end -------------------------------------------------------


def test_files_spec_simple_methods(base: atoll.Base, tmp_path: Path) -> None:
    info = base.upload_bytes_file("my_uploaded_file.txt", b"from memory")
    assert set(info) == {"type", "size", "name", "url"}
    assert info["type"] == "file" and info["size"] == 11 and info["name"] == "my_uploaded_file.txt"
    assert info["url"].startswith(f"{base.server_url}/workspace/{base.workspace_id}/asset/")
    assert f"/{base.dtable_uuid}/files/" in info["url"]

    # same name again: renamed like Seafile; replace=True keeps the name
    again = base.upload_bytes_file("my_uploaded_file.txt", b"second")
    assert again["name"] == "my_uploaded_file (1).txt"
    replaced = base.upload_bytes_file("my_uploaded_file.txt", b"third!", replace=True)
    assert replaced["name"] == "my_uploaded_file.txt" and replaced["size"] == 6

    local = tmp_path / "a.png"
    local.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(1000))
    img = base.upload_local_file(str(local), name="my_uploaded_img.png", file_type="image",
                                 replace=True)
    assert img["type"] == "image" and "/images/" in img["url"] and img["size"] == 1008
    with local.open("rb") as f:
        img2 = base.upload_bytes_file("from_handle.png", f, file_type="image")
    assert img2["size"] == 1008

    # download_file to a directory (the spec's "/tmp/files/") and to a file path
    out_dir = tmp_path / "files"
    base.download_file(img["url"], str(out_dir) + "/")
    assert (out_dir / "my_uploaded_img.png").read_bytes() == local.read_bytes()
    base.download_file(replaced["url"], tmp_path / "x.txt")
    assert (tmp_path / "x.txt").read_bytes() == b"third!"
    base.download_file(again["url"], tmp_path)
    assert (tmp_path / "my_uploaded_file (1).txt").read_bytes() == b"second"
    # relative URL form works too
    rel = "/workspace/" + img["url"].split("/workspace/", 1)[1]
    base.download_file(rel, tmp_path / "rel.png")
    assert (tmp_path / "rel.png").read_bytes() == local.read_bytes()


def test_files_spec_detailed_methods(base: atoll.Base) -> None:
    info = base.upload_bytes_file("detail.txt", b"detailed")
    path = info["url"].split(f"{base.dtable_uuid}/", 1)[1]
    link = base.get_file_download_link(unquote(path))
    assert _get(link) == b"detailed"

    d = base.get_file_upload_link()
    assert {"upload_link", "parent_path", "img_relative_path", "file_relative_path"} <= set(d)
    r = httpx.post(
        d["upload_link"] + "?ret-json=1",
        data={"parent_dir": d["parent_path"], "relative_path": d["file_relative_path"],
              "replace": 1},
        files={"file": ("file_uploaded.txt", b"manual")},
    )
    assert r.status_code == 200 and r.json()[0]["name"] == "file_uploaded.txt"


def test_cells_in_rows(base: atoll.Base) -> None:
    base.add_table("Files", columns=[{"column_name": "Name", "column_type": "text"}])
    base.insert_column("Files", "img_col", atoll.ColumnTypes.IMAGE)
    base.insert_column("Files", "file_col", "file")
    row = base.append_row("Files", {"Name": "r1"})
    info = base.upload_bytes_file("cell.pdf", b"%PDF-1.4")
    img = base.upload_bytes_file("cell.png", b"\x89PNG", file_type="image")
    row["img_col"] = [img["url"]]
    row["file_col"] = [info]
    base.update_row("Files", row["_id"], {"img_col": row["img_col"], "file_col": row["file_col"]})
    got = base.get_row("Files", row["_id"])
    assert got["img_col"] == [img["url"]]
    assert got["file_col"] == [info]


def test_custom_folders(base: atoll.Base, tmp_path: Path) -> None:
    assert base.create_custom_folder("/Main/photos") is not None
    listing = base.list_custom_assets("/Main")
    assert {"name": "photos"} in listing["dir"]

    sky = tmp_path / "sky.png"
    sky.write_bytes(b"\x89PNG sky")
    info = base.upload_local_file_to_custom_folder(str(sky), "/Main/")
    assert info["type"] == "file" and info["name"] == "sky.png" and info["size"] == 8
    assert info["url"].startswith("custom-asset://") and info["url"].endswith(".png")
    dup = base.upload_local_file_to_custom_folder(str(sky), "/Main/")
    assert dup["name"] == "sky (1).png" and dup["url"] != info["url"]
    assert base.get_custom_file_info("/Main/", "sky.png") == info  # stable uuid
    assert "sky.png" in {f["name"] for f in base.list_custom_assets("/Main")["file"]}

    base.download_custom_file("/Main/sky.png", tmp_path / "back.png")
    assert (tmp_path / "back.png").read_bytes() == sky.read_bytes()
    out = tmp_path / "out"
    out.mkdir()
    base.download_custom_file("/Main/sky (1).png", out)
    assert (out / "sky (1).png").read_bytes() == sky.read_bytes()
    assert _get(base.get_custom_file_download_link("/Main/sky.png")) == sky.read_bytes()
    link = base.get_custom_file_upload_link("/Main/photos")
    assert link["relative_path"] == "Main/photos"

    root = base.upload_local_file_to_custom_folder(str(sky), name="at-root.png")
    assert root["name"] == "at-root.png"
    with pytest.raises(atoll.NotFoundError):
        base.upload_local_file_to_custom_folder(str(sky), "/Nope/")


def test_rows_methods(base: atoll.Base) -> None:
    t = base.add_table("Tasks", "en", [{"column_name": "Title", "column_type": "text"}])
    assert t["name"] == "Tasks"
    assert base.get_metadata()["tables"]
    assert "Tasks" in [x["name"] for x in base.list_tables()]
    col = base.insert_column("Tasks", "Count", atoll.ColumnTypes.NUMBER)
    assert col["name"] == "Count"
    assert [c["name"] for c in base.list_columns("Tasks")][:2] == ["Title", "Count"]

    first = base.append_row("Tasks", {"Title": "a", "Count": 3})
    assert first["_id"]
    out = base.batch_append_rows("Tasks", [{"Title": "b", "Count": 1}, {"Title": "c", "Count": 2}])
    assert out["inserted_row_count"] == 2
    rows = base.list_rows("Tasks")
    assert [r["Title"] for r in rows] == ["a", "b", "c"]
    assert [r["Title"] for r in base.list_rows("Tasks", order_by="Count", desc=True)] == [
        "a", "c", "b"
    ]
    assert len(base.list_rows("Tasks", start=1, limit=1)) == 1
    assert base.get_row("Tasks", first["_id"])["Title"] == "a"

    base.update_row("Tasks", first["_id"], {"Title": "a2"})
    base.batch_update_rows("Tasks", [{"row_id": rows[1]["_id"], "row": {"Count": 10}}])
    assert base.get_row("Tasks", rows[1]["_id"])["Count"] == 10
    base.delete_row("Tasks", first["_id"])
    base.batch_delete_rows("Tasks", [rows[1]["_id"]])
    assert [r["Title"] for r in base.list_rows("Tasks")] == ["c"]
    with pytest.raises(atoll.NotFoundError):
        base.get_row("Tasks", first["_id"])


# -- streaming ------------------------------------------------------------------------------


def test_large_upload_and_download_stream(base: atoll.Base, tmp_path: Path) -> None:
    size = 48 * MiB
    src = tmp_path / "big.bin"
    h = hashlib.sha256()
    with src.open("wb") as f:
        block = os.urandom(MiB)
        for _ in range(size // MiB):
            f.write(block)
            h.update(block)
    ups: list[int] = []
    downs: list[int] = []
    tracemalloc.start()
    try:
        cell = base.upload_local_file(src, progress=lambda d, t: ups.append(d))
        base.download_file(cell["url"], tmp_path / "back.bin",
                           progress=lambda d, t: downs.append(d))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert cell["size"] == size
    assert peak < 16 * MiB, f"peak {peak / MiB:.1f} MiB"
    assert ups[-1] == size and downs[-1] == size
    back = hashlib.sha256()
    with (tmp_path / "back.bin").open("rb") as f:
        while chunk := f.read(MiB):
            back.update(chunk)
    assert back.hexdigest() == h.hexdigest()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["back.bin", "big.bin"]  # no temp left


def test_iterator_upload_is_chunked(base: atoll.Base) -> None:
    cell = base.upload_bytes_file("gen.bin", (bytes([i]) * 1000 for i in range(50)))
    assert cell["size"] == 50_000


# -- errors, retries, timeouts --------------------------------------------------------------


def test_errors_carry_status_and_message(server: LiveServer, base: atoll.Base) -> None:
    with pytest.raises(atoll.AuthError) as info, atoll.Base("0" * 40, server.url) as wrong:
        wrong.auth()
    assert info.value.status == 403 and info.value.message
    with pytest.raises(atoll.BadRequestError) as info2:
        base.get_file_download_link("files/1999-01/missing.txt")
    assert info2.value.message == "file files/1999-01/missing.txt does not exist"
    with pytest.raises(atoll.NotFoundError) as info3:
        base.list_rows("NoSuchTable")
    assert "NoSuchTable" in info3.value.message


class FlakyTransport(httpx.BaseTransport):
    """Answers 503 (or raises) for the first ``n`` requests matching ``part``, then forwards."""

    def __init__(self, n: int, part: str, exc: type[Exception] | None = None) -> None:
        self.inner = httpx.HTTPTransport()
        self.left = n
        self.part = part
        self.exc = exc
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.part in request.url.path:
            self.calls += 1
            if self.left > 0:
                self.left -= 1
                if self.exc is not None:
                    raise self.exc("injected")
                return httpx.Response(503, text="Service Unavailable")
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def _flaky_base(server: LiveServer, token: str, flaky: FlakyTransport, closing: ExitStack) -> atoll.Base:
    http = closing.enter_context(httpx.Client(transport=flaky))  # ours to close, not the Base's
    b = closing.enter_context(atoll.Base(token, server.url, http=http))
    b._transport.sleep = lambda s: None
    return b


def test_retry_503_twice_then_success(
    server: LiveServer, token: str, tmp_path: Path, closing: ExitStack
) -> None:
    flaky = FlakyTransport(2, "/seafhttp/files/")
    b = _flaky_base(server, token, flaky, closing)
    cell = b.upload_bytes_file("retry.txt", b"retry me", replace=True)
    b.download_file(cell["url"], tmp_path / "r.txt")
    assert (tmp_path / "r.txt").read_bytes() == b"retry me" and flaky.calls == 3

    flaky = FlakyTransport(2, "/upload-api/")
    b = _flaky_base(server, token, flaky, closing)
    assert b.upload_bytes_file("retry2.txt", b"x" * 300_000, replace=True)["size"] == 300_000
    assert flaky.calls == 3

    flaky = FlakyTransport(1, "/upload-api/")  # replace=False: a 503 is not retried
    b = _flaky_base(server, token, flaky, closing)
    with pytest.raises(atoll.ServerError):
        b.upload_bytes_file("retry3.txt", b"x")
    assert flaky.calls == 1


def test_connection_refused_is_transfer_error(closing: ExitStack) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    b = closing.enter_context(atoll.Base("t", f"http://127.0.0.1:{port}", retries=2))
    slept: list[float] = []
    b._transport.sleep = slept.append
    with pytest.raises(atoll.TransferError) as info:
        b.auth()
    # nothing ever answered: not transient, so no retry; the message names the server
    assert info.value.status is None and slept == []
    assert str(info.value).startswith(f"cannot connect to http://127.0.0.1:{port}: ")


def test_connection_refused_is_retried_once_the_server_answered(
    server: LiveServer, token: str, closing: ExitStack
) -> None:
    b = closing.enter_context(atoll.Base(token, server.url, retries=2))
    b.auth()
    slept: list[float] = []
    b._transport.sleep = slept.append
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    b.server_url = f"http://127.0.0.1:{port}"  # the server "went away"
    with pytest.raises(atoll.TransferError, match=f"cannot connect to http://127.0.0.1:{port}"):
        b.list_custom_assets("/")
    assert len(slept) == 2


def test_timeout_against_a_stalled_server(closing: ExitStack) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    accepted: list[socket.socket] = []

    def accept() -> None:
        conn, _ = listener.accept()
        accepted.append(conn)  # read nothing, answer nothing

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        b = closing.enter_context(atoll.Base("t", f"http://127.0.0.1:{port}", timeout=0.3, retries=0))
        with pytest.raises(atoll.TransferTimeoutError) as info:
            b.auth()
        assert isinstance(info.value, TimeoutError)
    finally:
        for c in accepted:
            c.close()
        listener.close()


# -- CLI --------------------------------------------------------------------------------------


@pytest.fixture
def cli(server: LiveServer, token: str) -> Any:
    group = click.Group("atoll")
    cli_files.register(group)
    runner = CliRunner()
    env = {"ATOLL_SERVER_URL": server.url, "ATOLL_API_TOKEN": token}

    def run(*args: str, **kw: Any) -> Any:
        return runner.invoke(group, list(args), env={**env, **kw.pop("env", {})}, **kw)

    return run


def test_cli_upload_ls_download(cli: Any, base: atoll.Base, tmp_path: Path) -> None:
    a = tmp_path / "cli a.txt"
    a.write_bytes(b"cli file")
    b = tmp_path / "pic.png"
    b.write_bytes(b"\x89PNG cli")
    r = cli("upload", str(a), str(b), "--replace")
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["name"] for x in lines] == ["cli a.txt", "pic.png"]
    assert all(set(x) == {"type", "size", "name", "url"} for x in lines)

    r = cli("upload", str(b), "--type", "image")
    assert r.exit_code == 0 and json.loads(r.stdout)["type"] == "image"

    base.create_custom_folder("/CLI")
    r = cli("upload", str(b), "--custom-folder", "/CLI/")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["url"].startswith("custom-asset://")

    r = cli("ls", "/CLI")
    assert r.exit_code == 0 and [f["name"] for f in json.loads(r.stdout)["file"]] == ["pic.png"]
    r = cli("ls")
    assert r.exit_code == 0 and {"name": "CLI"} in json.loads(r.stdout)["dir"]

    out = tmp_path / "dl"
    out.mkdir()
    r = cli("download", lines[0]["url"], "-o", str(out))
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == {"path": str(out / "cli a.txt"), "size": 8}
    assert (out / "cli a.txt").read_bytes() == b"cli file"

    r = cli("download", "/CLI/pic.png", "-o", str(out / "p.png"))
    assert r.exit_code == 0, r.output
    assert (out / "p.png").read_bytes() == b"\x89PNG cli"

    rel = lines[0]["url"].split(f"{base.dtable_uuid}/", 1)[1].replace("%20", " ")
    r = cli("download", rel, "-o", str(out / "rel.txt"))
    assert r.exit_code == 0, r.output
    assert (out / "rel.txt").read_bytes() == b"cli file"


def test_cli_errors(cli: Any, tmp_path: Path) -> None:
    r = cli("ls", env={"ATOLL_API_TOKEN": "0" * 40})
    assert r.exit_code == 3  # docs/cli.md: authentication refused
    assert r.stderr.strip().startswith("Error: HTTP 403")
    assert len(r.stderr.strip().splitlines()) == 1
    r = cli("download", "files/1999-01/nope.txt", "-o", str(tmp_path))
    assert r.exit_code == 4 and "file files/1999-01/nope.txt does not exist" in r.stderr
    r = cli("download", "custom-asset://2bbe9499-e1df-4086-bdd3-d130d6c91bd3.png")
    assert r.exit_code == 2 and "custom-asset" in r.stderr  # an argument the CLI cannot use
    r = cli("ls", env={"ATOLL_API_TOKEN": ""})
    assert r.exit_code == 2  # usage error: missing --api-token
