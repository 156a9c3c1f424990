"""The client commands against a real server: upload's options, rm, sync, profiles end to end,
the exit statuses a script can rely on, and Ctrl-C."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from atoll.cli import main
from atoll.cli.exitcodes import Exit, for_http, for_os
from atoll.client import (
    AtollHTTPError,
    AuthError,
    BadRequestError,
    Base,
    NotFoundError,
    ServerError,
    TooLargeError,
    TransferError,
)
from tests.client.cli_env import isolate
from tests.live_server import LiveServer


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("cli-commands") / "data") as srv:
        yield srv


@pytest.fixture(scope="module")
def token(server: LiveServer) -> str:
    return server.create_token("Commands")


@pytest.fixture
def env(server: LiveServer, token: str) -> dict[str, str]:
    return {"ATOLL_SERVER": server.url, "ATOLL_TOKEN": token}


def cli(env: dict[str, str], *args: str) -> Result:
    return CliRunner(env=env).invoke(main, list(args))


def lines(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    return [json.loads(x) for x in result.stdout.splitlines()]


def one(result: Result) -> dict[str, Any]:
    [out] = lines(result)
    return out


def offers_tus(server: LiveServer, token: str) -> bool:
    with Base(token, server.url) as base:
        return bool(base.get_file_upload_link().get("tus_link"))


# -- exit statuses ----------------------------------------------------------------------------


def test_exit_statuses_by_failure() -> None:
    assert [int(e) for e in Exit] == [0, 1, 2, 3, 4, 5, 6, 7, 130]
    assert for_http(AuthError(403, "Permission denied.")) == Exit.AUTH
    assert for_http(AuthError(401, "no token")) == Exit.AUTH
    assert for_http(NotFoundError(404, "folder /x does not exist")) == Exit.NOT_FOUND
    assert for_http(BadRequestError(400, "file a.txt does not exist")) == Exit.NOT_FOUND
    assert for_http(BadRequestError(400, "name invalid")) == Exit.FAILURE
    assert for_http(AtollHTTPError(409, "the row is gone")) == Exit.CONFLICT
    assert for_http(TooLargeError(413, "over max_upload_bytes")) == Exit.TOO_LARGE
    assert for_http(AtollHTTPError(507, "no space left on the server")) == Exit.TOO_LARGE
    assert for_http(TransferError("cannot connect to http://h")) == Exit.UNAVAILABLE
    assert for_http(ServerError(503, "Service Unavailable")) == Exit.UNAVAILABLE
    assert for_http(ServerError(500, "Internal Server Error")) == Exit.FAILURE
    html = "Not Found (the answer is an HTML page, not an atoll or SeaTable message)"
    assert for_http(NotFoundError(404, html)) == Exit.FAILURE
    assert for_os(FileNotFoundError(2, "No such file")) == Exit.NOT_FOUND
    assert for_os(FileExistsError(17, "File exists")) == Exit.CONFLICT
    assert for_os(OSError(28, "No space left on device")) == Exit.TOO_LARGE
    assert for_os(PermissionError(13, "Permission denied")) == Exit.FAILURE


def test_usage_errors_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("a")
    assert cli(env, "upload", str(tmp_path / "missing.txt")).exit_code == 2
    assert cli(env, "upload", "--folder", "/X", "--replace", str(f)).exit_code == 2
    assert cli(env, "upload", "--name", "n", str(f), str(f)).exit_code == 2
    assert cli(env, "rm", "custom-asset://0000.png").exit_code == 2
    assert cli(env, "sync", str(tmp_path), "Main").exit_code == 2
    assert cli({}, "ls").exit_code == 2  # no server, no token


# -- upload ---------------------------------------------------------------------------------


def test_upload_image_and_custom_folder(env: dict[str, str], tmp_path: Path) -> None:
    f = tmp_path / "pic.png"
    f.write_bytes(b"\x89PNG not really")
    cell = one(cli(env, "upload", "--image", str(f)))
    assert cell["type"] == "image" and "/images/" in cell["url"] and cell["name"] == "pic.png"
    assert one(cli(env, "upload", "--type", "image", str(f)))["name"] == "pic (1).png"

    assert cli(env, "mkdir", "/Up").exit_code == 0
    cell = one(cli(env, "upload", "--folder", "/Up", str(f)))
    assert cell["name"] == "pic.png" and cell["url"].startswith("custom-asset://")
    again = one(cli(env, "upload", "--custom-folder", "/Up", str(f)))  # today's name
    assert again["name"] == "pic (1).png"
    missing = cli(env, "upload", "--folder", "/Nope", str(f))
    assert missing.exit_code == Exit.NOT_FOUND
    assert "folder /Nope does not exist; create it with `atoll mkdir /Nope`" in missing.stderr


def test_upload_several_files_prints_one_line_each(env: dict[str, str], tmp_path: Path) -> None:
    names = ["one.txt", "two.txt", "three.txt"]
    for n in names:
        (tmp_path / n).write_text(n)
    out = lines(cli(env, "upload", "--replace", *(str(tmp_path / n) for n in names)))
    assert [c["name"] for c in out] == names


def test_upload_attach(server: LiveServer, token: str, env: dict[str, str],
                       tmp_path: Path) -> None:
    f = tmp_path / "scan.pdf"
    f.write_bytes(b"%PDF-1.4 scan")
    with Base(token, server.url) as base:
        base.add_table("Docs", columns=[{"column_name": "Name", "column_type": "text"},
                                        {"column_name": "Files", "column_type": "file"}])
        row = base.append_row("Docs", {"Name": "existing"})
    if not offers_tus(server, token):
        res = cli(env, "upload", "--attach", "Docs", "new", "Files", str(f))
        assert res.exit_code == Exit.FAILURE
        assert "the server offers no resumable (tus) upload" in res.stderr
        pytest.skip("this server does not serve tus yet: upload-and-attach needs it")
    new = one(cli(env, "upload", "--attach", "Docs", "new", "Files", str(f)))
    assert new["name"] == "scan.pdf" and new["row_id"] and new["row_id"] != row["_id"]
    onto = one(cli(env, "upload", "--attach", "Docs", row["_id"], "Files", str(f)))
    assert onto["row_id"] == row["_id"]
    with Base(token, server.url) as base:
        cells = base.get_row("Docs", row["_id"])["Files"]
        assert [c["name"] for c in cells] == [onto["name"]]
        assert [c["name"] for c in base.get_row("Docs", new["row_id"])["Files"]] == ["scan.pdf"]
    assert cli(env, "mkdir", "/Att").exit_code == 0
    custom = one(cli(env, "upload", "--folder", "/Att", "--attach", "Docs", "new", "Files", str(f)))
    assert custom["url"].startswith("custom-asset://") and custom["row_id"] not in (
        row["_id"], new["row_id"])
    with Base(token, server.url) as base:
        [cell] = base.get_row("Docs", custom["row_id"])["Files"]
        assert cell["url"] == custom["url"]
    gone = cli(env, "upload", "--attach", "Docs", "NoSuchRow0000000000000", "Files", str(f))
    assert gone.exit_code == Exit.NOT_FOUND, gone.stderr


# -- download -------------------------------------------------------------------------------


def test_download_by_url_and_by_path(env: dict[str, str], tmp_path: Path) -> None:
    f = tmp_path / "d.txt"
    f.write_text("download me")
    cell = one(cli(env, "upload", "--replace", str(f)))
    out = tmp_path / "out"
    out.mkdir()
    got = one(cli(env, "download", cell["url"], "-o", str(out)))
    assert got == {"path": str(out / "d.txt"), "size": 11}
    path = "files/" + cell["url"].split("/files/", 1)[1]
    got = one(cli(env, "download", path, "-o", str(out / "again.txt")))
    assert (out / "again.txt").read_text() == "download me" and got["size"] == 11


# -- rm ----------------------------------------------------------------------------------


def test_rm_custom_system_and_url(env: dict[str, str], server: LiveServer,
                                  tmp_path: Path) -> None:
    f = tmp_path / "gone.txt"
    f.write_text("bye")
    assert cli(env, "mkdir", "/Trash").exit_code == 0
    assert one(cli(env, "upload", "--folder", "/Trash", str(f)))["name"] == "gone.txt"
    assert one(cli(env, "rm", "/Trash/gone.txt")) == {"deleted": "/Trash/gone.txt"}
    assert one(cli(env, "ls", "/Trash")) == {"dir": [], "file": []}

    again = cli(env, "rm", "/Trash/gone.txt")
    assert again.exit_code == Exit.NOT_FOUND
    assert again.stderr.strip() == "Error: HTTP 404: file /Trash/gone.txt does not exist"

    cell = one(cli(env, "upload", "--replace", str(f)))
    path = "files/" + cell["url"].split("/files/", 1)[1]
    assert one(cli(env, "rm", path)) == {"deleted": path}
    cell = one(cli(env, "upload", "--replace", str(f)))
    assert one(cli(env, "rm", cell["url"])) == {"deleted": cell["url"]}
    assert cli(env, "download", cell["url"], "-o", str(tmp_path / "x")).exit_code == 4

    ro = server.create_token("Commands", permission="r")
    denied = cli({**env, "ATOLL_TOKEN": ro}, "rm", "/Trash/whatever.txt")
    assert denied.exit_code == Exit.AUTH
    assert f'(API token …{ro[-4:]} of base "Commands" at {server.url}.)' in denied.stderr


# -- sync -------------------------------------------------------------------------------


def _tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def _actions(result: Result) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    out = lines(result)
    assert out[-1]["action"] == "summary"
    return [(x["action"], x["path"]) for x in out[:-1]], out[-1]


def test_sync_uploads_only_what_changed(env: dict[str, str], tmp_path: Path) -> None:
    local = tmp_path / "site"
    _tree(local, {"index.html": "<h1>hi</h1>", "css/a.css": "a{}", "css/deep/b.css": "b{}"})

    plan, summary = _actions(cli(env, "sync", "--dry-run", str(local), "/Site"))
    assert plan == [("mkdir", "/Site"), ("upload", "/Site/index.html"), ("mkdir", "/Site/css"),
                    ("upload", "/Site/css/a.css"), ("mkdir", "/Site/css/deep"),
                    ("upload", "/Site/css/deep/b.css")]
    assert summary["dry_run"] is True and summary["uploaded"] == 3 and summary["bytes"] == 17
    assert cli(env, "ls", "/Site").exit_code == Exit.NOT_FOUND  # a dry run changes nothing

    res = cli(env, "sync", str(local), "/Site")
    done, summary = _actions(res)
    assert done == plan and res.stderr == ""  # not a terminal: no progress
    assert {k: summary[k] for k in ("folders", "uploaded", "unchanged", "dry_run")} == {
        "folders": 3, "uploaded": 3, "unchanged": 0, "dry_run": False}
    listing = one(cli(env, "ls", "/Site/css"))
    assert listing["dir"] == [{"name": "deep"}]
    assert listing["file"] == [{"name": "a.css", "size": 3,
                                "sha256": hashlib.sha256(b"a{}").hexdigest()}]

    done, summary = _actions(cli(env, "sync", str(local), "/Site"))
    assert done == [] and summary["unchanged"] == 3 and summary["uploaded"] == 0

    (local / "css" / "a.css").write_text("A{}")  # same size, other bytes: told by SHA-256
    (local / "new.txt").write_text("new")
    plan, _ = _actions(cli(env, "sync", "-n", str(local), "/Site"))
    done, summary = _actions(cli(env, "sync", str(local), "/Site"))
    assert done == plan == [("upload", "/Site/new.txt"), ("replace", "/Site/css/a.css")]
    assert (summary["uploaded"], summary["replaced"], summary["unchanged"]) == (1, 1, 2)
    out = tmp_path / "a.css"
    cli(env, "download", "/Site/css/a.css", "-o", str(out))
    assert out.read_text() == "A{}"
    assert [f["name"] for f in one(cli(env, "ls", "/Site/css"))["file"]] == ["a.css"]

    (local / "index.html").write_text("<h1>longer</h1>")  # other size: no hashing needed
    (local / "new.txt").unlink()
    done, summary = _actions(cli(env, "sync", "--delete", str(local), "/Site"))
    assert done == [("replace", "/Site/index.html"), ("delete", "/Site/new.txt")]
    assert summary["deleted"] == 1
    assert _actions(cli(env, "sync", "--delete", str(local), "/Site"))[0] == []


def test_sync_progress_when_asked(env: dict[str, str], tmp_path: Path) -> None:
    _tree(tmp_path / "p", {"x.txt": "x" * 2048, "y.txt": "y"})
    res = cli(env, "sync", "--progress", str(tmp_path / "p"), "/Prog")
    assert res.exit_code == 0, res.output
    err = res.stderr.splitlines()
    assert "/Prog/x.txt  2.0 KiB / 2.0 KiB  100%" in "\n".join(err)
    assert err[-1].startswith("total (2 files)  2.0 KiB / 2.0 KiB  100%")
    assert all(json.loads(x) for x in res.stdout.splitlines())  # stdout: only JSON


# -- profiles, end to end ------------------------------------------------------------------


def test_profile_from_the_config_file(server: LiveServer, token: str, tmp_path: Path) -> None:
    path = tmp_path / "config" / "atoll" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(f'[default]\nserver = "{server.url}"\ntoken = "{token}"\n'
                    f'[bad]\nserver = "{server.url}"\ntoken = "{"0" * 40}"\n')
    path.chmod(0o600)
    assert cli({}, "ls").exit_code == 0
    res = cli({"ATOLL_PROFILE": "bad"}, "ls")
    assert res.exit_code == Exit.AUTH
    assert f"check token of profile 'bad' in {path}" in res.stderr
    res = cli({"ATOLL_TOKEN": "1" * 40}, "ls")  # the environment beats the profile
    assert res.exit_code == Exit.AUTH and "check ATOLL_TOKEN" in res.stderr
    assert cli({"ATOLL_TOKEN": "1" * 40}, "ls", "--token", token).exit_code == 0


# -- Ctrl-C ---------------------------------------------------------------------------------


def _upload_and_interrupt(cmd: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Start ``cmd``, send SIGINT once its first progress line is out; (status, stdout, stderr)."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stderr is not None
    first = proc.stderr.readline()  # the 0-byte line: the upload has begun
    time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, first + err


def test_ctrl_c_exits_130_and_the_same_command_finishes(
    server: LiveServer, token: str, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    size = 96 * 1024 * 1024
    with big.open("wb") as f:
        f.truncate(size)  # sparse: quick to make, still 96 MiB to send
    state = tmp_path / "state"  # the resume store of this test alone
    env = {**os.environ, "ATOLL_SERVER": server.url, "ATOLL_TOKEN": token, "XDG_STATE_HOME": str(state)}
    cmd = [sys.executable, "-m", "atoll", "upload", "--replace", "--progress", str(big)]
    status, out, err = _upload_and_interrupt(cmd, env)
    if status == 0:
        pytest.skip("the upload finished before the interrupt arrived")
    assert status == 130 and status == Exit.INTERRUPTED, err
    assert out == ""
    assert err.splitlines()[-1] == "interrupted; run the same command again to resume"
    assert "Traceback" not in err
    kept = _server_offset(state / "atoll" / "uploads")

    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["size"] == size
    if offers_tus(server, token):
        assert kept is not None  # the interrupted upload left its resume entry
        if kept > 0:  # resumed: the first line starts at the server's offset, not at 0 bytes
            assert not again.stderr.startswith("big.bin  0 B /"), (kept, again.stderr[:200])


def _server_offset(store: Path) -> int | None:
    """The server's offset of the one upload recorded in the resume store (a tus HEAD), if any.
    On a loaded machine the interrupt can come before the server has kept any byte: then a
    resume rightly starts at 0."""
    entries = list(store.glob("*.json"))
    if len(entries) != 1:
        return None
    url = json.loads(entries[0].read_text())["upload_url"]
    r = httpx.head(url, headers={"Tus-Resumable": "1.0.0"})
    return int(r.headers["Upload-Offset"]) if r.status_code == 200 else None


def test_over_the_servers_limit_exits_6(tmp_path: Path) -> None:
    f = tmp_path / "big.txt"
    f.write_bytes(b"x" * 5000)
    with LiveServer(tmp_path / "data", env={"ATOLL_MAX_UPLOAD_BYTES": "4096"}) as small:
        env = {"ATOLL_SERVER": small.url, "ATOLL_TOKEN": small.create_token("Small")}
        for mode in ("--no-resumable", "--resumable"):
            res = cli(env, "upload", mode, str(f))
            assert res.exit_code == Exit.TOO_LARGE, (mode, res.stderr)
            assert res.stderr.startswith("Error: HTTP 413: "), res.stderr
