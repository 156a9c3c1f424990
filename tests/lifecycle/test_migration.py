"""Schema step 8 adds ``asset_refs`` and ``asset_trash``; ``atoll db upgrade`` across it computes
the references of the rows already there."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import delete, func, inspect, select, text

from atoll.cli import main
from atoll.db import schema
from atoll.db.migrations import ASSET_REFS_VERSION, current_version
from tests import services as test_services
from tests.backends import on_postgres_s3
from tests.lifecycle.conftest import Life, file_cell


def test_upgrade_to_step_8_backfills_references(life: Life) -> None:
    a = life.upload("a.txt", b"A")
    [row] = life.append({"F": [file_cell(a)], "P": [a]})
    engine = life.ctx.engine
    with engine.begin() as conn:  # back to step 7: neither table (nor step 9's blobs)
        conn.execute(text("DROP TABLE asset_refs"))
        conn.execute(text("DROP TABLE asset_trash"))
        conn.execute(text("DROP TABLE blobs"))
        v = schema.schema_version
        conn.execute(delete(v).where(v.c.version >= ASSET_REFS_VERSION))
    with engine.connect() as conn:
        assert current_version(conn) == ASSET_REFS_VERSION - 1 and not inspect(conn).has_table("asset_refs")
    settings = life.ctx.settings
    runner = CliRunner(env=test_services.moto().env if on_postgres_s3() else {})
    out = runner.invoke(main, ["db", "upgrade", "--data-dir", str(settings.data_dir),
                               "--db-url", settings.db_url, "--storage", settings.storage])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "computed the asset references of 1 tables" in out.output
    with engine.connect() as conn:
        assert inspect(conn).has_table("asset_trash")
        assert conn.execute(select(func.count()).select_from(schema.asset_refs)).scalar_one() == 2
    assert life.uses("files/2026-11/a.txt") == {("T", row, "F"), ("T", row, "P")}
