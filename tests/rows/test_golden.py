"""Responses pinned against the SeaTable 6.x captures in ``golden/`` (key sets and JSON types)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.rows.conftest import Api, golden
from tests.rows.shapes import assert_shape

TEXT_NUMBER = [
    {"column_name": "text", "column_type": "text"},
    {"column_name": "number", "column_type": "number"},
]
FILES_IMAGES = [
    {"column_name": "text", "column_type": "text"},
    {"column_name": "images", "column_type": "image"},
    {"column_name": "files", "column_type": "file"},
]
IMAGE_URL = "/workspace/1/asset/2f1e5d4c-0000-4000-8000-000000000000/images/2026-03/seatable-logo.svg"
FILE_CELL = {
    "name": "test.txt",
    "size": 12,
    "type": "file",
    "url": "/workspace/1/asset/2f1e5d4c-0000-4000-8000-000000000000/files/2026-03/test.txt",
}


def add_table(api: Api, name: str, columns: list[dict[str, Any]]) -> Any:
    return api.ok("POST", "/tables/", json={"table_name": name, "lang": "en", "columns": columns})


@pytest.mark.parametrize("family", ["gw", "v1"])
def test_create_table(api: Api, family: str) -> None:
    res = add_table(api.on(family), "test_createTable", TEXT_NUMBER)
    want = golden("create_table.json" if family == "gw" else "create_table_v1.json")
    want["name"] = "test_createTable"
    assert_shape(res, want)
    assert res["views"] == want["views"]  # literal: Default View "0000" with link_rows
    assert res["view_structure"] == {"folders": [], "view_ids": ["0000"]}
    assert next(c["key"] for c in res["columns"]) == "0000"
    model = golden("metadata.json")["metadata"]["tables"][1]["columns"]
    assert_shape(res["columns"], model)


def test_metadata(api: Api) -> None:
    add_table(api, "test_metadata", TEXT_NUMBER)
    res = api.ok("GET", "/metadata/")
    want = golden("metadata.json")
    want["metadata"]["tables"] = want["metadata"]["tables"][1:]  # atoll bases start without Table1
    assert_shape(res, want)
    md = res["metadata"]
    assert md["format_version"] == 9
    assert md["version"] == 2  # like the capture: base creation + one createTable
    assert md["settings"] == {"date_settings": {"first_day_of_week": "Monday"}}
    table = md["tables"][0]
    number = table["columns"][1]
    assert number["data"] == {"decimal": "dot", "format": "number", "thousands": "no"}
    assert table["views"][0]["summaries"] == {}


def test_list_columns(api: Api) -> None:
    add_table(api, "t", [*TEXT_NUMBER, {"column_name": "long-text", "column_type": "long-text"}])
    res = api.ok("GET", "/columns/", params={"table_name": "t"})
    model = golden("list_columns.json")["columns"]
    assert_shape(res, {"columns": [model[0], model[2], model[1]]})


INSERTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("number-yuan", "number", {"format": "yuan", "decimal": "dot", "thousands": "comma"}),
    ("date-iso", "date", {"format": "YYYY-MM-DD"}),
    ("duration-h-mm-ss", "duration", {"format": "duration", "duration_format": "h:mm:ss"}),
    (
        "single-select",
        "single-select",
        {
            "options": [
                {"name": "alpha", "color": "#9860E5", "textColor": "#000000", "id": "0000"},
                {"name": "beta", "color": "#89D2EA", "textColor": "#000000", "id": "ef3s"},
            ]
        },
    ),
    ("rate", "rate", {"rate_max_number": 5}),
    ("checkbox", "checkbox", None),
    ("email", "email", None),
    ("url", "url", None),
    ("geolocation", "geolocation", {"geo_format": "lng_lat"}),
    ("formula-sum", "formula", {"formula": "1 + 2"}),
    ("auto-number", "auto-number", {"format": "0000", "digits": 4}),
]


@pytest.mark.parametrize(("case", "ctype", "data"), INSERTS, ids=[c[0] for c in INSERTS])
def test_insert_column(api: Api, case: str, ctype: str, data: dict[str, Any] | None) -> None:
    add_table(api, "t", TEXT_NUMBER)
    body: dict[str, Any] = {"table_name": "t", "column_name": case, "column_type": ctype}
    if data is not None:
        body["column_data"] = data
    res = api.ok("POST", "/columns/", json=body)
    want = golden(f"insert_column_{case}.json")
    assert_shape(res, want)
    assert res["data"] == want["data"]
    assert res["name"] == case and res["type"] == ctype and res["width"] == 200


def test_views(api: Api) -> None:
    add_table(api, "t", TEXT_NUMBER)
    listed = api.ok("GET", "/views/", params={"table_name": "t"})
    assert_shape(listed, golden("list_views.json"))
    assert listed["views"][0]["_id"] == "0000"
    one = api.ok("GET", "/views/Default View/", params={"table_name": "t"})
    assert_shape(one, golden("get_view.json"))
    made = api.ok("POST", "/views/", params={"table_name": "t"}, json={"name": "My Custom View"})
    want = golden("create_view.json")
    assert_shape(made, want)
    assert {k: v for k, v in made.items() if k != "_id"} == {k: v for k, v in want.items() if k != "_id"}


def test_list_rows_files_images(api: Api) -> None:
    add_table(api, "t", FILES_IMAGES)
    api.ok(
        "POST", "/rows/", json={"table_name": "t", "rows": [{"images": [IMAGE_URL], "files": [FILE_CELL]}]}
    )
    res = api.ok("GET", "/rows/", params={"table_name": "t", "convert_keys": "True"})
    assert_shape(res, golden("list_rows_files_images.json"))
    row = res["rows"][0]
    assert row["files"] == [FILE_CELL] and row["images"] == [IMAGE_URL]  # stored verbatim
    assert row["_archived"] is False and row["_locked"] is None and row["_locked_by"] is None
    assert row["text"] is None


@pytest.mark.parametrize("family", ["v1", "v1gw"])
def test_list_rows_files_images_v1(api: Api, family: str) -> None:
    add_table(api, "t", FILES_IMAGES)
    v1 = api.on(family)
    v1.ok("POST", "/rows/", json={"table_name": "t", "row": {"images": [IMAGE_URL], "files": [FILE_CELL]}})
    res = v1.ok("GET", "/rows/", params={"table_name": "t"})
    assert_shape(res, golden("list_rows_files_images_v1.json"))


def test_append_rows(api: Api) -> None:
    add_table(api, "t", TEXT_NUMBER)
    rows = [{"text": "a", "number": 1}, {"text": "b"}, {"number": 3}, {}]
    res = api.ok("POST", "/rows/", json={"table_name": "t", "rows": rows})
    assert_shape(res, golden("append_rows.json"))
    first = res["first_row"]
    assert first["0000"] == "a" and first["_id"] == res["row_ids"][0]["_id"]
    number_key = api.ok("GET", "/columns/", params={"table_name": "t"})["columns"][1]["key"]
    assert set(first) == {"0000", number_key, "_id", "_ctime", "_mtime", "_creator", "_last_modifier"}
    assert first[number_key] == 1
    v1 = api.on("v1").ok("POST", "/batch-append-rows/", json={"table_name": "t", "rows": rows})
    assert v1 == golden("append_rows_v1.json")


def test_get_row_gateway_and_v1(api: Api) -> None:
    add_table(api, "t", [*TEXT_NUMBER, {"column_name": "checkbox", "column_type": "checkbox"}])
    row_id = api.ok("POST", "/rows/", json={"table_name": "t", "rows": [{"text": "ABC"}]})["row_ids"][0][
        "_id"
    ]
    gw = api.ok("GET", f"/rows/{row_id}/", params={"table_name": "t", "convert_keys": "True"})
    system = {k: v for k, v in golden("get_row_after_update.json").items() if k.startswith("_")}
    assert_shape(gw, {**system, "text": "str", "number": None, "checkbox": None})
    v1 = api.on("v1").ok("GET", f"/rows/{row_id}/", params={"table_name": "t"})
    want = golden("get_row_v1.json")
    assert_shape(v1, {"_ctime": want["_ctime"], "_id": want["_id"], "_mtime": want["_mtime"], "text": "str"})


def test_batch_append_columns(api: Api) -> None:
    add_table(api, "t", TEXT_NUMBER)
    want = golden("append_columns.json")
    by_case = {case: (ctype, data) for case, ctype, data in INSERTS}
    specs = []
    for column in want["columns"]:  # the capture's nine definitions, in its order
        ctype, data = by_case[column["name"]]
        specs.append(
            {"column_name": column["name"], "column_type": ctype, **({"column_data": data} if data else {})}
        )
    res = api.ok("POST", "/batch-append-columns/", json={"table_name": "t", "columns": specs})
    assert_shape(res, want)
    assert [c["data"] for c in res["columns"]] == [c["data"] for c in want["columns"]]
    listed = api.ok("GET", "/columns/", params={"table_name": "t"})["columns"]
    assert len(listed) == 2 + len(specs)
