"""SeaTable's .dtable file -> an atoll base: tables, columns, rows, views, links and assets;
what cannot come along is listed; hostile zips are refused with nothing left behind."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from atoll.db import rows as rq
from atoll.db import schema
from atoll.services.access import create_api_token
from tests.conftest import MakeApp
from tests.export.conftest import NEW_URL, blobs, counts, run_cli, sha
from tests.export.dtable_fixture import ASSETS, content, write_dtable
from tests.export.test_roundtrip import _custom_download, _download, _imported_uuid


def test_dtable_import(tmp_path: Path, make_app: MakeApp) -> None:
    app = make_app(public_url=NEW_URL)
    out = run_cli(["import", str(write_dtable(tmp_path / "Sales Pipeline.dtable"))], app.ctx.settings)
    assert out.exit_code == 0, out.output
    assert "imported base 'Sales Pipeline'" in out.output
    assert "2 tables, 4 rows, 3 links, 3 files" in out.output
    for needle in (
        "column 'Signature pad': type 'signature-pad-plugin' is not supported",
        "formula column 'Weird': atoll refuses its formula",
        "forms.json: forms",
        "auto_rules.json: automation rules",
        "plugin settings (gallery)",
        "view 'Default View': sorts on columns not imported were dropped",
        "asset/files/2020-01/gone.txt: referenced by a cell but not in the file",
    ):
        assert needle in out.output, out.output
    uuid = _imported_uuid(app, "Sales Pipeline", "Default")
    token = create_api_token(app.ctx.engine, base="Sales Pipeline").token
    for name, data in ASSETS.items():
        path = name.removeprefix("asset/")
        got = (
            _custom_download(app, token, path.removeprefix("custom"))
            if path.startswith("custom/")
            else _download(app, token, path)
        )
        assert sha(got) == sha(data)
    with app.ctx.engine.connect() as conn:
        doc = rq.load_doc(conn, uuid).doc
        ws = conn.execute(
            select(schema.dtables.c.workspace_id).where(schema.dtables.c.uuid == uuid)
        ).scalar_one()
        tasks = doc["tables"][0]
        rows = {r.row_id: r for r in rq.iter_rows(conn, uuid, "0000")}
        links = conn.execute(
            select(schema.row_links.c.row_id, schema.row_links.c.other_row_id).where(
                schema.row_links.c.dtable_uuid == uuid
            )
        ).all()
    assert [c["name"] for c in tasks["columns"]] == [
        "Name",
        "Count",
        "Doc",
        "Photo",
        "Notes",
        "Owner",
        "Double",
    ]
    assert [v["name"] for v in tasks["views"]] == ["Default View", "Board"]
    assert tasks["views"][0]["sorts"] == [{"column_key": "n1", "sort_type": "up"}]
    assert tasks["views"][0]["hidden_columns"] == ["l1"]
    first = rows["AAAAAAAAAAAAAAAAAAAAAA"]
    base_url = f"{NEW_URL}/workspace/{ws}/asset/{uuid}"
    assert first.data["f1"][0]["url"] == f"{base_url}/files/2020-01/README.md"
    assert first.data["i1"] == [f"{base_url}/images/2020-01/a%20photo.png", "https://elsewhere.example/x.png"]
    assert first.data["l1"]["text"] == f"look ![]({base_url}/images/2020-01/a%20photo.png)"
    assert first.data["fx"] == 4 and "zz" not in first.data and "fz" not in first.data
    assert first.creator == "ada@example.com" and first.ctime.startswith("2024-01-02T03:04:05")
    assert rows["BBBBBBBBBBBBBBBBBBBBBB"].data["fx"] == 10
    assert sorted(links) == [
        ("AAAAAAAAAAAAAAAAAAAAAA", "PPPPPPPPPPPPPPPPPPPPP1"),
        ("AAAAAAAAAAAAAAAAAAAAAA", "PPPPPPPPPPPPPPPPPPPPP2"),
        ("BBBBBBBBBBBBBBBBBBBBBB", "PPPPPPPPPPPPPPPPPPPPP2"),
    ]


def _refused(app: object, path: Path, needle: str) -> None:
    before, files = counts(app.ctx), blobs(app)  # type: ignore[attr-defined]
    out = run_cli(["import", str(path), "--as", "Hostile"], app.ctx.settings)  # type: ignore[attr-defined]
    assert out.exit_code != 0 and needle in out.output, out.output
    assert counts(app.ctx) == before and blobs(app) == files  # type: ignore[attr-defined]


def test_hostile_dtable_members_are_refused(tmp_path: Path, make_app: MakeApp) -> None:
    app = make_app()
    for i, name in enumerate(("asset/../../escape.txt", "/abs/path.txt")):
        _refused(
            app, write_dtable(tmp_path / f"bad{i}.dtable", extra={name: b"x"}), "outside the base's files"
        )
    link = tmp_path / "link.dtable"
    write_dtable(link)
    with zipfile.ZipFile(link, "a") as zf:
        info = zipfile.ZipInfo("asset/files/2020-01/passwd")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    _refused(app, link, "a symbolic link")


@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_damaged_dtable_asset_is_refused_after_other_assets_were_stored(
    tmp_path: Path, make_app: MakeApp, compression: int
) -> None:
    """A flipped bit in the last asset: the deflate stream breaks, or (stored) the zip's CRC-32
    no longer matches; the two assets stored before it are removed again."""
    app = make_app()
    path = write_dtable(tmp_path / "crc.dtable", compression=compression)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("asset/custom/Main/custom.txt")  # the last asset: two are stored before it
    raw[info.header_offset + 30 + len(info.filename) + len(info.extra) + 3] ^= 0x10
    path.write_bytes(bytes(raw))
    _refused(app, path, "custom.txt")


def test_dtable_without_content_is_refused(tmp_path: Path, make_app: MakeApp) -> None:
    app = make_app()
    path = tmp_path / "empty.dtable"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("asset/files/a.txt", b"a")
    _refused(app, path, "no content.json")


def test_dtable_with_a_row_id_twice_is_refused(tmp_path: Path, make_app: MakeApp) -> None:
    app = make_app()
    body = content()
    rows = body["tables"][1]["rows"]
    rows.append(dict(rows[0]))
    _refused(app, write_dtable(tmp_path / "twice.dtable", body=body), "the same row id twice")
