"""Migration step 5 adds ``row_links`` to a database at step 4 (and its second index); step 6
adds ``live_events``."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, inspect, text

from atoll.db import schema
from atoll.db.engine import make_engine
from atoll.db.migrations import LATEST, current_version, migrate


def test_steps_5_and_6_add_row_links_and_live_events(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'atoll.sqlite3'}")
    try:
        migrate(engine)
        with engine.begin() as conn:  # back to step 4: no row_links
            conn.execute(text("DROP TABLE row_links"))
            conn.execute(text("DROP TABLE live_events"))
            for table in ("workspace_members", "account_tokens", "login_attempts", "users"):
                conn.execute(text(f"DROP TABLE {table}"))  # step 7 (accounts)
            conn.execute(delete(schema.schema_version).where(schema.schema_version.c.version > 4))
        with engine.connect() as conn:
            assert current_version(conn) == 4 and not inspect(conn).has_table("row_links")
        assert migrate(engine) == (4, LATEST)
        with engine.connect() as conn:
            assert inspect(conn).has_table("row_links") and inspect(conn).has_table("live_events")
            indexes = {i["name"] for i in inspect(conn).get_indexes("row_links")}
            assert "ix_row_links_other" in indexes
            pk = inspect(conn).get_pk_constraint("row_links")["constrained_columns"]
            assert pk == ["dtable_uuid", "link_id", "row_id", "other_row_id"]
    finally:
        engine.dispose()
