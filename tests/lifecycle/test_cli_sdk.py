"""The SDK methods and the CLI commands for references and the trash, against a live server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from atoll.cli import main
from atoll.client import Base
from atoll.client.exceptions import AuthError, NotFoundError
from tests.client.cli_env import isolate
from tests.live_server import LiveServer

COLUMNS = [{"column_name": "Name", "column_type": "text"}, {"column_name": "F", "column_type": "file"}]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("lifecycle-cli") / "data") as srv:
        yield srv


def cli(server: LiveServer, token: str, *args: str) -> Result:
    return CliRunner(env={"ATOLL_SERVER": server.url, "ATOLL_TOKEN": token}).invoke(main, list(args))


def lines(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    return [json.loads(x) for x in result.stdout.splitlines()]


def test_sdk_refs_trash_restore(server: LiveServer) -> None:
    token = server.create_token("Sdk")
    ro = server.create_token("Sdk", permission="r")
    with Base(token, server.url) as base, Base(ro, server.url) as reader:
        base.auth()
        reader.auth()
        base.add_table("T", columns=COLUMNS)
        cell = base.upload_bytes_file("r.txt", b"report")
        path = cell["url"].split(str(base.dtable_uuid))[-1].strip("/")
        row = base.append_row("T", {"Name": "x", "F": [cell]})
        refs = base.get_asset_refs(path)
        assert refs["total"] == 1 and refs["refs"][0]["row_id"] == row["_id"]
        assert refs["refs"][0]["column_name"] == "F" and refs["refs"][0]["table_name"] == "T"
        with pytest.raises(AuthError):
            reader.delete_asset(path)
        assert base.delete_asset(path) == {"success": True}
        with pytest.raises(NotFoundError):
            base.delete_asset(path)
        [entry] = reader.list_asset_trash()["trash"]
        assert entry["path"] == path and base.get_asset_refs(path)["trashed"] is True
        with pytest.raises(AuthError):
            reader.restore_asset(entry["id"])
        assert base.restore_asset(entry["id"])["renamed"] is False
        assert base.get_file_download_link(path)
        with pytest.raises(NotFoundError):
            base.restore_asset(entry["id"])
        with pytest.raises(NotFoundError):
            base.get_asset_refs("files/2026-01/none.txt")


def test_cli_refs_trash_restore(server: LiveServer, tmp_path: Path) -> None:
    token = server.create_token("Cli")
    with Base(token, server.url) as base:
        base.auth()
        base.add_table("T", columns=COLUMNS)
        base.create_custom_folder("/Main")
    local = tmp_path / "notes.txt"
    local.write_bytes(b"some notes")
    [cell] = lines(cli(server, token, "upload", str(local), "--folder", "/Main"))
    with Base(token, server.url) as base:
        base.auth()
        row = base.append_row("T", {"F": [cell]})
    [used] = lines(cli(server, token, "refs", "/Main/notes.txt"))
    assert used["path"] == "custom/Main/notes.txt" and [r["row_id"] for r in used["refs"]] == [row["_id"]]
    assert lines(cli(server, token, "rm", "/Main/notes.txt")) == [{"deleted": "/Main/notes.txt"}]
    [entry] = lines(cli(server, token, "trash", "list"))
    assert entry["path"] == "custom/Main/notes.txt" and entry["size"] == len(b"some notes")
    [used] = lines(cli(server, token, "refs", "/Main/notes.txt"))
    assert used["trashed"] is True and used["total"] == 1
    [back] = lines(cli(server, token, "trash", "restore", "/Main/notes.txt"))
    assert back == {"success": True, "path": "custom/Main/notes.txt", "name": "notes.txt", "renamed": False}
    out = tmp_path / "back.txt"
    assert cli(server, token, "download", "/Main/notes.txt", "-o", str(out)).exit_code == 0
    assert out.read_bytes() == b"some notes"
    missing = cli(server, token, "refs", "/Main/none.txt")
    assert missing.exit_code == 4, missing.output
    assert cli(server, token, "trash", "restore", str(entry["id"])).exit_code == 4  # restored already
