"""Bulk row writes refresh PostgreSQL's planner statistics (services/planner_stats.py): after
``analyze_after_rows`` appended or deleted rows, the row tables are analyzed in the background,
so the planner knows how big they became (``pg_class.reltuples``). SQLite: nothing runs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from atoll.services import accounts
from atoll.services.access import create_api_token
from tests.accounts.conftest import PASSWORD, headers, sign_in
from tests.backends import on_postgres_s3
from tests.conftest import MakeApp
from tests.rows.conftest import Api, access_token, api_on

EVERY = 300
COLUMNS = [{"column_name": "N", "column_type": "number"}]


def _known_rows(app: Any) -> float:
    with app.ctx.engine.connect() as conn:
        known = conn.execute(text("select reltuples from pg_class where oid = 'rows'::regclass"))
        return float(known.scalar_one())


def test_bulk_appends_refresh_the_statistics(make_app: MakeApp) -> None:
    app = make_app(analyze_after_rows=EVERY)
    api = api_on(app)
    api.ok("POST", "/tables/", json={"table_name": "T", "columns": COLUMNS})
    stats = app.ctx.planner_stats
    api.ok("POST", "/rows/", json={"table_name": "T", "rows": [{"N": i} for i in range(EVERY - 1)]})
    app.client.portal.call(stats.settled)  # type: ignore[union-attr]
    assert stats.runs == 0  # not due yet
    api.ok("POST", "/rows/", json={"table_name": "T", "rows": [{"N": i} for i in range(EVERY)]})
    app.client.portal.call(stats.settled)  # type: ignore[union-attr]
    if not on_postgres_s3():
        assert stats.runs == 0  # SQLite plans from its schema
        return
    assert stats.runs == 1 and _known_rows(app) == 2 * EVERY - 1
    ids = [r["_id"] for r in api.ok("GET", "/rows/", params={"table_name": "T", "limit": EVERY})["rows"]]
    api.ok("DELETE", "/rows/", json={"table_name": "T", "row_ids": ids})
    app.client.portal.call(stats.settled)  # type: ignore[union-attr]
    assert stats.runs == 2 and _known_rows(app) == EVERY - 1


def test_zero_leaves_it_to_autovacuum(make_app: MakeApp) -> None:
    app = make_app(analyze_after_rows=0)
    api = api_on(app)
    api.ok("POST", "/tables/", json={"table_name": "T", "columns": COLUMNS})
    api.ok("POST", "/rows/", json={"table_name": "T", "rows": [{"N": i} for i in range(50)]})
    app.client.portal.call(app.ctx.planner_stats.settled)  # type: ignore[union-attr]
    assert app.ctx.planner_stats.runs == 0



def test_a_copied_base_counts_its_rows(make_app: MakeApp) -> None:
    """copy_base is a bulk load of the copy's rows: they count like appended ones."""
    app = make_app(analyze_after_rows=EVERY)
    user = accounts.create_user(app.ctx.engine, "ann@example.com", PASSWORD)
    made = create_api_token(app.ctx.engine, base="Src",
                            workspace=accounts.personal_workspace_name(user.email))
    api = Api(app.client, made.dtable.uuid, access_token(app.client, made.token))
    api.ok("POST", "/tables/", json={"table_name": "T", "columns": COLUMNS})
    api.ok("POST", "/rows/", json={"table_name": "T", "rows": [{"N": i} for i in range(EVERY - 1)]})
    stats = app.ctx.planner_stats
    app.client.portal.call(stats.settled)  # type: ignore[union-attr]
    assert stats.runs == 0
    ws = str(user.personal_workspace_id)
    copied = app.client.post("/api/v2.1/dtable-copy/", headers=headers(sign_in(app.client, user.email)),
                             data={"src_workspace_id": ws, "name": "Src", "dst_workspace_id": ws})
    assert copied.status_code == 200, copied.text
    app.client.portal.call(stats.settled)  # type: ignore[union-attr]
    assert stats.runs == (1 if on_postgres_s3() else 0)
