"""modify_column_type converts stored cells per pair and says how many converted / emptied."""

from __future__ import annotations

from typing import Any

import pytest

from tests.computed.test_computed_columns import add_table, append, listed
from tests.rows.conftest import Api


def retype(api: Api, column: str, new_type: str, **extra: Any) -> Any:
    body = {"table_name": "t", "op_type": "modify_column_type", "column": column, "new_column_type": new_type}
    return api.call("PUT", "/columns/", json={**body, **extra})


CASES: list[tuple[str, dict[str, Any] | None, list[Any], str, list[Any], int, int]] = [
    # (old type, old data, cells written, new type, cells read back, converted, emptied)
    ("text", None, ["12", " 3.5 ", "abc", "1,000", None], "number", [12, 3.5, None, 1000, None], 3, 1),
    ("number", None, [12, 3.5, -1, None], "text", ["12", "3.5", "-1", None], 3, 0),
    ("text", None, ["red", "blue", "red", ""], "single-select", ["red", "blue", "red", None], 3, 0),
    ("text", None, ["1", "", None], "number", [1, None, None], 1, 0),
    ("text", None, ["a", "b"], "multiple-select", [["a"], ["b"]], 2, 0),
    ("single-select", {"options": [{"name": "7", "id": "aaaaaa"}, {"name": "x", "id": "bbbbbb"}]},
     ["7", "x"], "number", [7, None], 1, 1),
    ("multiple-select", None, [["a", "b"], ["c"]], "text", ["a, b", "c"], 2, 0),
    ("text", None, ["2026-03-01", "01.02.2026 10:30", "soon"], "date",
     ["2026-03-01", "2026-02-01 10:30", None], 2, 1),
    ("date", None, ["2026-03-01", "2026-03-01 10:30"], "text", ["2026-03-01", "2026-03-01 10:30"], 2, 0),
    ("text", None, ["true", "yes", "no", "x"], "checkbox", [True, True, None, True], 3, 1),
    ("checkbox", None, [True, False], "text", ["true", None], 1, 0),
    ("number", None, [0, 2], "checkbox", [None, True], 1, 1),
    ("text", None, ["1:30", "90"], "duration", [5400, 90], 2, 0),
    ("number", None, [3, 4.5], "rate", [3, 4.5], 2, 0),
]  # fmt: skip


@pytest.mark.parametrize(("old", "data", "cells", "new", "want", "converted", "emptied"), CASES,
                         ids=[f"{c[0]}-{c[3]}-{i}" for i, c in enumerate(CASES)])  # fmt: skip
def test_pairs(api: Api, old: str, data: Any, cells: list[Any], new: str, want: list[Any],
               converted: int, emptied: int) -> None:  # fmt: skip
    column: dict[str, Any] = {"column_name": "c", "column_type": old}
    if data is not None:
        column["column_data"] = data
    add_table(api, "t", [{"column_name": "Name", "column_type": "text"}, column])
    append(api, [{"Name": str(i), "c": cell} for i, cell in enumerate(cells)])
    res = retype(api, "c", new)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["type"] == new
    assert (body["converted_cells"], body["emptied_cells"]) == (converted, emptied)
    assert [r.get("c") for r in api.on("v1").ok("GET", "/rows/", params={"table_name": "t"})["rows"]] == want


def test_select_options_created(api: Api) -> None:
    add_table(
        api,
        "t",
        [{"column_name": "Name", "column_type": "text"}, {"column_name": "c", "column_type": "text"}],
    )
    append(api, [{"c": "red"}, {"c": "blue"}, {"c": "red"}])
    options = retype(api, "c", "single-select").json()["data"]["options"]
    assert sorted(o["name"] for o in options) == ["blue", "red"]
    assert all(o["id"] and o["color"] and o["textColor"] for o in options)


def test_sort_keys_recomputed(api: Api) -> None:
    add_table(
        api,
        "t",
        [{"column_name": "Name", "column_type": "text"}, {"column_name": "c", "column_type": "text"}],
    )
    append(api, [{"Name": "ten", "c": "10"}, {"Name": "nine", "c": "9"}, {"Name": "hundred", "c": "100"}])
    retype(api, "c", "number")
    rows = api.ok("GET", "/rows/", params={"table_name": "t", "convert_keys": "true", "order_by": "c"})[
        "rows"
    ]
    assert [r["Name"] for r in rows] == ["nine", "ten", "hundred"]  # as numbers, not as text


def test_unsupported_pair_changes_nothing(api: Api) -> None:
    add_table(
        api,
        "t",
        [{"column_name": "Name", "column_type": "text"}, {"column_name": "c", "column_type": "text"}],
    )
    append(api, [{"c": "x"}])
    res = retype(api, "c", "image")
    assert res.status_code == 400
    assert "from text to image is not supported" in res.json()["error_message"]
    column = api.ok("GET", "/columns/", params={"table_name": "t"})["columns"][1]
    assert column["type"] == "text" and listed(api)[0]["c"] == "x"


def test_to_auto_number_numbers_rows(api: Api) -> None:
    add_table(
        api,
        "t",
        [{"column_name": "Name", "column_type": "text"}, {"column_name": "c", "column_type": "text"}],
    )
    append(api, [{"c": "x"}, {}])
    body = retype(api, "c", "auto-number").json()
    assert body["data"]["max_used_auto_number"] == 2 and body["converted_cells"] == 2
    assert [r["c"] for r in listed(api)] == ["0001", "0002"]


def test_to_formula_needs_a_formula(api: Api) -> None:
    add_table(
        api, "t", [{"column_name": "n", "column_type": "number"}, {"column_name": "c", "column_type": "text"}]
    )
    append(api, [{"n": 2, "c": "x"}])
    assert retype(api, "c", "formula").status_code == 400
    res = retype(api, "c", "formula", column_data={"formula": "{n} * 3"})
    assert res.status_code == 200, res.text
    assert res.json()["data"]["result_type"] == "number" and res.json()["emptied_cells"] == 1
    assert listed(api)[0]["c"] == 6


def test_retyping_a_formula_input_recomputes_it(api: Api) -> None:
    add_table(
        api,
        "t",
        [{"column_name": "Name", "column_type": "text"}, {"column_name": "c", "column_type": "text"}],
    )
    api.ok("POST", "/columns/", json={"table_name": "t", "column_name": "f", "column_type": "formula",
                                      "column_data": {"formula": "{c} + 1"}})  # fmt: skip
    append(api, [{"c": "41"}])
    retype(api, "c", "number")
    assert listed(api)[0]["f"] == 42
    res = retype(api, "c", "image")
    assert res.status_code == 400


def test_changing_a_formula_recomputes_every_row(api: Api) -> None:
    add_table(api, "t", [{"column_name": "n", "column_type": "number"}])
    api.ok("POST", "/columns/", json={"table_name": "t", "column_name": "f", "column_type": "formula",
                                      "column_data": {"formula": "{n} + 1"}})  # fmt: skip
    append(api, [{"n": 1}, {"n": 2}])
    res = retype(api, "f", "formula", column_data={"formula": "{n} * 100"})
    assert res.status_code == 200, res.text
    assert [r["f"] for r in listed(api)] == [100, 200]
    bad = retype(api, "f", "formula", column_data={"formula": "{n} +"})
    assert bad.status_code == 400
    assert (
        api.ok("GET", "/columns/", params={"table_name": "t"})["columns"][1]["data"]["formula"] == "{n} * 100"
    )
