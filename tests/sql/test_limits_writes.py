"""SELECT limits (100 without LIMIT, at most 10,000) and UPDATE / DELETE / INSERT through the row
services (validation, sort keys, select options)."""

from __future__ import annotations

from typing import Any

import pytest

from atoll.db.engine import write_tx
from atoll.services.rows import append_in
from atoll.services.sql.run import MAX_WRITE_ROWS
from atoll.services.sql.statements import DEFAULT_LIMIT, MAX_LIMIT
from atoll.services.structure import TableRef
from tests.conftest import MakeApp
from tests.rows.conftest import api_on
from tests.sql.conftest import Sql, seed

BIG = MAX_LIMIT + 50


@pytest.fixture(scope="module")
def big(make_module_app: MakeApp) -> Sql:
    app = make_module_app()
    api = api_on(app)
    seed(api, rows=[])
    with write_tx(app.ctx.engine) as conn:
        rows = [{"Name": f"r{i:05d}", "Price": i} for i in range(BIG)]
        append_in(conn, api.uuid, TableRef(name="T"), rows, "tester@auth.local")
    return Sql(api, app)


def test_default_limit(big: Sql) -> None:
    rows = big.rows("select Name from T")
    assert len(rows) == DEFAULT_LIMIT == 100
    assert rows[0]["Name"] == "r00000" and rows[-1]["Name"] == "r00099"


def test_limit_is_capped(big: Sql) -> None:
    assert len(big.rows("select Name from T limit 20000")) == MAX_LIMIT == 10_000
    assert len(big.rows(f"select Name from T limit {MAX_LIMIT}")) == MAX_LIMIT


def test_offset_pages_in_the_database(big: Sql) -> None:
    rows = big.rows("select Name, Price from T where Price >= 100 order by Price desc limit 5 offset 10")
    assert [r["Price"] for r in rows] == [BIG - 11 - i for i in range(5)]
    assert len(big.rows(f"select Name from T limit 100 offset {BIG - 30}")) == 30


def test_aggregates_over_the_table(big: Sql) -> None:
    (row,) = big.rows("select count(*), sum(Price), max(Price), min(Name) from T")
    assert row == {
        "COUNT(*)": BIG,
        "SUM(Price)": BIG * (BIG - 1) // 2,
        "MAX(Price)": BIG - 1,
        "MIN(Name)": "r00000",
    }


def test_write_cap_refuses_and_changes_nothing(big: Sql) -> None:
    text = big.error("update T set Name = 'x' where Price >= 0")
    assert f"more than {MAX_WRITE_ROWS} rows" in text
    assert big.rows("select count(*) from T where Name = 'x'")[0]["COUNT(*)"] == 0


# ---- writes ----------------------------------------------------------------------------------


def names(sql: Sql, where: str = "") -> list[Any]:
    return [r["Name"] for r in sql.rows(f"select Name from T {where} order by Name")]


def test_update_changes_matching_rows(sql_api: Sql) -> None:
    res = sql_api.ok("update T set Price = 5, Status = 'closed' where Name in ('apple', 'fig')")
    assert res["affected_rows"] == 2 and res["success"] is True and res["results"] == []
    assert sql_api.rows("select Name, Price, Status from T where Price = 5 order by Name") == [
        {
            "_id": sql_api.rows("select _id from T where Name = 'apple'")[0]["_id"],
            "Name": "apple",
            "Price": 5,
            "Status": "closed",
        },
        {
            "_id": sql_api.rows("select _id from T where Name = 'fig'")[0]["_id"],
            "Name": "fig",
            "Price": 5,
            "Status": "closed",
        },
    ]
    # the sort keys followed: list_rows ordered by Price sees the new values
    listed = sql_api.api.ok(
        "GET", "/rows/", params={"table_name": "T", "order_by": "Price", "convert_keys": "True"}
    )
    prices = [r["Price"] for r in listed["rows"] if r["Price"] is not None]
    assert prices == sorted(prices)


def test_update_with_parameters_and_new_option(sql_api: Sql) -> None:
    assert sql_api.ok("update T set Status = ? where Name = ?", "later", "cherry")["affected_rows"] == 1
    assert names(sql_api, "where Status = 'later'") == ["cherry"]
    columns = sql_api.api.ok("GET", "/columns/", params={"table_name": "T"})["columns"]
    status = next(c for c in columns if c["name"] == "Status")
    assert "later" in [o["name"] for o in status["data"]["options"]]


def test_update_validates_cells(sql_api: Sql) -> None:
    before = sql_api.rows("select * from T")
    assert sql_api.call({"sql": "update T set Price = 'abc' where Name = 'apple'"}).status_code == 400
    assert sql_api.rows("select * from T") == before


def test_update_nothing_matching(sql_api: Sql) -> None:
    assert sql_api.ok("update T set Price = 1 where Name = 'nope'")["affected_rows"] == 0


