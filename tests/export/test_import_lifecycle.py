"""An import joins the rest of the asset lifecycle: identical content is stored once (blob
references, fsck clean), the imported rows' file cells are known references ("who uses this
file"), and the per-base quota holds (443, nothing left behind). copy_base obeys the quota too."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from sqlalchemy import func, select

from atoll.db import schema
from atoll.services import accounts
from atoll.services import fsck as fsck_service
from tests.accounts.conftest import PASSWORD, headers, sign_in
from tests.conftest import MakeApp
from tests.export.conftest import OLD_URL, blobs, counts, export, make_source, run_cli


def _refs_of(app_engine: object, dtable_uuid: str) -> int:
    r = schema.asset_refs
    with app_engine.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.execute(select(func.count()).select_from(r).where(r.c.dtable_uuid == dtable_uuid))
                   .scalar_one())


def test_an_import_beside_its_source_stores_no_byte_twice(tmp_path: Path, make_app: MakeApp) -> None:
    app = make_app(public_url=OLD_URL)
    src = make_source(app)
    archive = tmp_path / "base.tar"
    export(src, archive)
    stored_before, _ = blobs(app)
    with app.ctx.engine.connect() as conn:
        refs_before = dict(conn.execute(select(schema.blobs.c.key, schema.blobs.c.refs)).all())
    out = run_cli(["import", str(archive), "--as", "Copy"], app.ctx.settings)
    assert out.exit_code == 0, out.output
    assert blobs(app)[0] == stored_before  # every file's content was stored already
    with app.ctx.engine.connect() as conn:
        refs_after = dict(conn.execute(select(schema.blobs.c.key, schema.blobs.c.refs)).all())
        d = schema.dtables
        new_uuid = conn.execute(select(d.c.uuid).where(d.c.name == "Copy")).scalar_one()
    assert refs_after == {k: 2 * n for k, n in refs_before.items()}  # one more holder each
    report = anyio.run(lambda: fsck_service.fsck(app.ctx, verify_hashes=True))
    assert report.ok and not report.orphans, report
    assert _refs_of(app.ctx.engine, new_uuid) == _refs_of(app.ctx.engine, src.uuid) > 0


def test_an_import_over_the_quota_leaves_nothing(tmp_path: Path, make_app: MakeApp,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(public_url=OLD_URL)
    src = make_source(app)
    archive = tmp_path / "base.tar"
    export(src, archive)
    total = sum(len(b) for b in src.assets.values())
    small = make_app(public_url=OLD_URL)
    before, stored = counts(small.ctx), blobs(small)
    monkeypatch.setenv("ATOLL_BASE_QUOTA_BYTES", str(total - 1))  # the import command's setting
    out = run_cli(["import", str(archive), "--as", "Moved"], small.ctx.settings)
    assert out.exit_code != 0 and "Out of quota" in out.output, out.output
    assert counts(small.ctx) == before and blobs(small) == stored  # nothing left behind
    monkeypatch.setenv("ATOLL_BASE_QUOTA_BYTES", str(total))
    assert run_cli(["import", str(archive), "--as", "Moved"], small.ctx.settings).exit_code == 0


def test_copy_base_over_the_quota_is_refused(make_app: MakeApp) -> None:
    app = make_app(public_url=OLD_URL, base_quota_bytes=10)
    user = accounts.create_user(app.ctx.engine, "ann@example.com", PASSWORD)
    ws = user.personal_workspace_id
    token = sign_in(app.client, user.email)
    made = app.client.post("/api/v2.1/dtables/", data={"name": "Src", "owner": user.email},
                           headers=headers(token))
    assert made.status_code == 201, made.text
    with app.ctx.engine.begin() as conn:  # a base already holding more than the quota
        uuid = conn.execute(select(schema.dtables.c.uuid).where(schema.dtables.c.name == "Src")).scalar_one()
        conn.execute(schema.assets.insert().values(
            dtable_uuid=uuid, dir_path="/files", name="big.bin", blob_key="b" * 32, size=11,
            sha256="0" * 64, mtime="2026-12-01T00:00:00+00:00", uuid="00000000-0000-4000-8000-0000000000aa"))
    before = counts(app.ctx)
    resp = app.client.post("/api/v2.1/dtable-copy/", headers=headers(token),
                           data={"src_workspace_id": str(ws), "name": "Src", "dst_workspace_id": str(ws)})
    assert resp.status_code == 443 and "Out of quota" in resp.text, resp.text
    assert counts(app.ctx) == before
