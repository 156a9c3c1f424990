"""Tables, columns, rows and views over HTTP (in-process), for the gateway and v1 families."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest

from tests.conftest import MakeApp
from tests.errors import error_of
from tests.rows.conftest import Api, api_on

COLUMNS = [
    {"column_name": "Name", "column_type": "text"},
    {"column_name": "img_col", "column_type": "image"},
    {"column_name": "file_col", "column_type": "file"},
]
FILE = {
    "name": "a b.pdf",
    "size": 3,
    "type": "file",
    "url": "http://h/workspace/1/asset/u/files/2025-08/a b.pdf",
}
IMG = "http://h/workspace/1/asset/u/images/2025-08/a.png"


def setup_table(
    api: Api, name: str = "Table1", columns: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    body = {"table_name": name, "lang": "en", "columns": columns or COLUMNS}
    res: dict[str, Any] = api.ok("POST", "/tables/", json=body)
    return res


def append(api: Api, row: dict[str, Any], table: str = "Table1") -> str:
    res = api.ok("POST", "/rows/", json={"table_name": table, "rows": [row]})
    row_id: str = res["first_row"]["_id"]
    return row_id


def names(api: Api, table: str = "Table1", **params: Any) -> list[Any]:
    rows = api.ok("GET", "/rows/", params={"table_name": table, "convert_keys": "True", **params})["rows"]
    return [r.get("Name") for r in rows]


def error_text(resp: Any, family: str) -> str:
    body = error_of(resp)  # the request id checked and taken off
    assert isinstance(body, dict), body
    key = "error_message" if family == "gw" else "error_msg"
    assert set(body) == {key}, body
    text: str = body[key]
    return text


# ---- the seed flow: file and image cells ---------------------------------------------------


def test_file_and_image_cells_round_trip_like_the_client(api: Api) -> None:
    setup_table(api)
    row_id = append(api, {"Name": "first"})
    row = api.ok("GET", f"/rows/{row_id}/", params={"table_name": "Table1", "convert_keys": True})
    row["img_col"] = [IMG]
    row["file_col"] = [FILE]
    # the client sends the whole row back, system keys included
    res = api.ok("PUT", "/rows/", json={"table_name": "Table1", "updates": [{"row_id": row_id, "row": row}]})
    assert res == {"success": True}
    got = api.ok("GET", f"/rows/{row_id}/", params={"table_name": "Table1", "convert_keys": "True"})
    assert got["img_col"] == [IMG] and got["file_col"] == [FILE] and got["Name"] == "first"
    assert got["_ctime"] == row["_ctime"] and got["_mtime"] >= row["_mtime"]
    # append to a cell that already has contents
    got["img_col"].append("/workspace/1/asset/u/images/2025-08/b.png")
    got["file_col"].append({**FILE, "name": "naïve 文件.txt", "type": "image"})
    api.ok("PUT", "/rows/", json={"table_name": "Table1", "updates": [{"row_id": row_id, "row": got}]})
    again = api.ok("GET", "/rows/", params={"table_name": "Table1", "convert_keys": "True"})["rows"][0]
    assert again["img_col"] == got["img_col"] and again["file_col"] == got["file_col"]
    # v1 reads the same cells, name-keyed
    v1 = api.on("v1").ok("GET", f"/rows/{row_id}/", params={"table_name": "Table1"})
    assert v1["file_col"] == got["file_col"] and v1["img_col"] == got["img_col"]


BAD_CELLS = [
    ("file_col", "http://h/a.pdf"),
    ("file_col", FILE),
    ("file_col", [{**FILE, "extra": 1}]),
    ("file_col", [{k: v for k, v in FILE.items() if k != "size"}]),
    ("file_col", [{**FILE, "size": "3"}]),
    ("file_col", [{**FILE, "size": True}]),
    ("file_col", [IMG]),
    ("file_col", 7),
    ("img_col", IMG),
    ("img_col", [FILE]),
    ("img_col", [1]),
    ("img_col", {"url": IMG}),
]


@pytest.mark.parametrize("family", ["gw", "v1"])
@pytest.mark.parametrize(("column", "value"), BAD_CELLS)
def test_bad_cell_is_400_and_nothing_is_written(api: Api, family: str, column: str, value: Any) -> None:
    setup_table(api)
    keep = append(api, {"Name": "keep", "img_col": [IMG], "file_col": [FILE]})
    client = api.on(family)
    path = "/rows/" if family == "gw" else "/batch-append-rows/"
    rows = [{"Name": "ok"}, {"Name": "bad", column: value}]
    resp = client.call("POST", path, json={"table_name": "Table1", "rows": rows})
    assert resp.status_code == 400
    assert column in error_text(resp, family) and "rows[1]" in error_text(resp, family)
    # an update batch with one bad row changes nothing either
    path = "/rows/" if family == "gw" else "/batch-update-rows/"
    updates = [{"row_id": keep, "row": {"Name": "changed"}}, {"row_id": keep, "row": {column: value}}]
    resp = client.call("PUT", path, json={"table_name": "Table1", "updates": updates})
    assert resp.status_code == 400
    rows_now = api.ok("GET", "/rows/", params={"table_name": "Table1", "convert_keys": "True"})["rows"]
    assert [(r["Name"], r["img_col"], r["file_col"]) for r in rows_now] == [("keep", [IMG], [FILE])]


def test_null_and_empty_list_clear_file_cells(api: Api) -> None:
    setup_table(api)
    row_id = append(api, {"Name": "x", "img_col": [IMG], "file_col": [FILE]})
    api.ok(
        "PUT",
        "/rows/",
        json={
            "table_name": "Table1",
            "updates": [{"row_id": row_id, "row": {"img_col": None, "file_col": []}}],
        },
    )
    got = api.ok("GET", f"/rows/{row_id}/", params={"table_name": "Table1", "convert_keys": "True"})
    assert got["img_col"] is None and got["file_col"] is None and got["Name"] == "x"
    v1 = api.on("v1").ok("GET", f"/rows/{row_id}/", params={"table_name": "Table1"})
    assert "img_col" not in v1 and "file_col" not in v1  # v1 omits empty cells


# ---- permissions, routing, arguments -------------------------------------------------------

WRITES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/tables/", {"table_name": "New"}),
    ("PUT", "/tables/", {"table_name": "Table1", "new_table_name": "T2"}),
    ("DELETE", "/tables/", {"table_name": "Table1"}),
    ("POST", "/columns/", {"table_name": "Table1", "column_name": "c", "column_type": "text"}),
    (
        "PUT",
        "/columns/",
        {"table_name": "Table1", "op_type": "rename_column", "column": "Name", "new_column_name": "N"},
    ),
    ("DELETE", "/columns/", {"table_name": "Table1", "column": "img_col"}),
    ("POST", "/rows/", {"table_name": "Table1", "rows": [{"Name": "x"}]}),
    ("PUT", "/rows/", {"table_name": "Table1", "updates": [{"row_id": "ROW", "row": {"Name": "y"}}]}),
    ("DELETE", "/rows/", {"table_name": "Table1", "row_ids": ["ROW"]}),
    ("POST", "/batch-append-rows/", {"table_name": "Table1", "rows": [{"Name": "x"}]}),
    ("PUT", "/batch-update-rows/", {"table_name": "Table1", "updates": [{"row_id": "ROW", "row": {}}]}),
    ("DELETE", "/batch-delete-rows/", {"table_name": "Table1", "row_ids": ["ROW"]}),
    ("POST", "/views/?table_name=Table1", {"name": "v2"}),
    ("PUT", "/views/Default View/?table_name=Table1", {"name": "v3"}),
    ("DELETE", "/views/Default View/?table_name=Table1", None),
]


@pytest.mark.parametrize("family", ["gw", "v1"])
def test_read_only_token_reads_but_never_writes(api: Api, ro_api: Api, family: str) -> None:
    setup_table(api)
    row_id = append(api, {"Name": "x"})
    ro = ro_api.on(family)
    assert ro.ok("GET", "/metadata/")["metadata"]["tables"][0]["name"] == "Table1"
    assert len(ro.ok("GET", "/rows/", params={"table_name": "Table1"})["rows"]) == 1
    ro.ok("GET", f"/rows/{row_id}/", params={"table_name": "Table1"})
    ro.ok("GET", "/columns/", params={"table_name": "Table1"})
    ro.ok("GET", "/views/", params={"table_name": "Table1"})
    ro.ok(
        "GET",
        "/filtered-rows/",
        params={"table_name": "Table1"},
        json={"filters": [], "filter_conjunction": "And"},
    )
    before = api.ok("GET", "/metadata/")
    for method, path, body in WRITES:
        if body is not None:
            body = {k: ([{"row_id": row_id, "row": {}}] if k == "updates" else v) for k, v in body.items()}
        resp = ro.call(method, path.replace("ROW", row_id), json=body)
        assert resp.status_code == 403, (method, path, resp.text)
    assert api.ok("GET", "/metadata/") == before
    assert names(api) == ["x"]


def test_other_base_token_is_refused(api: Api, ctx: Any, client: Any) -> None:
    from atoll.services.access import create_api_token
    from tests.rows.conftest import access_token

    other = create_api_token(ctx.engine, base="Other")
    intruder = Api(client, api.uuid, access_token(client, other.token))
    assert intruder.call("GET", "/metadata/").status_code == 403


@pytest.mark.parametrize("path", ["/metadata", "/metadata/"])
def test_trailing_slash_optional_and_no_redirect(api: Api, path: str) -> None:
    resp = api.call("GET", path, follow_redirects=False)
    assert resp.status_code == 200 and resp.json()["metadata"]["tables"] == []


def test_rows_without_trailing_slash_and_hex_uuid(api: Api) -> None:
    setup_table(api)
    api.ok("POST", "/rows", json={"table_name": "Table1", "rows": [{"Name": "a"}]})
    hex_api = Api(api.client, uuid.UUID(api.uuid).hex, api.access_token)
    assert names(hex_api) == ["a"]
    assert hex_api.ok("GET", "/rows", params={"table_name": "Table1"})["rows"][0]["0000"] == "a"


def test_four_char_table_names_sent_as_table_id(api: Api) -> None:
    setup_table(api, "Table1")
    setup_table(
        api,
        "Task",
        [{"column_name": "Name", "column_type": "text"}, {"column_name": "file_col", "column_type": "file"}],
    )
    for family in ("gw", "v1"):
        c = api.on(family)
        body = {"table_name": "Task", "table_id": "Task"}
        if family == "gw":
            c.ok("POST", "/rows/", json={**body, "rows": [{"Name": "t1", "file_col": [FILE]}]})
        else:
            c.ok("POST", "/rows/", json={**body, "row": {"Name": "t2"}})
    listed = api.on("v1").ok("GET", "/rows/", params={"table_name": "Task", "table_id": "Task"})["rows"]
    assert [r["Name"] for r in listed] == ["t1", "t2"] and listed[0]["file_col"] == [FILE]
    # a table_id that is a real table _id wins over the name
    task_id = api.ok("GET", "/metadata/")["metadata"]["tables"][1]["_id"]
    assert names(api, "Table1", table_id=task_id) == ["t1", "t2"]


def test_unknown_table_and_row(api: Api) -> None:
    resp = api.call("GET", "/rows/", params={"table_name": "Nope"})
    assert resp.status_code == 404 and error_text(resp, "gw") == "table Nope not found"
    resp = api.on("v1").call("GET", "/rows/", params={"table_name": "Nope"})
    assert resp.status_code == 404 and error_text(resp, "v1") == "table Nope not found"
    setup_table(api)
    resp = api.call(
        "GET", "/rows/AAAAAAAAAAAAAAAAAAAAAA/", params={"table_name": "Table1", "convert_keys": "True"}
    )
    assert resp.status_code == 404 and error_of(resp) == {"error_message": "row _id not exits"}
    resp = api.call(
        "PUT",
        "/rows/",
        json={
            "table_name": "Table1",
            "updates": [{"row_id": "AAAAAAAAAAAAAAAAAAAAAA", "row": {"Name": "x"}}],
        },
    )
    assert resp.status_code == 404
    resp = api.call("GET", "/rows/", params={"table_name": "Table1", "view_name": "Nope"})
    assert resp.status_code == 404 and error_text(resp, "gw") == "view Nope not found"


def test_bad_json_body_is_400(api: Api) -> None:
    setup_table(api)
    resp = api.client.post(
        api.url("/rows/"), content=b"{not json", headers={"Authorization": f"Token {api.access_token}"}
    )
    assert resp.status_code == 400 and "error_message" in resp.json()
    assert api.call("POST", "/rows/", json={"table_name": "Table1"}).status_code == 400
    assert api.call("POST", "/rows/", json={"table_name": "Table1", "rows": "x"}).status_code == 400


# ---- keys and shapes per family ------------------------------------------------------------


@pytest.mark.parametrize("flag", ["True", "true", "1"])
def test_convert_keys_gives_names(api: Api, flag: str) -> None:
    setup_table(api)
    row_id = append(api, {"Name": "a"})
    row = api.ok("GET", "/rows/", params={"table_name": "Table1", "convert_keys": flag})["rows"][0]
    assert row["Name"] == "a" and "0000" not in row
    one = api.ok("GET", f"/rows/{row_id}/", params={"table_name": "Table1", "convert_keys": flag})
    assert one["Name"] == "a"


@pytest.mark.parametrize("params", [{}, {"convert_keys": "False"}])
def test_gateway_default_is_keys_and_v1_is_names(api: Api, params: dict[str, str]) -> None:
    table = setup_table(api)
    img_key = table["columns"][1]["key"]
    append(api, {"Name": "a", "img_col": [IMG]})
    row = api.ok("GET", "/rows/", params={"table_name": "Table1", **params})["rows"][0]
    assert row["0000"] == "a" and row[img_key] == [IMG] and "Name" not in row
    assert len(row) == 8 + 3  # 8 system keys + every column
    v1 = api.on("v1").ok("GET", "/rows/", params={"table_name": "Table1", **params})["rows"][0]
    assert set(v1) == {"_id", "_ctime", "_mtime", "Name", "img_col"}


def test_v1_append_update_delete(api: Api) -> None:
    setup_table(api)
    v1 = api.on("v1")
    made = v1.ok(
        "POST",
        "/rows/",
        json={"table_name": "Table1", "row": {"Name": "a", "_ctime": "1999", "_creator": "me"}},
    )
    assert made["0000"] == "a" and len(made["_id"]) == 22
    assert made["_creator"].endswith("@auth.local") and made["_ctime"] != "1999"
    assert made["_ctime"].endswith("+00:00") and made["_creator"] == made["_last_modifier"]
    row_id = made["_id"]
    assert v1.ok("PUT", "/rows/", json={"table_name": "Table1", "row_id": row_id, "row": {"Name": "b"}}) == {
        "success": True
    }
    assert names(api) == ["b"]
    b = v1.ok(
        "POST", "/batch-append-rows/", json={"table_name": "Table1", "rows": [{"Name": "c"}, {"Name": "d"}]}
    )
    assert b == {"inserted_row_count": 2}
    ids = [r["_id"] for r in v1.ok("GET", "/rows/", params={"table_name": "Table1"})["rows"]]
    upd = [{"row_id": ids[1], "row": {"Name": "C"}}, {"row_id": ids[2], "row": {"Name": "D"}}]
    assert v1.ok("PUT", "/batch-update-rows/", json={"table_name": "Table1", "updates": upd}) == {
        "success": True
    }
    assert names(api) == ["b", "C", "D"]
    assert v1.ok("DELETE", "/rows/", json={"table_name": "Table1", "row_id": ids[0]}) == {"success": True}
    assert v1.ok("DELETE", "/batch-delete-rows/", json={"table_name": "Table1", "row_ids": ids[1:]}) == {
        "success": True
    }
    assert names(api) == []


def test_v1_insert_row_after_anchor(api: Api) -> None:
    setup_table(api)
    v1 = api.on("v1")
    first = v1.ok("POST", "/rows/", json={"table_name": "Table1", "row": {"Name": "1"}})["_id"]
    v1.ok("POST", "/rows/", json={"table_name": "Table1", "row": {"Name": "3"}})
    v1.ok("POST", "/rows/", json={"table_name": "Table1", "row": {"Name": "2"}, "anchor_row_id": first})
    assert names(api) == ["1", "2", "3"]


def test_gateway_append_update_delete(api: Api) -> None:
    setup_table(api)
    res = api.ok(
        "POST", "/rows/", json={"table_name": "Table1", "rows": [{"Name": "a"}, {"Name": "b"}, {"Name": "c"}]}
    )
    assert res["inserted_row_count"] == 3 and len(res["row_ids"]) == 3
    ids = [r["_id"] for r in res["row_ids"]]
    upd = [{"row_id": ids[0], "row": {"Name": "A"}}, {"row_id": ids[1], "row": {"Name": "B"}}]
    assert api.ok("PUT", "/rows/", json={"table_name": "Table1", "updates": upd}) == {"success": True}
    deleted = api.ok(
        "DELETE", "/rows/", json={"table_name": "Table1", "row_ids": [ids[0], "AAAAAAAAAAAAAAAAAAAAAA"]}
    )
    assert deleted == {"success": True, "deleted_rows": 1}
    assert names(api) == ["B", "c"]


def test_paging_and_ordering(api: Api) -> None:
    setup_table(api)
    api.ok(
        "POST",
        "/rows/",
        json={"table_name": "Table1", "rows": [{"Name": n} for n in ["first", "B1", "b3", "B2"]] + [{}]},
    )
    assert names(api) == ["first", "B1", "b3", "B2", None]
    assert names(api, order_by="Name", direction="asc") == ["B1", "B2", "b3", "first", None]
    assert names(api, order_by="Name", direction="desc") == ["first", "b3", "B2", "B1", None]
    assert names(api, start=1, limit=2) == ["B1", "b3"]
    assert names(api, limit=1) == ["first"]
    assert names(api, order_by="Name", direction="desc", start=1, limit=2) == ["b3", "B2"]
    assert names(api, limit=5000) == ["first", "B1", "b3", "B2", None]  # clamped to the page limit
    assert api.call("GET", "/rows/", params={"table_name": "Table1", "limit": "x"}).status_code == 400
    assert api.call("GET", "/rows/", params={"table_name": "Table1", "order_by": "Nope"}).status_code == 400
    assert names(api, view_name="Default View") == names(api)


def test_filtered_rows_get_with_json_body(api: Api) -> None:
    setup_table(
        api,
        columns=[
            {"column_name": "Name", "column_type": "text"},
            {"column_name": "n", "column_type": "number"},
        ],
    )
    api.ok(
        "POST",
        "/rows/",
        json={
            "table_name": "Table1",
            "rows": [{"Name": "apple", "n": 1}, {"Name": "banana", "n": 5}, {"Name": "cherry"}],
        },
    )
    for family in ("gw", "v1"):
        c = api.on(family)
        body = {
            "filters": [{"column_name": "n", "filter_predicate": ">", "filter_term": 2}],
            "filter_conjunction": "And",
        }
        rows = c.ok("GET", "/filtered-rows/", params={"table_name": "Table1"}, json=body)["rows"]
        assert [r["Name"] for r in rows] == ["banana"]
        body = {
            "filters": [
                {"column_name": "Name", "filter_predicate": "contains", "filter_term": "APP"},
                {"column_name": "n", "filter_predicate": "is empty", "filter_term": ""},
            ],
            "filter_conjunction": "Or",
        }
        rows = c.ok("GET", "/filtered-rows/", params={"table_name": "Table1"}, json=body)["rows"]
        assert [r["Name"] for r in rows] == ["apple", "cherry"]
    bad = {"filters": [{"column_name": "Nope", "filter_predicate": "is", "filter_term": 1}]}
    assert api.call("GET", "/filtered-rows/", params={"table_name": "Table1"}, json=bad).status_code == 404
    xor: dict[str, Any] = {"filters": [], "filter_conjunction": "Xor"}
    assert api.call("GET", "/filtered-rows/", params={"table_name": "Table1"}, json=xor).status_code == 400


def test_cell_types_written_by_name(api: Api) -> None:
    cols: list[dict[str, Any]] = [
        {"column_name": "Name", "column_type": "text"},
        {"column_name": "n", "column_type": "number"},
        {"column_name": "d", "column_type": "date", "column_data": {"format": "YYYY-MM-DD HH:mm"}},
        {"column_name": "s", "column_type": "single-select"},
        {"column_name": "m", "column_type": "multiple-select"},
        {"column_name": "cb", "column_type": "checkbox"},
        {"column_name": "ct", "column_type": "ctime"},
    ]
    setup_table(api, columns=cols)
    v0 = api.ok("GET", "/metadata/")["metadata"]["version"]
    row_id = append(
        api,
        {
            "Name": "x",
            "n": 42.0,
            "d": "2030-06-20 23:55",
            "s": "red",
            "m": ["a", "b"],
            "cb": True,
            "ct": "ignored",
        },
    )
    row = api.ok("GET", f"/rows/{row_id}/", params={"table_name": "Table1", "convert_keys": "True"})
    assert row["n"] == 42 and isinstance(row["n"], int)
    assert row["d"] == datetime(2030, 6, 20, 23, 55).astimezone().isoformat(timespec="seconds")
    assert row["s"] == "red" and row["m"] == ["a", "b"] and row["cb"] is True
    assert row["ct"] == row["_ctime"]
    v1 = api.on("v1").ok("GET", f"/rows/{row_id}/", params={"table_name": "Table1"})
    assert v1["d"] == "2030-06-20 23:55" and v1["s"] == "red"
    md = api.ok("GET", "/metadata/")["metadata"]
    assert md["version"] == v0 + 1  # options were created
    s_col = md["tables"][0]["columns"][3]
    assert [o["name"] for o in s_col["data"]["options"]] == ["red"]
    bad = api.call("POST", "/rows/", json={"table_name": "Table1", "rows": [{"n": "many"}]})
    assert bad.status_code == 400 and "'n'" in bad.json()["error_message"]
    invalid_date = append(api, {"Name": "y", "d": "someday"})
    assert (
        api.ok("GET", f"/rows/{invalid_date}/", params={"table_name": "Table1", "convert_keys": "True"})["d"]
        is None
    )


# ---- tables, columns, views ----------------------------------------------------------------


@pytest.mark.parametrize("family", ["gw", "v1", "v1gw"])
def test_table_lifecycle(api: Api, family: str) -> None:
    c = api.on(family)
    made = c.ok("POST", "/tables/", json={"table_name": "Plain", "lang": "en"})
    assert [(col["key"], col["name"], col["type"]) for col in made["columns"]] == [("0000", "Name", "text")]
    assert made["_id"] == "0000"
    assert c.call("POST", "/tables/", json={"table_name": "Plain"}).status_code == 400
    with_cols = setup_table(c, "Files")
    assert [col["name"] for col in with_cols["columns"]] == ["Name", "img_col", "file_col"]
    assert with_cols["_id"] != "0000"
    append(c.on("gw"), {"Name": "x"}, "Files")
    assert c.ok("PUT", "/tables/", json={"table_name": "Files", "new_table_name": "Docs"}) == {
        "success": True
    }
    assert names(api, "Docs") == ["x"]
    assert c.ok("DELETE", "/tables/", json={"table_name": "Docs"}) == {"success": True}
    tables = [t["name"] for t in c.ok("GET", "/metadata/")["metadata"]["tables"]]
    assert tables == ["Plain"]
    setup_table(c, "Docs")
    assert names(api, "Docs") == []  # the old table's rows went with it


def test_column_operations(api: Api) -> None:
    setup_table(api)
    append(api, {"Name": "x", "img_col": [IMG]})
    cols = api.ok("GET", "/columns/", params={"table_name": "Table1"})["columns"]
    img_key = cols[1]["key"]
    made = api.ok(
        "POST",
        "/columns/",
        json={
            "table_name": "Table1",
            "column_name": "notes",
            "column_type": "long-text",
            "anchor_column": "0000",
        },
    )
    order = [c["name"] for c in api.ok("GET", "/columns/", params={"table_name": "Table1"})["columns"]]
    assert order == ["Name", "notes", "img_col", "file_col"] and made["data"] is None
    renamed = api.ok(
        "PUT",
        "/columns/",
        json={
            "op_type": "rename_column",
            "table_name": "Table1",
            "column": img_key,
            "new_column_name": "pics",
        },
    )
    assert renamed["name"] == "pics" and renamed["key"] == img_key
    by_name = api.ok(
        "PUT",
        "/columns/",
        json={"op_type": "resize_column", "table_name": "Table1", "column": "pics", "new_column_width": 320},
    )
    assert by_name["width"] == 320
    assert api.ok("GET", "/rows/", params={"table_name": "Table1", "convert_keys": "True"})["rows"][0][
        "pics"
    ] == [IMG]
    assert api.ok("DELETE", "/columns/", json={"table_name": "Table1", "column": "pics"}) == {"success": True}
    row = api.ok("GET", "/rows/", params={"table_name": "Table1"})["rows"][0]
    assert img_key not in row
    assert api.call("DELETE", "/columns/", json={"table_name": "Table1", "column": "0000"}).status_code == 400
    assert api.call("DELETE", "/columns/", json={"table_name": "Table1", "column": "nope"}).status_code == 404
    bad_type = {"table_name": "Table1", "column_name": "z", "column_type": "hologram"}
    assert api.call("POST", "/columns/", json=bad_type).status_code == 400


def test_view_operations(api: Api) -> None:
    setup_table(api)
    made = api.ok("POST", "/views/?table_name=Table1", json={"name": "Mine"})
    assert made["name"] == "Mine" and made["type"] == "table" and made["_id"] != "0000"
    renamed = api.ok(
        "PUT",
        "/views/Mine/?table_name=Table1",
        json={"name": "Ours", "sorts": [{"column_name": "Name", "sort_type": "down"}]},
    )
    assert renamed["name"] == "Ours" and renamed["sorts"] == [{"column_name": "Name", "sort_type": "down"}]
    assert api.ok("GET", "/views/Ours/?table_name=Table1")["_id"] == made["_id"]
    assert api.call("GET", "/views/Mine/?table_name=Table1").status_code == 404
    assert api.ok("DELETE", "/views/Ours/?table_name=Table1") == {"success": True}
    listed = api.ok("GET", "/views/", params={"table_name": "Table1"})["views"]
    assert [v["name"] for v in listed] == ["Default View"]
    assert api.call("DELETE", "/views/Default View/?table_name=Table1").status_code == 400


def test_structure_changes_bump_version(api: Api) -> None:
    def version() -> int:
        v: int = api.ok("GET", "/metadata/")["metadata"]["version"]
        return v

    assert version() == 1
    setup_table(api)
    assert version() == 2
    append(api, {"Name": "rows do not change the structure"})
    assert version() == 2
    api.ok("POST", "/columns/", json={"table_name": "Table1", "column_name": "c", "column_type": "text"})
    assert version() == 3


def test_add_column_options(api: Api) -> None:
    setup_table(
        api,
        columns=[
            {"column_name": "Name", "column_type": "text"},
            {"column_name": "s", "column_type": "single-select"},
        ],
    )
    options = [
        {"name": "a", "color": "#aaa", "textColor": "#000"},
        {"name": "b", "color": "#bbb", "textColor": "#000"},
    ]
    for family in ("gw", "v1"):
        res = api.on(family).ok(
            "POST", "/column-options/", json={"table_name": "Table1", "column": "s", "options": options}
        )
        assert res == {"success": True}
    column = api.ok("GET", "/columns/", params={"table_name": "Table1"})["columns"][1]
    assert [o["name"] for o in column["data"]["options"]] == ["a", "b"]
    assert all(isinstance(o["id"], str) and o["id"] for o in column["data"]["options"])
    row_id = append(api, {"s": "b"})
    assert (
        api.ok("GET", f"/rows/{row_id}/", params={"table_name": "Table1", "convert_keys": "True"})["s"] == "b"
    )
    bad = api.call(
        "POST", "/column-options/", json={"table_name": "Table1", "column": "Name", "options": options}
    )
    assert bad.status_code == 400


def test_system_key_column_names_are_reserved(api: Api) -> None:
    setup_table(api)
    bad = api.call(
        "POST", "/columns/", json={"table_name": "Table1", "column_name": "_id", "column_type": "text"}
    )
    assert bad.status_code == 400 and "reserved" in bad.json()["error_message"]


def test_hostile_bodies_are_4xx_and_change_nothing(api: Api) -> None:
    setup_table(api)
    before = api.ok("GET", "/rows/", params={"table_name": "Table1"})
    auth = {"Authorization": f"Token {api.access_token}", "Content-Type": "application/json"}
    for body in (b"[1, 2]", b'"text"', b"null", b"\xff\xfe{}", b'{"table_name": "Table1", "rows": [' * 50):
        resp = api.client.post(api.url("/rows/"), content=body, headers=auth)
        assert resp.status_code == 400, (body[:20], resp.text)
    for params in ({"start": "-1"}, {"limit": "abc"}, {"start": "x"}):
        resp = api.call("GET", "/rows/", params={"table_name": "Table1", **params})
        assert resp.status_code == 400, (params, resp.text)
    assert api.ok("GET", "/rows/", params={"table_name": "Table1"}) == before


def test_bodies_over_the_limits_are_4xx_and_change_nothing(make_app: MakeApp) -> None:
    api = api_on(make_app(max_json_bytes=1000, max_rows_per_batch=3))
    setup_table(api)
    before = api.ok("GET", "/rows/", params={"table_name": "Table1"})
    big = {"table_name": "Table1", "rows": [{"Name": "x" * 2000}]}
    assert api.call("POST", "/rows/", json=big).status_code == 413
    many = {"table_name": "Table1", "rows": [{"Name": str(i)} for i in range(4)]}
    assert api.call("POST", "/rows/", json=many).status_code == 400
    assert api.ok("GET", "/rows/", params={"table_name": "Table1"}) == before
