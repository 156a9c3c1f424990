"""SQL refusals: a 400 in the family's error shape naming the problem, nothing changed; and the
injection corpus (names, values and parameters never become backend SQL)."""

from __future__ import annotations

from typing import Any

import pytest

from atoll.services.access import create_api_token
from tests.rows.conftest import Api, access_token
from tests.sql.conftest import Sql

ERRORS = [
    ("select * from Nope", "no such table: Nope"),
    ("select Nope from T", "no such column: Nope"),
    ("select Name from T where Nope = 1", "no such column: Nope"),
    ("select * from T join T2 on T.a = T2.b", "JOIN is not supported"),
    ("select * from T, T2", "JOIN is not supported"),
    ("select 1; select 2", "exactly one SQL statement"),
    ("select Name from T; drop table rows", "exactly one SQL statement"),
    ("drop table T", "unsupported statement"),
    ("create table x (a int)", "unsupported statement"),
    ("selec Name from T", "SQL syntax error"),
    ("select Name from T where", "SQL syntax error"),
    ("select foo(Name) from T", "unsupported function: FOO"),
    ("select Name from T where Tags = 'red'", "can not be compared"),
    ("select Name from T where Price = 'abc'", "is a number"),
    ("select Name from T where Name = true", "is text"),
    ("select Name from T where Price = NULL", "IS NULL"),
    ("select Name from T where count(*) > 1", "aggregate functions are not allowed"),
    ("select Name, count(*) from T group by Status", "must appear in GROUP BY"),
    ("select Name from T where Name in (select Name from T)", "subqueries are not supported"),
    ("select Name from T limit -1", "SQL syntax error|LIMIT"),
    ("select Name from T limit 'a'", "LIMIT must be a whole number"),
    ("select Name from T order by 1", "ORDER BY <position>"),
    ("select * from T group by Name", "can not be grouped"),
    ("delete from T", "DELETE needs a WHERE clause"),
    ("update T set Price = 1", "UPDATE needs a WHERE clause"),
    ("update T set _id = 'x' where Price = 3", "read-only"),
    ("update T set Price = Name where Price = 3", "constants"),
    ("insert into T values ('x')", "column list"),
    ("insert into T (Name, Price) values ('x')", "2 columns but 1 values"),
    ("insert into T (Name) select Name from T", "VALUES"),
    ("select Name from T union select Name from T", "unsupported statement"),
    ("select distinct Name from T", "unsupported clause: DISTINCT"),
]


def count(sql_api: Sql) -> Any:
    return sql_api.rows("select count(*) from T")[0]["COUNT(*)"]


@pytest.mark.parametrize(("sql", "message"), ERRORS)
def test_refused_with_a_message(sql_api: Sql, sql: str, message: str) -> None:
    before = sql_api.rows("select * from T")
    text = sql_api.error(sql)
    assert any(part in text for part in message.split("|")), text
    assert sql_api.rows("select * from T") == before


def test_v1_errors_have_the_v1_shape(sql_api: Sql) -> None:
    assert "no such table" in sql_api.error("select * from Nope", v1=True)


def test_parameter_count_must_match(sql_api: Sql) -> None:
    two = "select Name from T where Name = ? or Name = ?"
    assert "2 ? placeholders but 1 parameters" in sql_api.error(two, "a")
    assert "0 ? placeholders but 1 parameters" in sql_api.error("select Name from T", "a")
    resp = sql_api.call({"sql": "select Name from T where Name = ?", "parameters": [{"a": 1}]})
    assert resp.status_code == 400 and "parameters must be" in resp.text
    resp = sql_api.call({"sql": "select Name from T", "parameters": "x"})
    assert resp.status_code == 400 and "parameters invalid" in resp.text


def test_body_errors(sql_api: Sql) -> None:
    for body in ({}, {"sql": ""}, {"sql": 5}, {"sql": "select Name from T", "convert_keys": "maybe"}):
        assert sql_api.call(body).status_code == 400, body


def test_read_only_token_can_not_write(sql_api: Sql) -> None:
    api = sql_api.api
    assert sql_api.app is not None
    made = create_api_token(sql_api.app.ctx.engine, base="B", permission="r")
    ro = Sql(Api(api.client, made.dtable.uuid, access_token(api.client, made.token)))
    assert ro.call({"sql": "delete from T where Price > 0"}).status_code == 403
    total = ro.ok("select count(*) from T")["results"][0]["COUNT(*)"]
    assert total == len(sql_api.rows("select Name from T"))


#: Hostile names, values and parameters: each is refused or read as plain data.
HOSTILE_VALUES = [
    "' OR '1'='1",
    "'; DROP TABLE rows; --",
    "\\'; DELETE FROM rows; --",
    'x" OR 1=1 --',
    "%' OR data LIKE '%",
    "') OR json_extract(data, '$') IS NOT NULL --",
    "🙂' UNION SELECT * FROM dtables --",
    "Robert'); DROP TABLE rows;--",
]
HOSTILE_SQL = [
    "select Name from T where Name = '' OR '1'='1'",
    "select Name from `T; DROP TABLE rows`",
    "select `Name; DROP TABLE rows` from T",
    'select `Name` from T where `Price" OR 1=1 --` = 1',
    "select Name from T where Name = 'a' -- ' or 1=1",
    "select Name from T where Name = 'a' /* */ or Name = 'apple'",
    "select Name from rows",
    "select Name from dtables",
    "select Name from T where Name = 'x' union select data from rows",
    "update T set Name = 'x' where 1 = 1; delete from rows",
    "select sqlite_version() from T",
    "select pg_sleep(1) from T",
    "select json_extract(data, '$') from T",
    "select data from T",
    "select row_id from T",
    "select Name from T where _id = '' or '' = ''",
]


def snapshot(sql_api: Sql) -> Any:
    return sql_api.rows("select * from T limit 10000"), sql_api.api.ok("GET", "/metadata/")


def test_injection_corpus_changes_nothing(sql_api: Sql) -> None:
    before = snapshot(sql_api)
    for value in HOSTILE_VALUES:
        assert sql_api.rows("select Name from T where Name = ?", value) == []
        assert sql_api.rows("select Name from T where Name like ?", value) == []
        assert sql_api.rows("select Name from T where `Note Text` = ?", value) == []
        escaped = value.replace("'", "''").replace("\\", "\\\\")
        resp = sql_api.call({"sql": f"select Name from T where Name = '{escaped}'", "convert_keys": True})
        assert resp.status_code == 200 and resp.json()["results"] == [], (value, resp.text)
    for sql in HOSTILE_SQL:
        resp = sql_api.call({"sql": sql, "convert_keys": True})
        if resp.status_code == 200:  # read as data: a plain query of T
            results = resp.json()["results"]
            assert all(set(r) <= {"_id", "Name", "Price", "Status"} for r in results), (sql, results)
            if "'1'='1'" in sql or "'' = ''" in sql:  # the tautology is a real condition on the data
                assert len(results) == len(before[0]), sql
        else:
            assert resp.status_code == 400, (sql, resp.status_code, resp.text)
    assert snapshot(sql_api) == before


def test_hostile_values_are_stored_verbatim(sql_api: Sql) -> None:
    for value in HOSTILE_VALUES:
        sql_api.ok("insert into T (Name) values (?)", value)
        assert [r["Name"] for r in sql_api.rows("select Name from T where Name = ?", value)] == [value]
    assert sql_api.rows("select count(*) from T")[0]["COUNT(*)"] == 7 + len(HOSTILE_VALUES)
