"""What export refuses: an unknown or ambiguous base, and a damaged blob (the archive would carry
wrong bytes); a refused export leaves no partial file."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from atoll.db import schema
from atoll.services.access import create_api_token
from tests.conftest import App, MakeApp
from tests.export.conftest import OLD_URL, make_source, run_cli


async def _overwrite(app: App, key: str, data: bytes) -> None:
    writer = await app.ctx.blobs.create(key)
    await writer.write(data)
    await writer.commit()


def test_unknown_and_ambiguous_bases(tmp_path: Path, make_app: MakeApp) -> None:
    app = make_app()
    create_api_token(app.ctx.engine, base="Same", workspace="One")
    create_api_token(app.ctx.engine, base="Same", workspace="Two")
    out = tmp_path / "x.tar"
    unknown = run_cli(["export", "Nope", "-o", str(out)], app.ctx.settings)
    assert unknown.exit_code != 0 and "no base 'Nope'" in unknown.output and not out.exists()
    both = run_cli(["export", "Same", "-o", str(out)], app.ctx.settings)
    assert both.exit_code != 0 and "--workspace" in both.output and not out.exists()
    one = run_cli(["export", "Same", "--workspace", "Two", "-o", str(out)], app.ctx.settings)
    assert one.exit_code == 0, one.output
    assert out.stat().st_size > 0


def test_damaged_blob_stops_the_export(tmp_path: Path, make_app: MakeApp) -> None:
    app = make_app(public_url=OLD_URL)
    src = make_source(app)
    with app.ctx.engine.connect() as conn:
        key = conn.execute(
            select(schema.assets.c.blob_key).where(schema.assets.c.name == "report.pdf")
        ).scalar_one()
    app.client.portal.call(_overwrite, app, key, b"not the report")  # type: ignore[union-attr]
    out = tmp_path / "base.tar"
    got = run_cli(["export", src.uuid, "-o", str(out)], app.ctx.settings)
    assert got.exit_code != 0 and "atoll fsck --verify-hashes" in got.output
    assert not out.exists()  # no partial archive
