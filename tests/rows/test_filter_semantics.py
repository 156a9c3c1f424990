"""filtered-rows answers by SeaTable's filter predicates per column type (the view filters'
evaluator): where the old Python evaluator gave other answers (mixed cell types, option ids,
dates with times, checkbox terms, predicates a column type does not offer), these are the
answers; a predicate a column type does not offer is a 400 naming predicate and column."""

from __future__ import annotations

from typing import Any

import pytest

from tests.rows.conftest import Api
from tests.rows.test_endpoints import setup_table

COLUMNS = [
    {"column_name": "Name", "column_type": "text"},
    {"column_name": "n", "column_type": "number"},
    {"column_name": "s", "column_type": "single-select",
     "column_data": {"options": [{"id": "o1", "name": "open", "color": "#fff"},
                                 {"id": "o2", "name": "closed", "color": "#000"}]}},
    {"column_name": "ms", "column_type": "multiple-select",
     "column_data": {"options": [{"id": "m1", "name": "x", "color": "#fff"},
                                 {"id": "m2", "name": "y", "color": "#000"}]}},
    {"column_name": "d", "column_type": "date", "column_data": {"format": "YYYY-MM-DD HH:mm"}},
    {"column_name": "c", "column_type": "checkbox"},
]  # fmt: skip
ROWS = [
    {"Name": "apple", "n": 3, "s": "open", "ms": ["x", "y"], "d": "2030-06-20 23:55", "c": True},
    {"Name": "12", "n": 12, "s": "closed", "ms": ["y"], "d": "2030-06-20", "c": False},
    {"Name": "banana", "d": "1999-01-01"},
    {"Name": "cherry", "n": 0.5, "s": "open"},
]


@pytest.fixture
def table(api: Api) -> Api:
    setup_table(api, columns=COLUMNS)
    api.ok("POST", "/rows/", json={"table_name": "Table1", "rows": ROWS})
    return api


def f(column: str, predicate: str, term: Any = None, **more: Any) -> dict[str, Any]:
    return {"column_name": column, "filter_predicate": predicate, "filter_term": term, **more}


def call(api: Api, filters: list[dict[str, Any]], conjunction: str = "And", **params: Any) -> Any:
    body = {"filters": filters, "filter_conjunction": conjunction}
    return api.call("GET", "/filtered-rows/", params={"table_name": "Table1", **params}, json=body)


def names(api: Api, *filters: dict[str, Any], conjunction: str = "And", **params: Any) -> list[str]:
    resp = call(api, list(filters), conjunction, **params)
    assert resp.status_code == 200, resp.text
    return [r["Name"] for r in resp.json()["rows"]]


CASES: list[tuple[list[dict[str, Any]], str, list[str]]] = [
    # select options by name or by id (the old evaluator compared names only)
    ([f("s", "is", "open")], "And", ["apple", "cherry"]),
    ([f("s", "is", "o1")], "And", ["apple", "cherry"]),
    ([f("s", "is any of", ["o2", "open"])], "And", ["apple", "12", "cherry"]),
    ([f("s", "is not", "open")], "And", ["12", "banana"]),  # negations keep empty cells
    ([f("s", "is none of", ["o1", "closed"])], "And", ["banana"]),
    ([f("ms", "has any of", ["x"])], "And", ["apple"]),
    ([f("ms", "has any of", ["m1"])], "And", ["apple"]),
    ([f("ms", "has all of", ["y", "m1"])], "And", ["apple"]),
    ([f("ms", "has none of", ["x"])], "And", ["12", "banana", "cherry"]),
    # dates compare by day: a date with a time is on its day (the old one compared strings)
    ([f("d", "is", "2030-06-20")], "And", ["apple", "12"]),
    ([f("d", "is before", "2000-01-01")], "And", ["banana"]),
    ([f("d", "is on or after", "2030-06-20")], "And", ["apple", "12"]),
    ([f("d", "is after", "2030-06-20")], "And", []),
    ([f("d", "is", "3", filter_term_modifier="number_of_days_ago")], "And", []),
    # checkbox: an unset cell is unchecked; "false" means false (the old one took it as truthy)
    ([f("c", "is", False)], "And", ["12", "banana", "cherry"]),
    ([f("c", "is", "false")], "And", ["12", "banana", "cherry"]),
    ([f("c", "is", True)], "And", ["apple"]),
    # numbers compare as numbers; text as text, case-insensitively for contains
    ([f("n", "<", 5)], "And", ["apple", "cherry"]),
    ([f("n", "≠", 3)], "And", ["12", "banana", "cherry"]),
    ([f("n", "=", "12")], "And", ["12"]),
    ([f("Name", "is", "12")], "And", ["12"]),
    ([f("Name", "contains", "AN")], "And", ["banana"]),
    ([f("Name", "does not contain", "an")], "And", ["apple", "12", "cherry"]),
    # a value predicate without a term does not narrow (as a view's); emptiness by predicate
    ([f("Name", "is", "")], "And", ["apple", "12", "banana", "cherry"]),
    ([f("n", "is empty")], "And", ["banana"]),
    ([f("ms", "is not empty")], "And", ["apple", "12"]),
    ([f("n", ">", 10), f("Name", "is", "banana")], "Or", ["12", "banana"]),
    ([f("n", ">", 1), f("s", "is", "open")], "And", ["apple"]),
]


