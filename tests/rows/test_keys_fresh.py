"""The cells' sort keys (``row_keys``) are never stale: after every write path they equal a fresh
recompute (``services.rowkeys.row_keys`` over the stored rows). SQL WHERE and view filters are
narrowed through them (services/sql/narrowing.py), so a stale key would hide a matching row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from atoll.db import rows as q
from atoll.db import schema
from atoll.services import rowkeys
from tests.conftest import App, MakeApp
from tests.rows.conftest import Api, api_on
from tests.sql.conftest import Sql

COLUMNS = [
    {"column_name": "Name", "column_type": "text"},
    {"column_name": "N", "column_type": "number"},
    {"column_name": "T", "column_type": "text"},
    {"column_name": "S", "column_type": "single-select", "column_data": {"options": [
        {"id": "o1", "name": "open", "color": "#fff"}]}},
    {"column_name": "F", "column_type": "formula", "column_data": {"formula": "{N} * 2"}},
    {"column_name": "G", "column_type": "formula", "column_data": {"formula": "concatenate({T}, '!')"}},
    {"column_name": "C", "column_type": "checkbox"},
]  # fmt: skip
#: Column types whose keys these tests do not compare: links' cells are not stored in ``rows``
#: (and no condition on them is ever narrowed).
UNCOMPARED = frozenset({"link", "link-formula"})


def stored_keys(app: App, uuid: str) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """(the keys in ``row_keys``, the keys recomputed from the stored rows) of every table."""
    k = schema.row_keys
    with app.ctx.engine.connect() as conn:
        tables = q.load_doc(conn, uuid).doc["tables"]
        have: set[tuple[Any, ...]] = set()
        want: set[tuple[Any, ...]] = set()
        for table in tables:
            columns = [c for c in table["columns"] if c.get("type") not in UNCOMPARED]
            keys = {c["key"] for c in columns}
            found = conn.execute(
                select(k.c.row_id, k.c.column_key, k.c.seq, k.c.kind, k.c.num, k.c.head, k.c.tail).where(
                    k.c.dtable_uuid == uuid, k.c.table_id == table["_id"]
                )
            ).all()
            have |= {(table["_id"], *tuple(bytes(x) if isinstance(x, memoryview) else x for x in f))
                     for f in found if f.column_key in keys}  # fmt: skip
            rows = list(q.iter_rows(conn, uuid, table["_id"]))
            want |= {
                (table["_id"], key.row_id, key.column_key, key.seq, key.kind, key.num, key.head, key.tail)
                for key in rowkeys.row_keys(columns, rows)
            }
    return have, want


def assert_fresh(app: App, api: Api, step: str) -> None:
    have, want = stored_keys(app, api.uuid)
    assert want, step
    assert have == want, (step, sorted(have - want)[:5], sorted(want - have)[:5])


def names(sql: Sql, where: str) -> list[Any]:
    return [r["Name"] for r in sql.rows(f"select Name from T where {where} limit 1000")]


def test_every_write_path_keeps_keys_fresh(make_app: MakeApp) -> None:
    app = make_app()
    api = api_on(app)
    sql = Sql(api, app)
    api.ok("POST", "/tables/", json={"table_name": "T", "lang": "en", "columns": COLUMNS})
    rows = [{"Name": f"r{i}", "N": i, "T": str(i), "S": "open" if i % 2 else None, "C": i % 3 == 0}
            for i in range(30)]  # fmt: skip
    made = api.ok("POST", "/rows/", json={"table_name": "T", "rows": rows})
    assert_fresh(app, api, "batch append")
    ids = [r["_id"] for r in made["rows"]] if "rows" in made else None
    if ids is None:
        ids = [r["_id"] for r in sql.rows("select _id from T limit 1000")]

    api.ok("POST", "/rows/", json={"table_name": "T", "rows": [{"Name": "one", "N": 100, "S": "new"}]})
    assert_fresh(app, api, "append one row (and a new option)")

    updates = [{"row_id": ids[1], "row": {"N": 500, "T": "x"}}, {"row_id": ids[2], "row": {"N": None}}]
    api.ok("PUT", "/rows/", json={"table_name": "T", "updates": updates})
    assert_fresh(app, api, "update rows (formula inputs change F and G)")
    assert names(sql, "F = 1000") == ["r1"]
    assert names(sql, "G = 'x!'") == ["r1"]

    api.ok("DELETE", "/rows/", json={"table_name": "T", "row_ids": ids[3:6]})
    assert_fresh(app, api, "delete rows")

    sql.ok("insert into T (Name, N, T) values ('sql1', 7.5, 'seven'), ('sql2', -1, '')")
    sql.ok("update T set N = N2 where N < 3".replace("N2", "42"))
    sql.ok("delete from T where N = 10")
    assert_fresh(app, api, "SQL INSERT / UPDATE / DELETE")
    assert names(sql, "N = 42") == ["r0", "sql2"]

    api.ok("PUT", "/columns/", json={"table_name": "T", "op_type": "rename_column", "column": "T",
                                     "new_column_name": "Text"})  # fmt: skip
    assert_fresh(app, api, "rename column")
    api.ok("PUT", "/columns/", json={"table_name": "T", "op_type": "modify_column_type", "column": "Text",
                                     "new_column_type": "number"})  # fmt: skip
    assert_fresh(app, api, "modify_column_type text -> number")
    assert [r["Name"] for r in sql.rows("select Name from T where Text = 12 limit 10")] == ["r12"]
    api.ok("PUT", "/columns/", json={"table_name": "T", "op_type": "modify_column_type", "column": "N",
                                     "new_column_type": "text"})  # fmt: skip
    assert_fresh(app, api, "modify_column_type number -> text")

    api.ok("POST", "/columns/", json={"table_name": "T", "column_name": "No", "column_type": "auto-number",
                                      "column_data": {"format": "000", "digits": 3}})  # fmt: skip
    assert_fresh(app, api, "add an auto-number column (numbers existing rows)")
    api.ok("POST", "/rows/", json={"table_name": "T", "rows": [{"Name": "numbered"}]})
    assert_fresh(app, api, "append numbers a row")
    api.ok("POST", "/columns/", json={"table_name": "T", "column_name": "H", "column_type": "formula",
                                      "column_data": {"formula": "{Name}"}})  # fmt: skip
    assert_fresh(app, api, "add a formula column")
    assert names(sql, "H = 'numbered'") == ["numbered"]

    api.ok("POST", "/column-options/", json={"table_name": "T", "column": "S",
                                             "options": [{"name": "later", "color": "#000"}]})  # fmt: skip
    assert_fresh(app, api, "add options")

    api.ok("DELETE", "/columns/", json={"table_name": "T", "column": "C"})
    assert_fresh(app, api, "delete a column")
    with app.ctx.engine.connect() as conn:
        keys = {c["key"] for c in q.load_doc(conn, api.uuid).doc["tables"][0]["columns"]}
        k = schema.row_keys
        left = conn.execute(select(k.c.column_key).where(k.c.dtable_uuid == api.uuid).distinct()).scalars()
        assert set(left) <= keys  # no key of the deleted column is left
