"""Links and SQL writes tell live listeners (the ``live_events`` table), and an SQL DELETE
removes the deleted rows' links like the rows API does."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from atoll.db.schema import live_events, row_links
from atoll.services.context import Context
from tests.links.conftest import Linked
from tests.links.test_links_http import gw_add, ids


def _ops(ctx: Context, uuid: str) -> list[dict[str, Any]]:
    with ctx.engine.connect() as conn:
        e = live_events
        query = select(e.c.payload).where(e.c.dtable_uuid == uuid).order_by(e.c.id)
        return [json.loads(p) for p in conn.execute(query).scalars()]


def _sql(lk: Linked, sql: str) -> Any:
    url = f"/api-gateway/api/v2/dtables/{lk.api.uuid}/sql"
    headers = {"Authorization": f"Token {lk.api.access_token}"}
    resp = lk.api.client.post(url, json={"sql": sql, "convert_keys": True}, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_link_changes_are_live_events(linked: Linked, ctx: Context) -> None:
    gw_add(linked, {linked.alice: [linked.pa, linked.pb]})
    op = _ops(ctx, linked.api.uuid)[-1]
    assert op["op_type"] == "add_links" and op["link_id"] == linked.link_id
    assert op["table_id"] == linked.people and op["other_table_id"] == linked.projects
    assert op["other_rows_ids_map"] == {linked.alice: [linked.pa, linked.pb]}


def test_sql_delete_removes_links_and_is_a_live_event(linked: Linked, ctx: Context) -> None:
    gw_add(linked, {linked.alice: [linked.pa], linked.bob: [linked.pb]})
    assert _sql(linked, "delete from People where Name = 'Alice'")["affected_rows"] == 1
    op = _ops(ctx, linked.api.uuid)[-1]
    assert op["op_type"] in ("delete_row", "delete_rows")
    assert linked.alice in (op.get("row_ids") or [op.get("row_id")])
    with ctx.engine.connect() as conn:
        rows = set(conn.execute(select(row_links.c.row_id, row_links.c.other_row_id)).all())
    assert all(linked.alice not in pair for pair in rows)  # Alice's link is gone, Bob's stays
    params = {"table_name": "Projects", "convert_keys": "true"}
    projects = linked.api.ok("GET", "/rows/", params=params)["rows"]
    mirror = {r["_id"]: ids(r.get(linked.mirror["name"])) for r in projects}
    assert mirror[linked.pa] == [] and mirror[linked.pb] == [linked.bob]
