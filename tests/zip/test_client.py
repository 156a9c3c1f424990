"""``Base.download_zip`` (in process) and ``atoll zip`` against two server processes on one
data dir and database (the files uploaded through one, zipped through the other)."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import atoll
from atoll.cli import main
from atoll.client.exceptions import AtollHTTPError
from tests.client.cli_env import isolate
from tests.conftest import BASE_URL
from tests.live_server import two_processes
from tests.zip.conftest import COLUMNS, ZBase


def test_sdk_download_zip_with_progress(zbase: ZBase, tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    with atoll.Base(zbase.token, BASE_URL, http=zbase.client) as base:
        written = base.download_zip(
            "T",
            str(tmp_path / "out") + "/",
            column="Files",
            row_ids=[zbase.rows["alpha"]],
            template="{row_name}/{name}",
            progress=lambda d, t: seen.append((d, t)),
        )
        assert written == tmp_path / "out" / "T.zip"
        with zipfile.ZipFile(written) as z:
            assert sorted(z.namelist()) == ["alpha/a.txt", "alpha/b.bin", "manifest.json"]
            for name in ("alpha/a.txt", "alpha/b.bin"):
                data = z.read(name)
                assert zbase.blobs[hashlib.sha256(data).hexdigest()] == data
        assert seen and seen[-1][0] == written.stat().st_size and seen[-1][1] is None
        assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no temp left
        with pytest.raises(AtollHTTPError) as err:
            base.download_zip("Nope", tmp_path / "x.zip")
        assert err.value.status == 404 and not (tmp_path / "x.zip").exists()


def test_cli_zip_across_two_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(monkeypatch, tmp_path)
    with two_processes(tmp_path / "data") as (first, second):
        token = first.create_token("Zip")
        payloads = {f"f{i}.bin": os.urandom(1000 + i) for i in range(5)}
        with atoll.Base(token, first.url) as base:
            base.auth()
            base.add_table("T", "en", [{"column_name": c["column_name"], "column_type": c["column_type"]}
                                       for c in COLUMNS])  # fmt: skip
            for i, (name, data) in enumerate(payloads.items()):
                cell = base.upload_bytes_file(name, data)
                base.append_row("T", {"Name": f"row {i}", "Files": [cell]})
        out = tmp_path / "got.zip"
        env = {"ATOLL_SERVER": second.url, "ATOLL_TOKEN": token}
        res = CliRunner(env=env).invoke(main, ["zip", "T", "-o", str(out), "--template", "{row_name}/{name}",
                                               "--deflate", "--no-progress"])  # fmt: skip
        assert res.exit_code == 0, res.output
        summary = json.loads(res.stdout)
        assert summary["files"] == 5 and summary["skipped"] == 0 and summary["path"] == str(out)
        with zipfile.ZipFile(out) as z:
            assert z.testzip() is None
            got = {n.split("/", 1)[1]: z.read(n) for n in z.namelist() if n != "manifest.json"}
        assert got == payloads
        bad = CliRunner(env=env).invoke(main, ["zip", "T", "-o", str(tmp_path / "b.zip"), "--column", "Name"])
        assert bad.exit_code != 0 and "column invalid" in bad.output
