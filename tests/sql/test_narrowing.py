"""Narrowing through the cells' sort keys never changes an answer: random queries over random
mixed-type cells (numbers, numeric text, booleans, empty, dates, select ids, huge integers) give
the same rows with and without it -- SQL SELECT, UPDATE/DELETE's WHERE and view filters. Also:
which conditions narrow (and which never do), and that a narrowed query is really narrowed."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import select

from atoll.db import narrowing as nk
from atoll.db import rows as q
from atoll.db import schema
from atoll.db.engine import write_tx
from atoll.services import rowkeys
from atoll.services.sql import narrowing
from tests.conftest import App, MakeApp
from tests.rows.conftest import Api, api_on
from tests.sql.conftest import Sql

COLUMNS = [
    {"column_name": "Name", "column_type": "text"},
    {"column_name": "N", "column_type": "number"},
    {"column_name": "T", "column_type": "text"},
    {"column_name": "S", "column_type": "single-select", "column_data": {"options": [
        {"id": "o1", "name": "open", "color": "#fff"}, {"id": "o2", "name": "12", "color": "#000"},
        {"id": "o3", "name": "Open", "color": "#000"}]}},
    {"column_name": "D", "column_type": "date", "column_data": {"format": "YYYY-MM-DD"}},
    {"column_name": "R", "column_type": "rate"},
    {"column_name": "C", "column_type": "checkbox"},
    {"column_name": "F", "column_type": "formula", "column_data": {"formula": "{N} * 2"}},
]  # fmt: skip

NUMBERS: list[Any] = [0, 1, -1, 2, 3, 12, 12.5, -7.25, 1000, 2**53 + 1, 10**30, 1e-9]
TEXTS: list[Any] = ["12", "abc", "ABC", "Abc", "open", "Open", "o1", "2024-01-05", "2024-01-05 10:00",
                    " 12", "12.0", "é", "E\u0301", "x" * 300, "x" * 300 + "y"]  # fmt: skip
ODD: list[Any] = [True, False, "", [], ["a"], {"k": 1}, None]
CONSTANTS: list[Any] = [0, 1, 2, 3, 12, 12.5, -7.25, 1000, 2**53, 2**53 + 1, 10**30, "12", "abc", "ABC",
                        "open", "Open", "o1", "2024-01-05", "x" * 300, "x" * 300 + "y", "é"]  # fmt: skip


def cell(rng: random.Random) -> Any:
    pick = rng.random()
    if pick < 0.35:
        return rng.choice(NUMBERS)
    if pick < 0.7:
        return rng.choice(TEXTS)
    return rng.choice(ODD)


def table_t1(make_app: MakeApp) -> tuple[App, Api]:
    """A fresh app and base with table T1 of COLUMNS."""
    app = make_app()
    api = api_on(app)
    api.ok("POST", "/tables/", json={"table_name": "T1", "lang": "en", "columns": COLUMNS})
    return app, api


def fill(app: App, api: Api, rng: random.Random, count: int) -> None:
    """Rows whose stored cells hold anything (written as a row write does: rows and their keys)."""
    uuid = api.uuid
    with write_tx(app.ctx.engine) as conn:
        table = q.load_doc(conn, uuid).doc["tables"][-1]
        keys = {c["name"]: c["key"] for c in table["columns"]}
        made = []
        for i in range(count):
            data = {keys["Name"]: f"r{i}"}
            for name in ("N", "T", "S", "D", "R", "C", "F"):
                value = cell(rng) if name != "S" else rng.choice(["o1", "o2", "o3", "zz", 12, None, ""])
                if value is not None:
                    data[keys[name]] = value
            row_id, now = f"row{i:04d}nrw{rng.randrange(10**6):06d}", "2024-01-01T00:00:00Z"
            made.append(q.StoredRow(row_id, table["_id"], (i + 1) * 1024, now, now, "a", "a", data))
        q.insert_rows(conn, uuid, made)
        q.insert_keys(conn, uuid, table["_id"], rowkeys.row_keys(table["columns"], made))


def atom(rng: random.Random) -> str:
    column = rng.choice(["N", "T", "S", "D", "R", "F", "Name", "C"])
    if column == "C":
        return rng.choice(["C = true", "C = false", "C IS NOT NULL"])
    numeric = column in ("N", "R", "F")

    def const() -> str:
        value = rng.choice([c for c in CONSTANTS if isinstance(c, (int, float))] if numeric else CONSTANTS)
        return repr(value) if isinstance(value, str) else str(value)

    form = rng.random()
    if form < 0.4:
        op = rng.choice(["=", "<", "<=", ">", ">=", "!="] if numeric else ["=", "=", "!="])
        return f"{column} {op} {const()}" if rng.random() < 0.8 else f"{const()} {op} {column}"
    if form < 0.55 and numeric:
        low, high = sorted(rng.sample([0, 1, 3, 12, 12.5, 1000, -7.25], 2))
        return f"{column} BETWEEN {low} AND {high}"
    if form < 0.75:
        listed = ", ".join(const() for _ in range(rng.randint(1, 3)))
        return f"{column} {'NOT ' if rng.random() < 0.2 else ''}IN ({listed})"
    if form < 0.9:
        return f"{column} IS {'NOT ' if rng.random() < 0.7 else ''}NULL"
    return f"{column} LIKE '%b%'"


def where(rng: random.Random, depth: int = 0) -> str:
    if depth >= 2 or rng.random() < 0.4:
        return atom(rng)
    form = rng.random()
    if form < 0.45:
        return f"({where(rng, depth + 1)} AND {where(rng, depth + 1)})"
    if form < 0.85:
        return f"({where(rng, depth + 1)} OR {where(rng, depth + 1)})"
    return f"NOT ({where(rng, depth + 1)})"


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many queries were narrowed (to see that a test exercises it). Narrowing is made to
    pay at any table size here: the tables are small."""
    calls: list[int] = []
    real = nk.table_where

    def spy(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        if out is not None:
            calls.append(1)
        return out

    monkeypatch.setattr(nk, "table_where", spy)
    monkeypatch.setattr(nk, "ROWS_PER_CANDIDATE", 0)
    monkeypatch.setattr(nk, "PAGE_SCAN_FACTOR", 0)
    return calls


def both_ways(monkeypatch: pytest.MonkeyPatch, run: Any) -> tuple[Any, Any]:
    with_keys = run()
    monkeypatch.setattr(narrowing, "ENABLED", False)
    try:
        without = run()
    finally:
        monkeypatch.setattr(narrowing, "ENABLED", True)
    return with_keys, without


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_select_answers_never_change(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch, counted: list[int], seed: int
) -> None:
    app, api = table_t1(make_app)
    rng = random.Random(seed)
    fill(app, api, rng, 120)
    sql = Sql(api, app)
    compared = 0
    for _ in range(70):
        text = f"select Name from T1 where {where(rng)} limit 10000"
        resp_with, resp_without = both_ways(
            monkeypatch, lambda t=text: sql.call({"sql": t, "convert_keys": True})
        )
        assert resp_with.status_code == resp_without.status_code, (text, resp_with.text, resp_without.text)
        if resp_with.status_code == 200:
            got = [r["Name"] for r in resp_with.json()["results"]]
            assert got == [r["Name"] for r in resp_without.json()["results"]], text
            compared += 1
    assert compared >= 35
    assert len(counted) >= 20  # narrowing took part in many of them


@pytest.mark.parametrize("seed", [4, 5])
def test_view_answers_never_change(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch, counted: list[int], seed: int
) -> None:
    app, api = table_t1(make_app)
    rng = random.Random(seed)
    fill(app, api, rng, 120)
    api.ok("POST", "/views/?table_name=T1", json={"name": "V"})
    predicates = {
        "N": ["=", "is", "<", "<=", ">", ">=", "≠", "is not empty", "is empty"],
        "R": ["=", "<", ">=", "is not empty"],
        "F": ["=", "<", ">", "is not empty"],
        "T": ["is", "is not", "contains", "is not empty", "is empty"],
        "Name": ["is", "is not empty"],
        "S": ["is", "is any of", "is not", "is none of", "is not empty"],
        "D": ["is", "is before", "is not empty"],
    }
    compared = 0
    for _ in range(40):
        filters = []
        for _ in range(rng.randint(1, 3)):
            column = rng.choice(list(predicates))
            predicate = rng.choice(predicates[column])
            term: Any = rng.choice([*CONSTANTS, ""])
            if column == "S":
                term = rng.sample(["o1", "o2", "open", "12", "zz"], rng.randint(1, 2))
                term = term if "any" in predicate or "none" in predicate else term[0]
            if column == "D":
                term = "2024-01-05"
            filters.append({"column_name": column, "filter_predicate": predicate, "filter_term": term})
        conjunction = rng.choice(["And", "Or"])
        put = api.call(
            "PUT", "/views/V/?table_name=T1", json={"filters": filters, "filter_conjunction": conjunction}
        )
        if put.status_code != 200:  # e.g. an integer beyond 64 bits in a filter term
            continue
        params = {"table_name": "T1", "view_name": "V", "convert_keys": "True", "limit": "1000"}
        got, want = both_ways(monkeypatch, lambda p=params: api.call("GET", "/rows/", params=p))
        assert got.status_code == want.status_code, (filters, got.text, want.text)
        if got.status_code == 200:
            assert [r["Name"] for r in got.json()["rows"]] == [r["Name"] for r in want.json()["rows"]], (
                filters,
                conjunction,
            )
            compared += 1
    assert compared >= 20
    assert len(counted) >= 10


def test_update_delete_where_never_change(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch, counted: list[int]
) -> None:
    """UPDATE and DELETE change the same rows with and without narrowing (two equal bases)."""
    results = []
    for enabled in (True, False):
        monkeypatch.setattr(narrowing, "ENABLED", enabled)
        app, api = table_t1(make_app)
        rng = random.Random(9)
        fill(app, api, rng, 120)
        sql = Sql(api, app)
        counts = []
        for _ in range(25):
            text = where(rng)
            if rng.random() < 0.5:
                resp = sql.call({"sql": f"update T1 set T = 'changed' where {text}"})
            else:
                resp = sql.call({"sql": f"delete from T1 where {text}"})
            counts.append((resp.status_code, resp.json().get("affected_rows")))
        final = sql.ok("select Name, T from T1 limit 10000")["results"]
        results.append((counts, [(r["Name"], r["T"]) for r in final]))
    assert results[0] == results[1]
    assert len(counted) >= 5


# ---- which conditions narrow -------------------------------------------------------------------


@pytest.fixture
def big(make_app: MakeApp, counted: list[int]) -> tuple[App, Sql]:
    app, api = table_t1(make_app)
    rows = [{"Name": f"r{i}", "N": i, "T": f"t{i % 7}", "S": "open" if i % 3 else "12", "C": i % 2 == 0}
            for i in range(300)]  # fmt: skip
    api.ok("POST", "/rows/", json={"table_name": "T1", "rows": rows})
    return app, Sql(api, app)


NARROWED = [
    ("N = 5", ["r5"]),
    ("N < 3", ["r0", "r1", "r2"]),
    ("2 > N", ["r0", "r1"]),
    ("N BETWEEN 10 AND 12", ["r10", "r11", "r12"]),
    ("N IN (7, 8, '9')", ["r7", "r8", "r9"]),
    ("F = 10", ["r5"]),
    ("T = 't3' AND N < 20", ["r3", "r10", "r17"]),
    ("N < 2 OR N > 297", ["r0", "r1", "r298", "r299"]),
    ("N < 3 AND C = true", ["r0", "r2"]),
    ("S = '12' AND N < 7", ["r0", "r3", "r6"]),
    ("S IN ('12') AND N <= 3", ["r0", "r3"]),
    ("T = 't1' AND N IS NOT NULL AND N < 10", ["r1", "r8"]),
]
NOT_NARROWED = [
    "N != 5",
    "NOT (N = 5)",
    "N < 3 OR C = true",
    "C = true",
    "N NOT IN (1, 2)",
    "T LIKE 't1%'",
    "T = ''",
    "N + 0 = 5",
    "_id = 'x'",
    "N IS NULL",
    "T > 't3'",
]


@pytest.mark.parametrize(("condition", "names"), NARROWED)
def test_conditions_that_narrow(
    big: tuple[App, Sql], counted: list[int], condition: str, names: list[str]
) -> None:
    _, sql = big
    got = [r["Name"] for r in sql.rows(f"select Name from T1 where {condition} limit 1000")]
    assert got == names
    assert counted == [1]


@pytest.mark.parametrize("condition", NOT_NARROWED)
def test_conditions_that_never_narrow(big: tuple[App, Sql], counted: list[int], condition: str) -> None:
    _, sql = big
    sql.rows(f"select Name from T1 where {condition} limit 1000")
    assert counted == []


def test_narrowing_reads_only_candidates(big: tuple[App, Sql]) -> None:
    """The narrowing alone admits the candidates (a superset, not the table)."""
    app, sql = big
    with app.ctx.engine.connect() as conn:
        doc = q.load_doc(conn, sql.api.uuid).doc
        table = doc["tables"][-1]
        column = next(c for c in table["columns"] if c["name"] == "N")
        narrow = narrowing.compare(column, "<", 10.0)
        assert narrow is not None
        where = nk.table_where(conn, narrow, sql.api.uuid, table["_id"], page=None)
        assert where is not None
        found = conn.execute(select(schema.rows.c.row_id).where(*where)).all()
    assert len(found) == 11  # 0..10: a strict bound is kept inclusive (float rounding)


def test_narrowing_only_when_it_pays(big: tuple[App, Sql], monkeypatch: pytest.MonkeyPatch) -> None:
    """Too many candidates, or too large a share of the table: the query reads the table as
    before (an unselective condition is never made slower by reading its rows by key)."""
    app, sql = big
    monkeypatch.setattr(nk, "ROWS_PER_CANDIDATE", 4)
    monkeypatch.setattr(nk, "PAGE_SCAN_FACTOR", 4)
    with app.ctx.engine.connect() as conn:
        table = q.load_doc(conn, sql.api.uuid).doc["tables"][-1]
        column = next(c for c in table["columns"] if c["name"] == "N")

        def where(bound: float, page: int | None) -> Any:
            narrow = narrowing.compare(column, "<", bound)
            assert narrow is not None
            return nk.table_where(conn, narrow, sql.api.uuid, table["_id"], page=page)

        assert where(60, None) is not None  # 61 candidates, 300 rows: 4 rows per candidate
        assert where(80, None) is None  # 81 candidates: fewer than 4 rows each
        # a page of one row in table order: narrowed while 4 * c**2 / 1 <= 300 rows
        assert where(7, 1) is not None  # c = 8: 256
        assert where(8, 1) is None  # c = 9: 324, the scan in table order fills the page sooner
        monkeypatch.setattr(nk, "MAX_CANDIDATES", 10)
        assert where(9, None) is not None  # 10 candidates (0..9; the bound is inclusive)
        assert where(10, None) is None  # 11 candidates: more than MAX_CANDIDATES


def test_select_options_that_keys_can_not_describe_never_narrow() -> None:
    """Duplicate option ids or empty / non-string names: the name SQL compares may not be the key's."""
    base = {"key": "k", "name": "S", "type": "single-select"}
    good = {**base, "data": {"options": [{"id": "a", "name": "x"}]}}
    assert narrowing.compare(good, "=", "x") is not None
    for options in ([{"id": "a", "name": "x"}, {"id": "a", "name": "y"}], [{"id": "a", "name": ""}],
                    [{"id": "a", "name": 5}], [{"id": 1, "name": "x"}]):  # fmt: skip
        column = {**base, "data": {"options": options}}
        assert narrowing.compare(column, "=", "x") is None
        assert narrowing.not_empty(column) is None
    for ctype in ("link", "link-formula", "checkbox", "multiple-select", "collaborator", "ctime", "image"):
        column = {"key": "k", "name": "X", "type": ctype}
        assert narrowing.compare(column, "=", "x") is None
        assert narrowing.not_empty(column) is None
    assert narrowing.compare({"key": "k", "name": "F", "type": "formula", "data": {"result_type": "bool"}},
                             "=", 1) is None  # fmt: skip