@pytest.mark.parametrize("family", ["gw", "v1"])
def test_answers_by_column_type(table: Api, family: str) -> None:
    api = table.on(family)
    for filters, conjunction, expected in CASES:
        assert names(api, *filters, conjunction=conjunction) == expected, filters


REFUSED: list[tuple[dict[str, Any], list[str]]] = [
    (f("Name", "<", "2"), ["<", "Name"]),  # text is not ordered by filters (the old one compared 12 < 2)
    (f("n", "contains", "1"), ["contains", "n"]),
    (f("c", "is not", True), ["is not", "c"]),
    (f("ms", "is", "x"), ["is", "ms"]),
    (f("s", "has any of", ["open"]), ["has any of", "s"]),
    (f("d", "contains", "2030"), ["contains", "d"]),
    (f("n", "near", 1), ["near", "n"]),
    (f("n", "is", "apple"), ["apple", "not a number"]),
    (f("d", "is", "June"), ["June", "not a date"]),
    (f("Name", "is", "a\x00b"), ["NUL", "Name"]),  # PostgreSQL takes no NUL in text
    (f("s", "is any of", ["open", "\x00"]), ["NUL", "s"]),
]


@pytest.mark.parametrize("family", ["gw", "v1"])
def test_predicates_a_type_does_not_offer_are_400(table: Api, family: str) -> None:
    api = table.on(family)
    for spec, words in REFUSED:
        resp = call(api, [f("Name", "is not empty"), spec], "Or")
        assert resp.status_code == 400, (spec, resp.text)
        for word in words:
            assert word in resp.text, (spec, resp.text)
    assert call(api, [f("Nope", "is", 1)]).status_code == 404
    assert call(api, [f("n", ">", 1)], "Xor").status_code == 400
    not_a_filter: list[Any] = [f("n", ">", 1), "x"]
    assert call(api, not_a_filter).status_code == 400


def test_with_a_view_both_hold_in_table_order(table: Api) -> None:
    table.ok("POST", "/views/", params={"table_name": "Table1"}, json={"name": "Open"})
    table.ok("PUT", "/views/Open/", params={"table_name": "Table1"},
             json={"filters": [{"column_key": next(c["key"] for c in table.ok(
                 "GET", "/columns/", params={"table_name": "Table1"})["columns"] if c["name"] == "s"),
                 "filter_predicate": "is", "filter_term": "o1"}],
                 "sorts": [{"column_name": "Name", "sort_type": "down"}]})  # fmt: skip
    for family in ("gw", "v1"):
        api = table.on(family)
        assert names(api, f("n", "<", 5), view_name="Open") == ["apple", "cherry"]  # table order
        assert names(api, f("n", "<", 1), view_name="Open") == ["cherry"]
        either = names(api, f("n", "<", 1), f("Name", "is", "12"), conjunction="Or", view_name="Open")
        assert either == ["cherry"]
        assert call(api, [f("Name", "<", "b")], view_name="Open").status_code == 400
