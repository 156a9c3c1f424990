"""Views shape the rows: filters (per column type, And/Or, date modifiers), sorts and hidden
columns apply to list_rows(view_name=...) and to filtered-rows with a view. Property: a view
filter, the equivalent SQL WHERE and an independent Python evaluation give the same rows."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import MakeApp
from tests.rows.conftest import Api, api_on
from tests.sql.conftest import Sql, seed

F = dict[str, Any]


def put_view(api: Api, **settings_: Any) -> None:
    views = api.ok("GET", "/views/", params={"table_name": "T"})["views"]
    if "V" not in [v["name"] for v in views]:
        api.ok("POST", "/views/?table_name=T", json={"name": "V"})
    api.ok("PUT", "/views/V/?table_name=T", json=settings_)


def view_rows(api: Api, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = api.ok(
        "GET", "/rows/", params={"table_name": "T", "view_name": "V", "convert_keys": "True", **params}
    )["rows"]
    return rows


def view_names(api: Api, *filters: F, conjunction: str = "And", **params: Any) -> list[Any]:
    put_view(api, filters=list(filters), filter_conjunction=conjunction, sorts=[])
    return [r["Name"] for r in view_rows(api, **params)]


def f(column: str, predicate: str, term: Any = None, modifier: str | None = None) -> F:
    out: F = {"column_name": column, "filter_predicate": predicate, "filter_term": term}
    if modifier:
        out["filter_term_modifier"] = modifier
    return out


CASES: list[tuple[list[F], str, list[Any]]] = [
    ([f("Name", "is", "apple")], "And", ["apple"]),
    ([f("Name", "is not", "apple")], "And", ["Banana", "cherry", "date", "elder", "fig", None]),
    ([f("Name", "contains", "AN")], "And", ["Banana"]),
    ([f("Name", "does not contain", "e")], "And", ["Banana", "fig", None]),
    ([f("Name", "is empty")], "And", [None]),
    ([f("Price", ">", 3)], "And", ["cherry", "elder"]),
    ([f("Price", ">=", "3")], "And", ["apple", "cherry", "elder", "fig"]),
    ([f("Price", "=", 3)], "And", ["apple", "fig"]),
    ([f("Price", "≠", 3)], "And", ["Banana", "cherry", "date", "elder", None]),
    ([f("Price", "is empty")], "And", ["date"]),
    ([f("Price", "<", 2), f("Status", "is", "closed")], "And", ["Banana"]),
    ([f("Price", "<", 2), f("Status", "is", "closed")], "Or", ["Banana", "date", None]),
    ([f("Status", "is", "o1")], "And", ["apple", "cherry", "fig"]),  # an option id, as the UI stores
    ([f("Status", "is", "open")], "And", ["apple", "cherry", "fig"]),  # or its name
    ([f("Status", "is not", "open")], "And", ["Banana", "date", "elder", None]),
    ([f("Status", "is any of", ["o2", "open"])], "And", ["apple", "Banana", "cherry", "date", "fig"]),
    ([f("Status", "is none of", ["o1"])], "And", ["Banana", "date", "elder", None]),
    ([f("Status", "is empty")], "And", ["elder", None]),
    ([f("Done", "is", True)], "And", ["apple", "date"]),
    ([f("Done", "is", False)], "And", ["Banana", "cherry", "elder", "fig", None]),
    ([f("Day", "is", "2024-01-05", "exact_date")], "And", ["apple", "elder"]),
    ([f("Day", "is before", "2024-01-05")], "And", ["cherry"]),
    ([f("Day", "is on or after", "2024-01-05")], "And", ["apple", "Banana", "elder"]),
    ([f("Day", "is after", 10000, "number_of_days_ago")], "And", ["apple", "Banana", "cherry", "elder"]),
    ([f("Day", "is before", None, "today")], "And", ["apple", "Banana", "cherry", "elder"]),
    ([f("Day", "is not empty")], "And", ["apple", "Banana", "cherry", "elder"]),
    ([f("Tags", "has any of", ["red"])], "And", ["apple", "Banana"]),
    ([f("Tags", "has all of", ["t1", "blue"])], "And", ["Banana"]),
    ([f("Tags", "has none of", ["red"])], "And", ["cherry", "date", "elder", "fig", None]),
    ([f("Tags", "is empty")], "And", ["cherry", "date", "elder", None]),
    ([f("Name", "is", "")], "And", ["apple", "Banana", "cherry", "date", "elder", "fig", None]),  # no term
    ([], "Or", ["apple", "Banana", "cherry", "date", "elder", "fig", None]),
]


@pytest.mark.parametrize(("filters", "conjunction", "expected"), CASES)
def test_view_filters(sql_api: Sql, filters: list[F], conjunction: str, expected: list[Any]) -> None:
    assert view_names(sql_api.api, *filters, conjunction=conjunction) == expected


def test_view_sorts_paging_and_hidden_columns(sql_api: Sql) -> None:
    api = sql_api.api
    columns = {c["name"]: c["key"] for c in api.ok("GET", "/columns/", params={"table_name": "T"})["columns"]}
    put_view(api, filters=[], sorts=[{"column_key": columns["Status"], "sort_type": "up"},
                                     {"column_key": columns["Price"], "sort_type": "down"}],
             hidden_columns=[columns["Tags"], columns["Note Text"]])  # fmt: skip
    rows = view_rows(api)
    # closed < open (names, case-folded); empty Status last; Price descending, empty last
    assert [r["Name"] for r in rows] == ["Banana", "date", "cherry", "apple", "fig", "elder", None]
    assert all("Tags" not in r and "Note Text" not in r and "Name" in r for r in rows)
    assert [r["Name"] for r in view_rows(api, start=2, limit=3)] == ["cherry", "apple", "fig"]
    # order_by comes first, then the view's sorts
    assert [r["Name"] for r in view_rows(api, order_by="Name", direction="desc")][:2] == ["fig", "elder"]
    v1 = api.on("v1").ok("GET", "/rows/", params={"table_name": "T", "view_name": "V"})["rows"]
    assert [r.get("Name") for r in v1] == ["Banana", "date", "cherry", "apple", "fig", "elder", None]
    columns_listed = api.ok("GET", "/columns/", params={"table_name": "T", "view_name": "V"})["columns"]
    assert "Name" in [c["name"] for c in columns_listed]


def test_filtered_rows_with_view_ands_both(sql_api: Sql) -> None:
    api = sql_api.api
    put_view(api, filters=[f("Status", "is", "open")], sorts=[], hidden_columns=[])
    body = {"filters": [{"column_name": "Price", "filter_predicate": ">", "filter_term": 3}]}
    got = api.ok("GET", "/filtered-rows/", params={"table_name": "T", "view_name": "V"}, json=body)["rows"]
    assert [r["Name"] for r in got] == ["cherry"]
    got = api.ok("GET", "/filtered-rows/", params={"table_name": "T"}, json=body)["rows"]
    assert [r["Name"] for r in got] == ["cherry", "elder"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (f("Name", "is within", "x"), "not supported"),
        (f("Tags", "is", "red"), "not supported"),
        (f("Price", "contains", "3"), "not supported"),
        (f("Price", ">", "abc"), "not a number"),
        (f("Day", "is", "soon"), "not a date"),
        (f("Day", "is", None, "the_next_week"), "filter_term_modifier"),
        (f("Nope", "is", "x"), "Nope"),
    ],
)
def test_unsupported_view_filter_is_refused_not_ignored(sql_api: Sql, bad: F, message: str) -> None:
    put_view(sql_api.api, filters=[bad], sorts=[])
    resp = sql_api.api.call("GET", "/rows/", params={"table_name": "T", "view_name": "V"})
    assert resp.status_code in (400, 404), resp.text
    assert message in resp.text


# ---- property: view filter == SQL WHERE == Python ------------------------------------------

NAMES = ["alpha", "Beta", "gamma", "delta", "ALPHA", "beta2", "x"]
STATUS = {"o1": "open", "o2": "closed"}
DAYS = [(date(2024, 1, 1) + timedelta(days=d)).isoformat() for d in (0, 3, 10, 40)]


def make_rows(seed_: int, n: int = 40) -> list[dict[str, Any]]:
    rnd = random.Random(seed_)
    rows = []
    for i in range(n):
        rows.append({
            "Name": rnd.choice([*NAMES, None]) if i else "first",
            "Price": rnd.choice([None, 0, 1, 2.5, 3, 7, -1, 100]),
            "Status": rnd.choice([None, "open", "closed"]),
            "Done": rnd.choice([None, True, False]),
            "Day": rnd.choice([None, *DAYS]),
        })  # fmt: skip
    return rows


DATA = make_rows(7)


@pytest.fixture(scope="module")
def prop(make_module_app: MakeApp) -> Sql:
    api = api_on(make_module_app())
    seed(api, rows=DATA)
    return Sql(api)


def sq(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def text_filter() -> st.SearchStrategy[tuple[F, str, Any]]:
    def build(pred: str, term: str) -> tuple[F, str, Any]:
        lit, pattern = sq(term), sq("%" + term + "%")
        sql = {"is": f"Name = {lit}", "is not": f"(Name is null or Name != {lit})",
               "contains": f"Name like {pattern}",
               "does not contain": f"(Name is null or Name not like {pattern})"}[pred]  # fmt: skip

        def py(row: dict[str, Any]) -> bool:
            v = row["Name"]
            return {"is": v == term, "is not": v != term,
                    "contains": v is not None and term.lower() in v.lower(),
                    "does not contain": v is None or term.lower() not in v.lower()}[pred]  # fmt: skip

        return f("Name", pred, term), sql, py

    return st.builds(build, st.sampled_from(["is", "is not", "contains", "does not contain"]),
                     st.sampled_from(["alpha", "a", "BETA", "x", "2", "first"]))  # fmt: skip


OPS = {"=": "=", "≠": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def number_filter() -> st.SearchStrategy[tuple[F, str, Any]]:
    def build(pred: str, term: float) -> tuple[F, str, Any]:
        sql = f"(Price is null or Price != {term})" if pred == "≠" else f"Price {OPS[pred]} {term}"

        def py(row: dict[str, Any]) -> bool:
            v = row["Price"]
            if v is None:
                return pred == "≠"
            return {"=": v == term, "≠": v != term, "<": v < term, "<=": v <= term, ">": v > term,
                    ">=": v >= term}[pred]  # fmt: skip

        return f("Price", pred, term), sql, py

    return st.builds(build, st.sampled_from(list(OPS)), st.sampled_from([0, 1, 2.5, 3, -1, 50]))


def select_filter() -> st.SearchStrategy[tuple[F, str, Any]]:
    def build(pred: str, term: str) -> tuple[F, str, Any]:
        name = STATUS.get(term, term)
        sql = f"Status = {sq(name)}" if pred == "is" else f"(Status is null or Status != {sq(name)})"
        return (f("Status", pred, term), sql,
                lambda row: (row["Status"] == name) == (pred == "is"))  # fmt: skip

    return st.builds(
        build, st.sampled_from(["is", "is not"]), st.sampled_from(["o1", "o2", "open", "closed"])
    )


def other_filter() -> st.SearchStrategy[tuple[F, str, Any]]:
    choices: list[tuple[F, str, Any]] = [
        (f("Done", "is", True), "Done = true", lambda row: row["Done"] is True),
        (f("Done", "is", False), "Done = false", lambda row: row["Done"] is not True),
        (f("Status", "is empty"), "Status is null", lambda row: row["Status"] is None),
        (f("Price", "is not empty"), "Price is not null", lambda row: row["Price"] is not None),
        (f("Name", "is empty"), "Name is null", lambda row: row["Name"] is None),
    ]
    for day in DAYS:
        choices.append((f("Day", "is before", day), f"Day < {sq(day)}",
                        lambda row, d=day: row["Day"] is not None and row["Day"] < d))  # fmt: skip
        choices.append((f("Day", "is on or after", day), f"Day >= {sq(day)}",
                        lambda row, d=day: row["Day"] is not None and row["Day"] >= d))  # fmt: skip
        choices.append((f("Day", "is", day), f"Day = {sq(day)}", lambda row, d=day: row["Day"] == d))
    return st.sampled_from(choices)


ANY_FILTER = st.one_of(text_filter(), number_filter(), select_filter(), other_filter())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(ANY_FILTER, min_size=1, max_size=3), any_of=st.booleans())
def test_view_filter_equals_sql_where_equals_python(
    prop: Sql, parts: list[tuple[F, str, Any]], any_of: bool
) -> None:
    conjunction = "Or" if any_of else "And"
    joiner = " or " if any_of else " and "
    expected = [
        row["Name"] for row in DATA
        if (any if any_of else all)(py(row) for _, _, py in parts)
    ]  # fmt: skip
    by_view = view_names(prop.api, *[p[0] for p in parts], conjunction=conjunction)
    where = joiner.join(f"({p[1]})" for p in parts)
    by_sql = [r["Name"] for r in prop.rows(f"select Name from T where {where} limit 1000")]
    assert by_view == expected, (parts, conjunction)
    assert by_sql == expected, where
