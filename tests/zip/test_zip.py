"""The zip download over HTTP on both backends: archive validity (zipfile and ``unzip -t``),
bytes, manifest, naming template, view and row filters, bad parameters, other bases' tokens."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from atoll.services.access import create_api_token
from tests.conftest import MakeApp
from tests.zip.conftest import ZBase


def _open(r: Any) -> zipfile.ZipFile:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(r.content))


def _manifest(z: zipfile.ZipFile) -> list[dict[str, Any]]:
    assert z.namelist()[-1] == "manifest.json"
    files: list[dict[str, Any]] = json.loads(z.read("manifest.json"))["files"]
    return files


def test_table_zip_bytes_and_manifest(zbase: ZBase, tmp_path: Path) -> None:
    r = zbase.zip(table_name="T")
    z = _open(r)
    assert z.testzip() is None
    alpha, beta = zbase.rows["alpha"], zbase.rows["beta"]
    names = sorted(z.namelist())
    assert names == sorted([f"{alpha}/Files/a.txt", f"{alpha}/Files/b.bin", f"{alpha}/Pics/p.png",
                            f"{beta}/Files/a.txt", "manifest.json"])  # fmt: skip
    manifest = _manifest(z)
    kept = [m for m in manifest if "skipped" not in m]
    for m in kept:
        data = z.read(m["path"])
        assert hashlib.sha256(data).hexdigest() == m["sha256"] and len(data) == m["size"]
        assert zbase.blobs[m["sha256"]] == data  # byte-identical to the upload
    assert {(m["row_id"], m["column"], m["name"]) for m in kept} == {
        (alpha, "Files", "a.txt"),
        (alpha, "Files", "b.bin"),
        (alpha, "Pics", "p.png"),
        (beta, "Files", "a.txt"),
    }
    skipped = {m["name"]: m["skipped"] for m in manifest if "skipped" in m}
    assert skipped == {"far.pdf": "not a file of this base", "gone.txt": "file not found"}
    if shutil.which("unzip"):
        (tmp_path / "t.zip").write_bytes(r.content)
        out = subprocess.run(["unzip", "-t", str(tmp_path / "t.zip")], capture_output=True, text=True)
        assert out.returncode == 0 and "No errors detected" in out.stdout, out.stdout + out.stderr


def test_template_names_are_safe_and_unique(zbase: ZBase) -> None:
    z = _open(zbase.zip(table_name="T", column="Files", template="{column}/same.txt"))
    assert sorted(n for n in z.namelist() if n != "manifest.json") == [
        "Files/same (1).txt",
        "Files/same (2).txt",
        "Files/same.txt",
    ]
    z = _open(zbase.zip(table_name="T", template="{name}"))  # a file named like the manifest
    assert len(set(z.namelist())) == len(z.namelist()) == 5
    z = _open(zbase.zip(table_name="T", template="{row_name}-{name}", column="Files"))
    assert {"alpha-a.txt", "alpha-b.bin", "beta-a.txt"} <= set(z.namelist())
    zbase.add_row({"Name": "../../etc/x", "Files": [zbase.file_cell("x", b"dots")]})
    zbase.add_row({"Name": "..", "Files": [zbase.file_cell("y", b"dots")]})
    z = _open(zbase.zip(table_name="T", template="{row_name}/{name}", column="Files"))
    assert ".._.._etc_x/x" in z.namelist() and "_/y" in z.namelist(), z.namelist()
    assert not [n for n in z.namelist() if ".." in n.split("/") or n.startswith("/")]


def test_view_filter_and_row_ids(zbase: ZBase) -> None:
    zbase.gw("POST", "/views/", json={"table_name": "T", "name": "OnlyA"})
    filters = [{"column_name": "Kind", "filter_predicate": "is", "filter_term": "a"}]
    zbase.gw("PUT", "/views/OnlyA/?table_name=T", json={"filters": filters})
    manifest = _manifest(_open(zbase.zip(table_name="T", view_name="OnlyA")))
    assert {m["row_id"] for m in manifest} == {zbase.rows["alpha"], zbase.rows["gamma"]}
    manifest = _manifest(_open(zbase.zip(table_name="T", row_ids=f"{zbase.rows['beta']}")))
    assert [(m["row_id"], m["name"]) for m in manifest] == [(zbase.rows["beta"], "a.txt")]
    both = _manifest(_open(zbase.zip(table_name="T", view_name="OnlyA", row_ids=zbase.rows["beta"])))
    assert both == []  # beta is not in the view


def test_deflate_and_gateway_variant(zbase: ZBase) -> None:
    r = zbase.client.get(f"/api-gateway/api/v2/dtables/{zbase.uuid}/zip/",
                         params={"table_name": "T", "compression": "deflate"},
                         headers={"Authorization": f"Token {zbase.access}"})  # fmt: skip
    z = _open(r)
    infos = [i for i in z.infolist() if i.filename != "manifest.json"]
    assert infos and all(i.compress_type == zipfile.ZIP_DEFLATED for i in infos)
    assert z.testzip() is None
    b = next(i for i in infos if i.filename.endswith("b.bin"))
    assert b.compress_size < b.file_size  # the repetitive file shrank


@pytest.mark.parametrize(("params", "needle"), [
    ({}, "table_name"),
    ({"table_name": "Nope"}, "Nope"),
    ({"table_name": "T", "view_name": "Nope"}, "Nope"),
    ({"table_name": "T", "column": "Kind"}, "column invalid"),
    ({"table_name": "T", "column": "Nope"}, "column invalid"),
    ({"table_name": "T", "template": "{row}/{size}"}, "template invalid"),
    ({"table_name": "T", "template": "{row.__class__}"}, "template invalid"),
    ({"table_name": "T", "template": "{"}, "template invalid"),
    ({"table_name": "T", "row_ids": "x" * 23}, "row_ids invalid"),
    ({"table_name": "T", "compression": "bzip2"}, "compression invalid"),
])  # fmt: skip
def test_bad_params_are_400(zbase: ZBase, params: dict[str, str], needle: str) -> None:
    r = zbase.zip(**params)
    assert r.status_code in (400, 404), r.text
    assert needle in r.text
    assert r.headers["content-type"].startswith("application/json")


def test_other_bases_token_is_403(zbase: ZBase, make_app: MakeApp) -> None:
    other = create_api_token(zbase.ctx.engine, base="Other")
    r = zbase.client.get("/api/v2.1/dtable/app-zip/", params={"table_name": "T"},
                         headers={"Authorization": f"Token {other.token}"})  # fmt: skip
    assert r.status_code == 404 or r.status_code == 403  # its own base has no table T
    at = zbase.client.get(
        "/api/v2.1/dtable/app-access-token/", headers={"Authorization": f"Token {other.token}"}
    )
    r = zbase.client.get(f"/api-gateway/api/v2/dtables/{zbase.uuid}/zip/", params={"table_name": "T"},
                         headers={"Authorization": f"Token {at.json()['access_token']}"})  # fmt: skip
    assert r.status_code == 403, r.text
    assert zbase.zip(token="0" * 40, table_name="T").status_code == 403


def test_cells_of_another_base_are_skipped_not_fetched(zbase: ZBase) -> None:
    other = create_api_token(zbase.ctx.engine, base="Other")
    link = zbase.client.get(
        "/api/v2.1/dtable/app-upload-link/", headers={"Authorization": f"Token {other.token}"}
    )
    link_json = link.json()
    r = zbase.client.post(link_json["upload_link"] + "?ret-json=1",
                          data={"parent_dir": link_json["parent_path"], "relative_path": "files/x"},
                          files={"file": ("secret.txt", b"other base's secret")})  # fmt: skip
    assert r.status_code == 200
    url = f"http://testserver/workspace/{other.dtable.workspace_id}/asset/{other.dtable.uuid}/files/x/secret.txt"
    zbase.add_row(
        {"Name": "delta", "Files": [{"type": "file", "name": "secret.txt", "size": 19, "url": url}]}
    )
    z = _open(zbase.zip(table_name="T", row_ids=zbase.rows["delta"]))
    assert z.namelist() == ["manifest.json"]
    assert _manifest(z)[0]["skipped"] == "not a file of this base"


def test_rows_are_read_page_by_page(zbase: ZBase, monkeypatch: pytest.MonkeyPatch) -> None:
    from atoll.services import zip_download

    for i in range(4):
        zbase.add_row({"Name": f"extra{i}", "Files": [zbase.file_cell(f"e{i}.txt", f"extra {i}".encode())]})
    whole = _manifest(_open(zbase.zip(table_name="T")))
    monkeypatch.setattr(zip_download, "ZIP_PAGE_ROWS", 2)  # 7 rows: pages of 2, 2, 2, 1
    paged = _open(zbase.zip(table_name="T"))
    assert _manifest(paged) == whole and len(whole) == 10
    assert paged.read(f"{zbase.rows['extra3']}/Files/e3.txt") == b"extra 3"