def test_delete(sql_api: Sql) -> None:
    assert sql_api.ok("delete from T where Price < 2 or Price is null")["affected_rows"] == 3
    assert names(sql_api) == ["apple", "cherry", "elder", "fig"]


def test_insert(sql_api: Sql) -> None:
    res = sql_api.ok(
        "insert into T (Name, Price, Status, Done) values ('kiwi', 4, 'open', true), (?, ?, ?, ?)",
        "lime",
        2.5,
        "closed",
        False,
    )
    assert res["affected_rows"] == 2
    got = sql_api.rows("select Name, Price, Status, Done from T where Name in ('kiwi', 'lime') order by Name")
    assert [(r["Name"], r["Price"], r["Status"], r["Done"]) for r in got] == [
        ("kiwi", 4, "open", True),
        ("lime", 2.5, "closed", False),
    ]


def test_read_only_columns_refused(sql_api: Sql) -> None:
    for sql in ("update T set _ctime = 'x' where Price = 3", "insert into T (_id) values ('x')"):
        assert "read-only" in sql_api.error(sql)


def test_convert_keys_false_keys_by_column_key(sql_api: Sql) -> None:
    columns = {
        c["name"]: c["key"] for c in sql_api.api.ok("GET", "/columns/", params={"table_name": "T"})["columns"]
    }
    res = sql_api.ok("select Name, Status from T where Name = 'apple'", convert=False)
    (row,) = res["results"]
    assert row[columns["Name"]] == "apple" and row[columns["Status"]] == "open"
    assert [m["key"] for m in res["metadata"]] == [columns["Name"], columns["Status"]]
    assert set(res) == {"success", "error_message", "is_join_stmt", "metadata", "results"}


def test_select_star_has_the_recorded_keys(sql_api: Sql) -> None:
    row = sql_api.rows("select * from T where Name = 'apple'")[0]
    system = {"_id", "_ctime", "_mtime", "_creator", "_last_modifier", "_archived", "_locked", "_locked_by"}
    assert set(row) == system | {"Name", "Price", "Status", "Done", "Day", "Tags", "Note Text"}
    # the same values as the gateway's list rows
    listed = sql_api.api.ok("GET", "/rows/", params={"table_name": "T", "convert_keys": "True"})["rows"]
    assert row == next(r for r in listed if r["_id"] == row["_id"])


def test_both_paths_and_trailing_slash(sql_api: Sql) -> None:
    headers = {"Authorization": f"Token {sql_api.api.access_token}"}
    for path in (
        f"/api-gateway/api/v2/dtables/{sql_api.api.uuid}/sql",
        f"/api-gateway/api/v2/dtables/{sql_api.api.uuid}/sql/",
        f"/dtable-db/api/v1/query/{sql_api.api.uuid}/",
        f"/dtable-db/api/v1/query/{sql_api.api.uuid}",
    ):
        resp = sql_api.api.client.post(
            path, json={"sql": "select count(*) from T", "server_only": True}, headers=headers
        )
        assert resp.status_code == 200, (path, resp.text)
        assert resp.json()["results"] == [{"COUNT(*)": 7}]


def test_link_columns_selected_not_compared_and_computed_columns_read_only(sql_api: Sql) -> None:
    api = sql_api.api
    api.ok("POST", "/tables/", json={
        "table_name": "U", "columns": [{"column_name": "Title", "column_type": "text"}],
    })
    other = api.ok("POST", "/rows/", json={"table_name": "U", "rows": [{"Title": "Project X"}]})
    other_id = other["row_ids"][0]["_id"]
    link = api.ok("POST", "/columns/", json={
        "table_name": "T", "column_name": "Link", "column_type": "link",
        "column_data": {"table": "T", "other_table": "U"},
    })
    api.ok("POST", "/columns/", json={"table_name": "T", "column_name": "No", "column_type": "auto-number"})
    apple = sql_api.rows("select _id from T where Name = 'apple'")[0]["_id"]
    api.ok("POST", "/links/", json={
        "link_id": link["data"]["link_id"], "table_name": "T", "other_table_name": "U",
        "other_rows_ids_map": {apple: [other_id]},
    })
    expected = [{"row_id": other_id, "display_value": "Project X"}]
    rows = {r["Name"]: r for r in sql_api.rows("select Name, Link from T order by Name")}
    assert rows["apple"]["Link"] == expected
    assert all(not r.get("Link") for name, r in rows.items() if name != "apple")
    starred = sql_api.rows("select * from T where Name = 'apple'")
    assert starred[0]["Link"] == expected
    for sql in ("select Name from T where Link is null", "select count(Link) from T",
                "select Name from T order by Link"):
        assert "link columns can be selected" in sql_api.error(sql), sql
    for sql in ("update T set No = 'x' where Name = 'apple'", "insert into T (No) values ('x')"):
        assert "read-only" in sql_api.error(sql), sql
    assert sql_api.rows("select Name, No from T where Name = 'apple'")[0]["Name"] == "apple"
