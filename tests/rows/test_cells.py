"""Cell validation and normalisation (services.cells), without HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from atoll.errors import InvalidInput
from atoll.services.cells import MAX_FILES_PER_CELL, Columns, normalize_cell, normalize_date, normalize_row


def col(ctype: str, name: str = "c", data: Any = None, key: str = "k1") -> dict[str, Any]:
    return {"key": key, "name": name, "type": ctype, "data": data}


GOOD_FILE = {"name": "a.pdf", "size": 3, "type": "file", "url": "/workspace/1/asset/u/files/a.pdf"}

BAD_FILE_CELLS: list[Any] = [
    "https://x/a.pdf",  # a string
    GOOD_FILE,  # a dict not in a list
    42,
    True,
    ["https://x/a.pdf"],  # a string item
    [{"name": "a.pdf", "size": 3, "type": "file"}],  # missing url
    [{**GOOD_FILE, "extra": 1}],  # extra key
    [{**GOOD_FILE, "size": "3"}],
    [{**GOOD_FILE, "size": -1}],
    [{**GOOD_FILE, "size": True}],
    [{**GOOD_FILE, "size": 1.5}],
    [{**GOOD_FILE, "name": 5}],
    [{**GOOD_FILE, "name": ""}],
    [{**GOOD_FILE, "type": "pdf"}],
    [{**GOOD_FILE, "url": None}],
    [{**GOOD_FILE, "url": ""}],
    [GOOD_FILE, None],
]

BAD_IMAGE_CELLS: list[Any] = [
    "https://x/a.png",
    {"url": "https://x/a.png"},
    1,
    [GOOD_FILE],  # a file dict in an image column
    [1],
    [None],
    [""],
    [["https://x/a.png"]],
]


@pytest.mark.parametrize("value", BAD_FILE_CELLS)
def test_bad_file_cell(value: Any) -> None:
    with pytest.raises(InvalidInput) as exc:
        normalize_cell(col("file", "file_col"), value, "rows[0]")
    assert "'file_col'" in exc.value.message and "rows[0]" in exc.value.message


@pytest.mark.parametrize("value", BAD_IMAGE_CELLS)
def test_bad_image_cell(value: Any) -> None:
    with pytest.raises(InvalidInput) as exc:
        normalize_cell(col("image", "img_col"), value, "rows[0]")
    assert "'img_col'" in exc.value.message


@pytest.mark.parametrize(
    "url",
    [
        "https://host/workspace/1/asset/5b7e/images/2025-08/a b.png",
        "/workspace/1/asset/5b7e/images/2025-08/a.png",
        "https://seatable.io/logo.svg",
        "custom-asset://0f3a.png",
    ],
)
def test_urls_stored_verbatim(url: str) -> None:
    assert normalize_cell(col("image"), [url], "r") == ([url], False)
    cell = {"name": "n", "size": 0, "type": "image", "url": url}
    assert normalize_cell(col("file"), [cell], "r") == ([cell], False)


@pytest.mark.parametrize("ctype", ["file", "image"])
@pytest.mark.parametrize("value", [None, []])
def test_null_and_empty_list_clear(ctype: str, value: Any) -> None:
    assert normalize_cell(col(ctype), value, "r") == (None, False)


def test_items_per_cell_limit() -> None:
    normalize_cell(col("image"), ["u"] * MAX_FILES_PER_CELL, "r")
    with pytest.raises(InvalidInput, match="at most"):
        normalize_cell(col("image"), ["u"] * (MAX_FILES_PER_CELL + 1), "r")


def test_numbers() -> None:
    c = col("number")
    assert normalize_cell(c, 42.0, "r") == (42, False)
    assert normalize_cell(c, 499.99, "r") == (499.99, False)
    assert normalize_cell(c, "5", "r") == (5, False)
    assert normalize_cell(c, "", "r") == (None, False)
    for bad in ("abc", True, [1], {"a": 1}, float("nan")):
        with pytest.raises(InvalidInput):
            normalize_cell(c, bad, "r")
    assert normalize_cell(col("duration"), "5400", "r") == (5400, False)
    assert normalize_cell(col("duration"), "1:30", "r") == (5400, False)
    assert normalize_cell(col("duration"), "2:01:05", "r") == (7265, False)


def test_text_checkbox_and_objects() -> None:
    assert normalize_cell(col("text"), "x", "r") == ("x", False)
    assert normalize_cell(col("text"), 5, "r") == ("5", False)
    with pytest.raises(InvalidInput):
        normalize_cell(col("text"), {"a": 1}, "r")
    assert normalize_cell(col("checkbox"), True, "r") == (True, False)
    assert normalize_cell(col("checkbox"), 1, "r") == (False, False)  # SeaTable API_ISSUES #1
    geo = {"lat": 50, "lng": 8.23}
    assert normalize_cell(col("geolocation"), geo, "r") == (geo, False)
    with pytest.raises(InvalidInput):
        normalize_cell(col("geolocation"), "Berlin", "r")


def test_select_options_resolve_and_auto_create() -> None:
    c = col("single-select", data={"options": [{"id": "0000", "name": "alpha"}]})
    assert normalize_cell(c, "alpha", "r") == ("0000", False)
    assert normalize_cell(c, "0000", "r") == ("0000", False)
    value, added = normalize_cell(c, "gamma", "r")
    assert added and [o["name"] for o in c["data"]["options"]] == ["alpha", "gamma"]
    assert value == c["data"]["options"][1]["id"]
    m = col("multiple-select", data=None)
    ids, added = normalize_cell(m, ["a", "b", "a"], "r")
    assert added and len(ids) == 2
    with pytest.raises(InvalidInput):
        normalize_cell(m, "a", "r")
    with pytest.raises(InvalidInput):
        normalize_cell(c, ["alpha"], "r")


@pytest.mark.parametrize(
    ("text", "day_first", "stored"),
    [
        ("2030-06-20", False, "2030-06-20"),
        ("2030/06/20", False, "2030-06-20"),
        ("20.06.2030", False, "2030-06-20"),
        ("6/5/2024", False, "2024-06-05"),
        ("05/06/2024", True, "2024-06-05"),
        ("2030-06-20 23:55", False, "2030-06-20 23:55"),
        ("2030-06-20T23:55:00", False, "2030-06-20 23:55"),
        ("20.06.2030 23:55", False, "2030-06-20 23:55"),
        ("not a date", False, None),
        ("2030-13-40", False, None),
        ("", False, None),
    ],
)
def test_dates(text: str, day_first: bool, stored: str | None) -> None:
    assert normalize_date(text, day_first=day_first) == stored


def test_date_with_offset_becomes_server_time() -> None:
    want = datetime.fromisoformat("2031-12-31T11:30:00+01:00").astimezone().strftime("%Y-%m-%d %H:%M")
    assert normalize_date("2031-12-31T11:30:00+01:00") == want


def test_row_by_name_or_key_ignores_system_and_unknown() -> None:
    columns = Columns(
        [col("text", "Name", key="0000"), col("image", "img", key="abcd"), col("formula", "f", key="ffff")]
    )
    values = normalize_row(
        columns,
        {"Name": "x", "abcd": ["u"], "_id": "zzz", "_ctime": "t", "nope": 1, "f": 3, "_archived": False},
        "rows[0]",
    )
    assert values.cells == {"0000": "x", "abcd": ["u"]}
    with pytest.raises(InvalidInput, match="rows\\[3\\]"):
        normalize_row(columns, ["not", "a", "dict"], "rows[3]")


def test_underscore_column_names_are_columns_but_system_keys_are_not() -> None:
    columns = Columns([col("text", "_note", key="0000")])
    assert normalize_row(columns, {"_note": "x", "_id": "y"}, "r").cells == {"0000": "x"}
