"""export -> import: the same tables, rows, links, folders and byte-identical files, with asset
URLs moved to the new server and base; on the same backend and across backends."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

from sqlalchemy import select

from atoll.config import Settings
from atoll.db import rows as rq
from atoll.db import schema
from atoll.services.access import create_api_token
from atoll.wire.links import canonical_uuid
from tests.conftest import App, MakeApp
from tests.export.conftest import NEW_URL, OLD_URL, Source, export, make_source, run_cli, sha
from tests.services import moto, postgres


def _doc_and_rows(
    app: App, uuid: str
) -> tuple[dict[str, Any], dict[str, dict[str, Any]], set[tuple[str, ...]]]:
    with app.ctx.engine.connect() as conn:
        doc = rq.load_doc(conn, uuid).doc
        found = {r.row_id: r.data for t in doc["tables"] for r in rq.iter_rows(conn, uuid, t["_id"])}
        links = {
            tuple(r[1:])
            for r in conn.execute(
                select(schema.row_links).where(schema.row_links.c.dtable_uuid == uuid)
            ).all()
        }
    return doc, found, links


def _imported_uuid(app: App, name: str, workspace: str) -> str:
    with app.ctx.engine.connect() as conn:
        d, w = schema.dtables, schema.workspaces
        return str(
            conn.execute(
                select(d.c.uuid)
                .join(w, w.c.id == d.c.workspace_id)
                .where(d.c.name == name, w.c.name == workspace)
            ).scalar_one()
        )


def _download(app: App, token: str, path: str) -> bytes:
    r = app.client.get(
        "/api/v2.1/dtable/app-download-link/",
        params={"path": path},
        headers={"Authorization": f"Token {token}"},
    )
    assert r.status_code == 200, r.text
    got = app.client.get(r.json()["download_link"])
    assert got.status_code == 200
    return got.content


def _custom_download(app: App, token: str, path: str) -> bytes:
    r = app.client.get(
        "/api/v2.1/dtable/custom/app-download-link",
        params={"path": path},
        headers={"Authorization": f"Token {token}"},
    )
    assert r.status_code == 200, r.text
    return app.client.get(r.json()["download_link"]).content


def check_import(src: Source, dst: App, name: str, workspace: str) -> None:
    new_uuid = _imported_uuid(dst, name, workspace)
    token = create_api_token(dst.ctx.engine, base=name, workspace=workspace).token
    for path, data in src.assets.items():
        if path.startswith("custom/"):
            got = _custom_download(dst, token, path.removeprefix("custom"))
        else:
            got = _download(dst, token, path)
        assert sha(got) == sha(data), path  # byte-identical
    old_doc, old_rows, old_links = _doc_and_rows(src.app, src.uuid)
    new_doc, new_rows, new_links = _doc_and_rows(dst, new_uuid)
    assert new_doc == old_doc and new_links == old_links and len(new_rows) == len(old_rows) == 33
    with dst.ctx.engine.connect() as conn:
        new_ws = conn.execute(
            select(schema.dtables.c.workspace_id).where(schema.dtables.c.uuid == new_uuid)
        ).scalar_one()
    old_part = f"{OLD_URL}/workspace/{src.workspace_id}/asset/{canonical_uuid(src.uuid)}/"
    new_part = f"{NEW_URL}/workspace/{new_ws}/asset/{canonical_uuid(new_uuid)}/"
    for row_id, old in old_rows.items():
        expected = json.loads(json.dumps(old).replace(old_part, new_part))
        new = new_rows[row_id]
        old_custom = src.custom_url
        for key, value in expected.items():
            if isinstance(value, list) and any(
                isinstance(v, dict) and v.get("url") == old_custom for v in value
            ):
                moved = [v["url"] for v in new[key] if v["url"].startswith("custom-asset://")]
                assert moved and moved[0] != old_custom  # the copy's own uuid
                info = dst.client.get(
                    "/api/v2.1/dtable/custom/app-asset-file/",
                    params={"path": "/Main", "name": "notes.md"},
                    headers={"Authorization": f"Token {token}"},
                ).json()["dirent"]
                assert moved[0] == f"custom-asset://{info['uuid']}.md"
                new = {**new, key: [v for v in new[key] if v["url"] != moved[0]]}
                expected[key] = [v for v in value if v.get("url") != old_custom]
        assert new == expected
    text = json.dumps(new_rows)
    assert old_part not in text and new_part in text and "https://elsewhere.example/kept.png" in text


def test_round_trip_same_backend(tmp_path: Path, make_app: MakeApp) -> None:
    app = make_app(public_url=OLD_URL)
    src = make_source(app)
    archive = tmp_path / "base.tar"
    export(src, archive)
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert names[0] == "base.json" and names[-1] == "manifest.json" and "assets/000001.jsonl" in names
    dst = make_app(public_url=NEW_URL)
    out = run_cli(["import", str(archive), "--as", "Moved", "--workspace", "Elsewhere"], dst.ctx.settings)
    assert out.exit_code == 0, out.output
    assert "33 rows, 3 links, 5 files" in out.output and "not imported" not in out.output
    check_import(src, dst, "Moved", "Elsewhere")
    # the same archive again, into the source installation: a second copy beside the original
    again = run_cli(["import", str(archive), "--as", "Copy"], app.ctx.settings, public_url=NEW_URL)
    assert again.exit_code == 0, again.output
    check_import(src, app, "Copy", "Team")
    clash = run_cli(["import", str(archive), "--as", "Copy"], app.ctx.settings)
    assert clash.exit_code != 0 and "already has a base 'Copy'" in clash.output


def test_round_trip_sqlite_local_to_postgres_s3(tmp_path: Path, make_app: MakeApp) -> None:
    local = Settings.load(environ={}, data_dir=tmp_path / "one", public_url=OLD_URL)
    app = make_app(settings=local)
    src = make_source(app)
    archive = tmp_path / "base.tar"
    export(src, archive)
    scaled = Settings.load(
        environ=moto().env,
        data_dir=tmp_path / "two",
        public_url=NEW_URL,
        db_url=postgres().new_url(),
        storage=moto().new_storage_url(),
    )
    dst = make_app(settings=scaled)
    from click.testing import CliRunner

    from atoll.cli import main
    from tests.export.conftest import backend_args

    out = CliRunner().invoke(
        main,
        ["import", str(archive), *backend_args(scaled)],
        env={**moto().env, "ATOLL_PUBLIC_URL": NEW_URL},
        catch_exceptions=False,
    )
    assert out.exit_code == 0, out.output
    check_import(src, dst, "Projects", "Team")


def test_export_to_a_pipe_and_import_from_one(make_app: MakeApp) -> None:
    """``-o -`` writes the archive to standard output (the summary goes to stderr); ``import -``
    reads it from standard input: nothing on disk in between."""
    app = make_app(public_url=OLD_URL)
    src = make_source(app)
    out = run_cli(["export", src.uuid, "-o", "-"], app.ctx.settings)
    assert out.exit_code == 0, out.stderr
    assert out.stdout_bytes[257:262] == b"ustar" and "exported Projects" in out.stderr
    dst = make_app(public_url=NEW_URL)
    got = run_cli(["import", "-", "--as", "Piped"], dst.ctx.settings, input=out.stdout_bytes)
    assert got.exit_code == 0, got.output
    check_import(src, dst, "Piped", "Team")
