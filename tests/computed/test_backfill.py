"""Bases written before atoll computed cells get them from ``services.formula.backfill``."""

from __future__ import annotations

from atoll.db import rows as q
from atoll.db.engine import write_tx
from atoll.services.context import Context
from atoll.services.formula.backfill import backfill
from tests.computed.test_computed_columns import add_table, append, listed
from tests.rows.conftest import Api


def test_backfill_computes_old_formula_and_auto_number_cells(api: Api, ctx: Context) -> None:
    add_table(api, "t", [{"column_name": "n", "column_type": "number"}])
    append(api, [{"n": 1}, {"n": 2}])
    with write_tx(ctx.engine) as conn:  # columns as an older atoll stored them, cells empty
        stored = q.lock_doc(conn, api.uuid)
        columns = stored.doc["tables"][0]["columns"]
        columns.append({**columns[0], "key": "f000", "name": "f", "type": "formula",
                        "data": {"formula": "{n} * 10"}})  # fmt: skip
        columns.append({**columns[0], "key": "b000", "name": "bad", "type": "formula",
                        "data": {"formula": "nosuch()"}})  # fmt: skip
        columns.append({**columns[0], "key": "a000", "name": "No", "type": "auto-number",
                        "data": {"format": "0000", "digits": 4, "max_used_auto_number": 0}})  # fmt: skip
        q.save_doc(conn, api.uuid, stored)
    assert [r["f"] for r in listed(api)] == [None, None]
    assert backfill(ctx.engine) == 1
    rows = listed(api)
    assert [(r["f"], r["bad"], r["No"]) for r in rows] == [(10, "#NAME?", "0001"), (20, "#NAME?", "0002")]
    assert backfill(ctx.engine) == 0  # nothing left to do
    append(api, [{"n": 3}])
    assert [(r["f"], r["No"]) for r in listed(api)][2] == (30, "0003")
    sorted_rows = api.ok("GET", "/rows/", params={"table_name": "t", "convert_keys": "true", "order_by": "f",
                                                  "direction": "desc"})["rows"]  # fmt: skip
    assert [r["f"] for r in sorted_rows] == [30, 20, 10]
