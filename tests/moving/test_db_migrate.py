"""``atoll db migrate|upgrade|status``: SQLite -> PostgreSQL -> SQLite with real data."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, func, select

from atoll.cli import main
from atoll.db import copy, schema
from atoll.db.engine import make_engine
from atoll.db.migrations import LATEST, STEPS, migrate
from atoll.services import access
from tests.moving.fakes import FakeStore
from tests.moving.seed import Seeded, context_on, seed
from tests.services import postgres


def atoll(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def source(tmp_path: Path) -> tuple[str, Seeded]:
    url = sqlite_url(tmp_path / "src.sqlite3")
    engine = make_engine(url)
    migrate(engine)
    return url, anyio.run(seed, engine, FakeStore())


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in copy.data_tables()}


def test_status_and_upgrade(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "new.sqlite3")
    assert f"schema version 0, this atoll's {LATEST}" in atoll("db", "status", "--db-url", url).output
    out = atoll("db", "upgrade", "--db-url", url)
    assert out.exit_code == 0 and f"upgraded schema version 0 -> {LATEST}" in out.output
    assert f"already at schema version {LATEST}" in atoll("db", "upgrade", "--db-url", url).output
    assert "up to date" in atoll("db", "status", "--db-url", url).output


def test_upgrade_from_the_first_version(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "v1.sqlite3")
    with make_engine(url).begin() as conn:
        STEPS[0][1](conn)
        conn.execute(schema.schema_version.insert().values(version=1, applied_at="then"))
    assert "behind: run `atoll db upgrade`" in atoll("db", "status", "--db-url", url).output
    refused = CliRunner().invoke(main, ["db", "migrate", "--db-url", url, "--to",
                                        sqlite_url(tmp_path / "t.sqlite3")])
    assert refused.exit_code == 1 and "run `atoll db upgrade`" in refused.output
    assert f"upgraded schema version 1 -> {LATEST}" in atoll("db", "upgrade", "--db-url", url).output


def test_round_trip_sqlite_postgres_sqlite(source: tuple[str, Seeded], tmp_path: Path) -> None:
    src_url, seeded = source
    pg_url = postgres().new_url()
    out = atoll("db", "migrate", "--db-url", src_url, "--to", pg_url, "--verify")
    assert out.exit_code == 0, out.output
    assert f"ATOLL_DB_URL={pg_url}" in out.output and "MISMATCH" not in out.output
    src, pg = make_engine(src_url), make_engine(pg_url)
    assert counts(pg) == counts(src) and counts(src)["rows"] > 0 and counts(src)["assets"] > 0
    assert all(c.ok for c in copy.compare(src, pg))

    # Sequences were reset: new rows on PostgreSQL get fresh ids instead of colliding.
    created = access.create_api_token(pg, base="Gamma", workspace="Other", permission="r", app_name="x")
    on_pg = context_on(pg, FakeStore())
    assert anyio.run(access.authenticate_api_token, on_pg, created.token).dtable.name == "Gamma"
    with pg.begin() as conn:
        top = conn.execute(select(func.max(schema.asset_dirs.c.id))).scalar_one()
        new_id = conn.execute(schema.asset_dirs.insert().values(
            dtable_uuid=created.dtable.uuid, path="/", created_at="now")).inserted_primary_key
        assert new_id is not None and new_id[0] == top + 1
        asset = conn.execute(schema.assets.insert().values(
            dtable_uuid=created.dtable.uuid, dir_path="/", name="new.txt", blob_key="a" * 32, size=1,
            sha256="0" * 64, mtime="now", uuid="u-new")).inserted_primary_key
        assert asset is not None and asset[0] == len(seeded.files) + 1
    for token in seeded.tokens:  # the copied tokens work against PostgreSQL
        anyio.run(access.authenticate_api_token, on_pg, token)

    back_url = sqlite_url(tmp_path / "back.sqlite3")
    out = atoll("db", "migrate", "--db-url", pg_url, "--to", back_url, "--verify")
    assert out.exit_code == 0, out.output
    back = make_engine(back_url)
    assert all(c.ok for c in copy.compare(pg, back))
    assert counts(back)["dtables"] == len(seeded.tokens) + 1


def test_resume_after_partial_copy(source: tuple[str, Seeded]) -> None:
    src_url, _ = source
    pg_url = postgres().new_url()
    src, pg = make_engine(src_url), make_engine(pg_url)
    copy.prepare(src, pg)

    class Interrupted(Exception):
        pass

    def stop_in_rows(table: str, done: int, total: int) -> None:
        if table == "rows":
            raise Interrupted

    with pytest.raises(Interrupted):
        copy.copy_all(src, pg, batch=10, progress=stop_in_rows)
    partial = counts(pg)
    assert 0 < partial["rows"] < counts(src)["rows"]

    out = atoll("db", "migrate", "--db-url", src_url, "--to", pg_url, "--verify")
    assert out.exit_code == 0, out.output
    assert f"rows: {counts(src)['rows']} rows ({counts(src)['rows'] - partial['rows']} copied, " \
           f"{partial['rows']} already there)" in out.output
    assert counts(pg) == counts(src)


def test_refuses_a_foreign_target(source: tuple[str, Seeded], tmp_path: Path) -> None:
    src_url, _ = source
    other_url = sqlite_url(tmp_path / "other.sqlite3")
    other = make_engine(other_url)
    migrate(other)
    access.create_api_token(other, base="Theirs", workspace="Elsewhere", permission="rw", app_name="x")
    before = counts(other)
    out = CliRunner().invoke(main, ["db", "migrate", "--db-url", src_url, "--to", other_url])
    assert out.exit_code == 1
    assert "rows the source lacks" in out.output and "another installation" in out.output
    assert counts(other) == before


def test_refuses_a_target_row_that_differs(source: tuple[str, Seeded]) -> None:
    src_url, _ = source
    pg_url = postgres().new_url()
    assert atoll("db", "migrate", "--db-url", src_url, "--to", pg_url).exit_code == 0
    pg = make_engine(pg_url)
    with pg.begin() as conn:
        conn.execute(schema.dtables.update().where(schema.dtables.c.name == "Alpha").values(name="Renamed"))
    out = CliRunner().invoke(main, ["db", "migrate", "--db-url", src_url, "--to", pg_url])
    assert out.exit_code == 1 and "same key but other values" in out.output and "dtables" in out.output


def test_source_must_be_current(tmp_path: Path) -> None:
    old = sqlite_url(tmp_path / "old.sqlite3")
    make_engine(old).dispose()
    out = CliRunner().invoke(main, ["db", "migrate", "--db-url", old, "--to",
                                    sqlite_url(tmp_path / "t.sqlite3")])
    assert out.exit_code == 1 and "atoll db upgrade" in out.output


def test_refuses_a_target_with_another_schema_version(source: tuple[str, Seeded], tmp_path: Path) -> None:
    src_url, _ = source
    old = sqlite_url(tmp_path / "v1.sqlite3")
    with make_engine(old).begin() as conn:
        STEPS[0][1](conn)
        conn.execute(schema.schema_version.insert().values(version=1, applied_at="then"))
    out = CliRunner().invoke(main, ["db", "migrate", "--db-url", src_url, "--to", old])
    assert out.exit_code == 1 and "already has a schema (version 1" in out.output
    with make_engine(old).connect() as conn:  # left untouched: not upgraded
        assert conn.execute(select(func.max(schema.schema_version.c.version))).scalar_one() == 1


def test_bad_or_unreachable_target(source: tuple[str, Seeded]) -> None:
    src_url, _ = source
    bad = CliRunner().invoke(main, ["db", "migrate", "--db-url", src_url, "--to", "mysql://x/y"])
    assert bad.exit_code == 2 and "--to:" in bad.output
    down = CliRunner().invoke(main, ["db", "migrate", "--db-url", src_url, "--to",
                                     "postgresql://postgres@127.0.0.1:1/postgres"])  # nothing on port 1
    assert down.exit_code == 1 and "cannot be reached" in down.output
