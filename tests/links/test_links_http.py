"""Links over HTTP (in-process): link columns and mirrors, every links call on the gateway and
v1, link cells in list/get/filtered rows, get_linked_records, cascades and refusals."""

from __future__ import annotations

from typing import Any

import pytest

from atoll.db import links as lq
from atoll.db.engine import read_tx
from atoll.services.context import Context
from atoll.services.links import MAX_LINKS_PER_CELL
from tests.links.conftest import (
    Linked,
    add_table,
    append,
    cells,
    column_of,
    link_count,
    table_of,
)
from tests.rows.conftest import Api, golden
from tests.rows.shapes import assert_shape
from tests.rows.test_endpoints import error_text


def ids(cell: Any) -> list[str]:
    return [item["row_id"] for item in cell or []]


def gw_add(
    lk: Linked, mapping: dict[str, list[str]], *, table: str = "People", other: str = "Projects"
) -> Any:
    body = {
        "link_id": lk.link_id,
        "table_name": table,
        "other_table_name": other,
        "other_rows_ids_map": mapping,
    }
    return lk.api.ok("POST", "/links/", json=body, family="gw")


# ---- link columns --------------------------------------------------------------------------


def test_link_column_gets_its_data_and_a_mirror(linked: Linked) -> None:
    data = linked.column["data"]
    assert data["table_id"] == linked.people and data["other_table_id"] == linked.projects
    assert data["display_column_key"] == "0000" and data["is_private"] is False
    assert data["is_multiple"] is True and data["result_type"] == "array"
    assert len(data["link_id"]) == 4
    mirror = linked.mirror
    assert mirror["type"] == "link" and mirror["name"] == "People"
    assert mirror["data"]["link_id"] == data["link_id"]
    assert mirror["data"]["table_id"] == linked.projects and mirror["data"]["other_table_id"] == linked.people
    stored = column_of(linked.api, "People", "Projects")
    assert stored["data"] == data


@pytest.mark.parametrize("family", ["gw", "v1"])
def test_link_column_without_other_table_is_refused_and_changes_nothing(api: Api, family: str) -> None:
    add_table(api, "T", [{"column_name": "Name", "column_type": "text"}])
    before = api.ok("GET", "/metadata/", family="gw")["metadata"]
    for data in (
        None,
        {"table": "T"},
        {"table": "T", "other_table": "Nope"},
        {"table": "X", "other_table": "T"},
    ):
        body: dict[str, Any] = {"table_name": "T", "column_name": "L", "column_type": "link"}
        if data:
            body["column_data"] = data
        resp = api.call("POST", "/columns/", json=body, family=family)
        assert resp.status_code == 400
        assert "column_data" in error_text(resp, family)
    assert api.ok("GET", "/metadata/", family="gw")["metadata"] == before


def test_link_ids_are_unique_and_mirror_names_do_not_clash(linked: Linked) -> None:
    api = linked.api
    body = {
        "table_name": "People",
        "column_name": "More",
        "column_type": "link",
        "column_data": {"table": "People", "other_table": linked.projects},
    }
    second = api.ok("POST", "/columns/", json=body, family="v1")
    assert second["data"]["link_id"] != linked.link_id
    names = [c["name"] for c in table_of(api, "Projects")["columns"]]
    assert names == ["Title", "Budget", "People", "People2"]


def test_add_table_with_a_link_column_links_it(api: Api) -> None:
    add_table(api, "Other", [{"column_name": "Name", "column_type": "text"}])
    made = add_table(
        api,
        "New",
        [
            {"column_name": "Name", "column_type": "text"},
            {"column_name": "L", "column_type": "link", "column_data": {"other_table": "Other"}},
        ],
    )
    link = made["columns"][1]["data"]
    assert link["table_id"] == made["_id"] and link["other_table_id"] == table_of(api, "Other")["_id"]
    assert column_of(api, "Other", "New")["data"]["link_id"] == link["link_id"]


def test_batch_append_columns_links_too(api: Api) -> None:
    add_table(api, "Other", [{"column_name": "Name", "column_type": "text"}])
    add_table(api, "T", [{"column_name": "Name", "column_type": "text"}])
    body = {
        "table_name": "T",
        "columns": [
            {"column_name": "L", "column_type": "link", "column_data": {"table": "T", "other_table": "Other"}}
        ],
    }
    (made,) = api.ok("POST", "/batch-append-columns/", json=body, family="gw")["columns"]
    assert made["data"]["other_table_id"] == table_of(api, "Other")["_id"]
    assert column_of(api, "Other", "T")["data"]["link_id"] == made["data"]["link_id"]


def test_retype_to_or_from_link_is_refused(linked: Linked) -> None:
    api = linked.api
    for table, column, new in (("People", "Projects", "text"), ("People", "Name", "link")):
        body = {
            "op_type": "modify_column_type",
            "table_name": table,
            "column": column,
            "new_column_type": new,
        }
        resp = api.call("PUT", "/columns/", json=body, family="gw")
        assert resp.status_code == 400 and "link column" in error_text(resp, "gw")
    assert column_of(api, "People", "Projects")["type"] == "link"


# ---- the links API -------------------------------------------------------------------------


def test_gateway_add_update_remove_both_directions(linked: Linked, ctx: Context) -> None:
    lk, api = linked, linked.api
    assert gw_add(lk, {lk.alice: [lk.pa, lk.pb], lk.bob: [lk.pa]}) == {"success": True}
    people = cells(api, "People", "Projects")
    assert ids(people["Alice"]) == [lk.pa, lk.pb] and ids(people["Bob"]) == [lk.pa]
    assert people["Alice"] == [
        {"row_id": lk.pa, "display_value": "A"},
        {"row_id": lk.pb, "display_value": "B"},
    ]
    projects = cells(api, "Projects", "People")
    assert ids(projects["A"]) == [lk.alice, lk.bob] and ids(projects["B"]) == [lk.alice]
    assert projects["C"] is None
    # adding again is a no-op; from the other side too
    gw_add(lk, {lk.pa: [lk.alice]}, table="Projects", other="People")
    assert link_count(api, ctx.engine) == 3
    # update replaces Bob's links (from the mirror's side: project C -> Bob)
    body = {
        "link_id": lk.link_id,
        "table_name": "People",
        "other_table_name": "Projects",
        "row_id_list": [lk.bob],
        "other_rows_ids_map": {lk.bob: [lk.pc]},
    }
    assert api.ok("PUT", "/links/", json=body, family="gw") == {"success": True}
    assert ids(cells(api, "People", "Projects")["Bob"]) == [lk.pc]
    assert ids(cells(api, "Projects", "People")["C"]) == [lk.bob]
    # remove counts what was there
    body = {
        "link_id": lk.link_id,
        "table_name": "People",
        "other_table_name": "Projects",
        "other_rows_ids_map": {lk.alice: [lk.pb, lk.pc]},
    }
    assert api.ok("DELETE", "/links/", json=body, family="gw") == {"success": True, "deleted_links_count": 1}
    assert ids(cells(api, "People", "Projects")["Alice"]) == [lk.pa]


@pytest.mark.parametrize("family", ["v1", "v1gw"])
def test_v1_bodies(linked: Linked, family: str) -> None:
    lk, api = linked, linked.api
    base = {"link_id": lk.link_id, "table_name": "People", "other_table_name": "Projects"}
    add = {**base, "table_row_id": lk.alice, "other_table_row_id": lk.pb}
    assert api.ok("POST", "/links/", json=add, family=family) == {"success": True}
    update = {**base, "row_id": lk.bob, "other_rows_ids": [lk.pa, lk.pc]}
    assert api.ok("PUT", "/links/", json=update, family=family) == {"success": True}
    assert cells(api, "People", "Projects", family="v1") == {"Alice": [lk.pb], "Bob": [lk.pa, lk.pc]}
    batch = {**base, "row_id_list": [lk.alice, lk.bob], "other_rows_ids_map": {lk.alice: [lk.pc], lk.bob: []}}
    assert api.ok("PUT", "/batch-update-links/", json=batch, family=family) == {"success": True}
    assert cells(api, "People", "Projects", family="v1") == {"Alice": [lk.pc], "Bob": None}
    assert cells(api, "Projects", "People", family="v1") == {"A": None, "B": None, "C": [lk.alice]}
    gone = api.ok(
        "DELETE",
        "/links/",
        json={**base, "table_row_id": lk.alice, "other_table_row_id": lk.pc},
        family=family,
    )
    assert gone == {"success": True, "deleted_links_count": 1}
    again = api.ok(
        "DELETE",
        "/links/",
        json={**base, "table_row_id": lk.alice, "other_table_row_id": lk.pc},
        family=family,
    )
    assert again["deleted_links_count"] == 0


def test_v1_rows_omit_empty_link_cells_and_get_row_shows_links(linked: Linked) -> None:
    lk, api = linked, linked.api
    gw_add(lk, {lk.alice: [lk.pb]})
    v1 = api.ok("GET", "/rows/", params={"table_name": "People"}, family="v1")["rows"]
    assert [r.get("Projects") for r in v1] == [[lk.pb], None]
    assert "Projects" not in v1[1]
    row = api.ok(
        "GET", f"/rows/{lk.alice}/", params={"table_name": "People", "convert_keys": "True"}, family="gw"
    )
    assert row["Projects"] == [{"row_id": lk.pb, "display_value": "B"}]
    key = lk.column["key"]
    row = api.ok("GET", f"/rows/{lk.alice}/", params={"table_name": "People"}, family="gw")
    assert row[key] == [{"row_id": lk.pb, "display_value": "B"}]
    assert api.ok("GET", f"/rows/{lk.pb}/", params={"table_name": "Projects"}, family="v1")["People"] == [
        lk.alice
    ]
    body = {"filters": [{"column_name": "Name", "filter_predicate": "is", "filter_term": "Alice"}]}
    filtered = api.ok("GET", "/filtered-rows/", params={"table_name": "People"}, json=body, family="gw")[
        "rows"
    ]
    assert filtered[0]["Projects"] == [{"row_id": lk.pb, "display_value": "B"}]


def test_sorted_list_rows_fill_links(linked: Linked) -> None:
    lk, api = linked, linked.api
    gw_add(lk, {lk.bob: [lk.pc]})
    params = {"table_name": "People", "convert_keys": "True", "order_by": "Name", "direction": "desc"}
    rows = api.ok("GET", "/rows/", params=params, family="gw")["rows"]
    assert [(r["Name"], ids(r["Projects"])) for r in rows] == [("Bob", [lk.pc]), ("Alice", [])]


@pytest.mark.parametrize(
    "change",
    [
        {"link_id": "zzzz"},
        {"table_name": "Nope"},
        {"other_table_name": "Nope"},
        {"other_table_name": "People"},  # the link does not join People with itself
        {"other_rows_ids_map": {"nosuchrow": ["x"]}},
        {"other_rows_ids_map": {"ALICE": ["nosuchrow"]}},
        {"other_rows_ids_map": {"ALICE": ["ALICE"]}},  # a People row is not a Projects row
        {"other_rows_ids_map": {"ALICE": "PA"}},
        {"other_rows_ids_map": []},
        {"other_rows_ids_map": {}},
        {"link_id": 5},
        {"row_id_list": "x"},
    ],
)
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_bad_input_is_refused_and_changes_nothing(
    linked: Linked, ctx: Context, change: dict[str, Any], method: str
) -> None:
    lk, api = linked, linked.api
    gw_add(lk, {lk.alice: [lk.pa]})
    subst = {"ALICE": lk.alice, "PA": lk.pa}
    body: dict[str, Any] = {
        "link_id": lk.link_id,
        "table_name": "People",
        "other_table_name": "Projects",
        "other_rows_ids_map": {lk.bob: [lk.pb]},
    }
    for key, value in change.items():
        if isinstance(value, dict):
            value = {
                subst.get(k, k): [subst.get(v, v) for v in vs] if isinstance(vs, list) else subst.get(vs, vs)
                for k, vs in value.items()
            }
        body[key] = value
    resp = api.call(method, "/links/", json=body, family="gw")
    assert resp.status_code in (400, 404), resp.text
    assert error_text(resp, "gw")
    assert link_count(api, ctx.engine) == 1
    assert ids(cells(api, "People", "Projects")["Alice"]) == [lk.pa]


def test_update_map_must_name_only_rows_of_row_id_list(linked: Linked, ctx: Context) -> None:
    lk, api = linked, linked.api
    gw_add(lk, {lk.alice: [lk.pa]})
    body = {
        "link_id": lk.link_id,
        "table_name": "People",
        "other_table_name": "Projects",
        "row_id_list": [lk.alice],
        "other_rows_ids_map": {lk.alice: [], lk.bob: [lk.pb]},
    }
    resp = api.call("PUT", "/links/", json=body, family="gw")
    assert resp.status_code == 400 and "row_id_list" in error_text(resp, "gw")
    assert link_count(api, ctx.engine) == 1


def test_read_only_token_can_not_change_links(linked: Linked, ro_api: Api, ctx: Context) -> None:
    body = {
        "link_id": linked.link_id,
        "table_name": "People",
        "other_table_name": "Projects",
        "other_rows_ids_map": {linked.alice: [linked.pa]},
    }
    for method in ("POST", "PUT", "DELETE"):
        assert ro_api.call(method, "/links/", json=body, family="gw").status_code == 403
    assert link_count(linked.api, ctx.engine) == 0
    query = {
        "table_id": linked.people,
        "link_column_key": linked.column["key"],
        "rows": [{"row_id": linked.alice}],
    }
    assert ro_api.ok("POST", "/query-links/", json=query, family="gw") == {linked.alice: []}


def test_row_writes_can_not_set_links(linked: Linked) -> None:
    api = linked.api
    resp = api.call(
        "POST",
        "/rows/",
        json={"table_name": "People", "rows": [{"Name": "C", "Projects": [linked.pa]}]},
        family="gw",
    )
    assert resp.status_code == 400 and "links API" in error_text(resp, "gw")
    resp = api.call(
        "PUT",
        "/rows/",
        json={"table_name": "People", "row_id": linked.alice, "row": {linked.column["key"]: []}},
        family="v1",
    )
    assert resp.status_code == 400 and "links API" in error_text(resp, "v1")
    # null is ignored like any read-only cell
    api.ok(
        "PUT",
        "/rows/",
        json={
            "table_name": "People",
            "updates": [{"row_id": linked.alice, "row": {"Name": "Alicia", "Projects": None}}],
        },
        family="gw",
    )
    assert list(cells(api, "People", "Projects")) == ["Alicia", "Bob"]


# ---- get_linked_records --------------------------------------------------------------------


def test_query_links_and_dtable_db_linked_records(linked: Linked) -> None:
    lk, api = linked, linked.api
    gw_add(lk, {lk.alice: [lk.pa, lk.pb, lk.pc], lk.bob: [lk.pb]})
    body = {
        "table_id": lk.people,
        "link_column_key": lk.column["key"],
        "rows": [{"row_id": lk.alice, "offset": 1, "limit": 5}, {"row_id": lk.bob}],
    }
    got = api.ok("POST", "/query-links/", json=body, family="gw")
    assert got == {
        lk.alice: [{"row_id": lk.pb, "display_value": "B"}, {"row_id": lk.pc, "display_value": "C"}],
        lk.bob: [{"row_id": lk.pb, "display_value": "B"}],
    }
    v1_body = {
        "table_id": lk.projects,
        "link_column": lk.mirror["key"],
        "rows": [{"row_id": lk.pb, "limit": 1}, {"row_id": lk.pa, "offset": 0, "limit": 10}],
    }
    headers = {"Authorization": f"Token {api.access_token}"}
    resp = api.client.post(f"/dtable-db/api/v1/linked-records/{api.uuid}/", json=v1_body, headers=headers)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        lk.pb: [{"row_id": lk.alice, "display_value": "Alice"}],
        lk.pa: [{"row_id": lk.alice, "display_value": "Alice"}],
    }
    bad = [
        {**body, "link_column_key": "nope"},
        {**body, "table_id": "nope"},
        {**body, "rows": [{"row_id": "nosuchrow"}]},
        {**body, "rows": [{"row_id": lk.alice, "limit": 0}]},
        {**body, "rows": [{"row_id": lk.alice, "offset": -1}]},
        {**body, "rows": []},
        {**body, "link_column_key": "0000"},  # not a link column
    ]
    for b in bad:
        resp = api.call("POST", "/query-links/", json=b, family="gw")
        assert resp.status_code in (400, 404), (b, resp.text)
    resp = api.client.post(f"/dtable-db/api/v1/linked-records/{api.uuid}/", json=bad[0], headers=headers)
    assert resp.status_code == 404 and "error_msg" in resp.json()


def test_cells_show_at_most_50_links(api: Api, ctx: Context) -> None:
    add_table(api, "One", [{"column_name": "Name", "column_type": "text"}])
    add_table(api, "Many", [{"column_name": "N", "column_type": "number"}])
    column = api.ok(
        "POST",
        "/columns/",
        json={
            "table_name": "One",
            "column_name": "L",
            "column_type": "link",
            "column_data": {"other_table": "Many"},
        },
        family="gw",
    )
    (one,) = append(api, "One", [{"Name": "x"}])
    many = append(api, "Many", [{"N": i} for i in range(MAX_LINKS_PER_CELL + 10)])
    body = {
        "link_id": column["data"]["link_id"],
        "table_name": "One",
        "other_table_name": "Many",
        "other_rows_ids_map": {one: many},
    }
    api.ok("POST", "/links/", json=body, family="gw")
    cell = cells(api, "One", "L")["x"]
    assert len(cell) == MAX_LINKS_PER_CELL
    assert [c["display_value"] for c in cell] == list(range(MAX_LINKS_PER_CELL))  # numbers stay numbers
    query = {
        "table_id": table_of(api, "One")["_id"],
        "link_column_key": column["key"],
        "rows": [{"row_id": one, "limit": 100}],
    }
    assert len(api.ok("POST", "/query-links/", json=query, family="gw")[one]) == MAX_LINKS_PER_CELL + 10
    assert link_count(api, ctx.engine) == MAX_LINKS_PER_CELL + 10


# ---- cascades ------------------------------------------------------------------------------


def test_deleting_rows_removes_their_links_on_both_sides(linked: Linked, ctx: Context) -> None:
    lk, api = linked, linked.api
    gw_add(lk, {lk.alice: [lk.pa, lk.pb], lk.bob: [lk.pa]})
    api.ok("DELETE", "/rows/", json={"table_name": "Projects", "row_ids": [lk.pa]}, family="gw")
    assert cells(api, "People", "Projects") == {
        "Alice": [{"row_id": lk.pb, "display_value": "B"}],
        "Bob": None,
    }
    api.ok("DELETE", "/rows/", json={"table_name": "People", "row_id": lk.alice}, family="v1")
    assert link_count(api, ctx.engine) == 0


@pytest.mark.parametrize("which", ["column", "mirror"])
def test_deleting_a_link_column_removes_its_mirror_and_links(
    linked: Linked, ctx: Context, which: str
) -> None:
    lk, api = linked, linked.api
    gw_add(lk, {lk.alice: [lk.pa]})
    table, column = ("People", lk.column["key"]) if which == "column" else ("Projects", lk.mirror["key"])
    api.ok("DELETE", "/columns/", json={"table_name": table, "column": column}, family="gw")
    assert [c["name"] for c in table_of(api, "People")["columns"]] == ["Name"]
    assert [c["name"] for c in table_of(api, "Projects")["columns"]] == ["Title", "Budget"]
    assert link_count(api, ctx.engine) == 0


def test_deleting_a_table_removes_mirrors_and_links(linked: Linked, ctx: Context) -> None:
    lk, api = linked, linked.api
    gw_add(lk, {lk.alice: [lk.pa]})
    api.ok("DELETE", "/tables/", json={"table_name": "People"}, family="gw")
    assert [c["name"] for c in table_of(api, "Projects")["columns"]] == ["Title", "Budget"]
    assert link_count(api, ctx.engine) == 0
    assert cells(api, "Projects", "People") == {"A": None, "B": None, "C": None}


def test_self_link_one_column_both_ways(api: Api, ctx: Context) -> None:
    add_table(api, "Tasks", [{"column_name": "Name", "column_type": "text"}])
    column = api.ok(
        "POST",
        "/columns/",
        json={
            "table_name": "Tasks",
            "column_name": "Related",
            "column_type": "link",
            "column_data": {"table": "Tasks", "other_table": "Tasks"},
        },
    )
    assert [c["name"] for c in table_of(api, "Tasks")["columns"]] == ["Name", "Related"]
    tid = table_of(api, "Tasks")["_id"]
    assert column["data"]["table_id"] == column["data"]["other_table_id"] == tid
    a, b, c = append(api, "Tasks", [{"Name": "a"}, {"Name": "b"}, {"Name": "c"}])
    body = {
        "link_id": column["data"]["link_id"],
        "table_name": "Tasks",
        "other_table_name": "Tasks",
        "other_rows_ids_map": {b: [a, c]},
    }
    api.ok("POST", "/links/", json=body, family="gw")
    body["other_rows_ids_map"] = {a: [b]}  # the same pair seen from a
    api.ok("POST", "/links/", json=body, family="gw")
    assert link_count(api, ctx.engine) == 2
    got = {k: ids(v) for k, v in cells(api, "Tasks", "Related").items()}
    assert got == {"a": [b], "b": [a, c], "c": [b]}
    removed = api.ok("DELETE", "/links/", json={**body, "other_rows_ids_map": {c: [b]}}, family="gw")
    assert removed["deleted_links_count"] == 1
    api.ok("DELETE", "/rows/", json={"table_name": "Tasks", "row_ids": [a]}, family="gw")
    assert link_count(api, ctx.engine) == 0


# ---- golden shapes and the SQL helper ------------------------------------------------------


@pytest.mark.parametrize("family", ["gw", "v1"])
def test_list_rows_links_matches_the_recording(api: Api, family: str) -> None:
    """test_listRows_links: links-1 (number 1.1 .. 1.4), links-2 (2.1) linking all six."""
    add_table(api, "links-1", [{"column_name": "number", "column_type": "number"}])
    add_table(api, "links-2", [{"column_name": "number", "column_type": "number"}])
    column = api.ok(
        "POST",
        "/columns/",
        json={
            "table_name": "links-2",
            "column_name": "link",
            "column_type": "link",
            "column_data": {"table": "links-2", "other_table": "links-1"},
        },
        family="gw",
    )
    targets = append(api, "links-1", [{"number": n} for n in (1.1, 1.1, 1.2, 1.3, 1.4, 1.4)])
    (source,) = append(api, "links-2", [{"number": 2.1}])
    api.ok(
        "POST",
        "/links/",
        json={
            "table_name": "links-2",
            "other_table_name": "links-1",
            "link_id": column["data"]["link_id"],
            "other_rows_ids_map": {source: targets},
        },
        family="gw",
    )
    params = {"table_name": "links-2", "convert_keys": "True"}
    got = api.ok("GET", "/rows/", params=params, family=family)
    want = golden(
        "../../links/golden/list_rows_links.json"
        if family == "gw"
        else "../../links/golden/list_rows_links_v1.json"
    )
    assert_shape(got, want)
    cell = got["rows"][0]["link"]
    if family == "gw":
        assert [c["display_value"] for c in cell] == [1.1, 1.1, 1.2, 1.3, 1.4, 1.4]
        assert [c["row_id"] for c in cell] == targets
    else:
        assert cell == targets


def test_linked_ids_for_sql(linked: Linked, ctx: Context) -> None:
    from atoll.services import links as link_service

    lk, api = linked, linked.api
    gw_add(lk, {lk.alice: [lk.pa, lk.pb], lk.bob: [lk.pc]})
    people, projects = table_of(api, "People"), table_of(api, "Projects")
    with read_tx(ctx.engine) as conn:
        got = link_service.linked_ids(conn, api.uuid, people, lk.column, [lk.alice, lk.bob, "nosuchrow"])
        back = link_service.linked_ids(conn, api.uuid, projects, lk.mirror, [lk.pa, lk.pb, lk.pc])
        raw = lq.linked_ids(conn, api.uuid, lk.link_id, lq.side_of(lk.people, lk.projects), [lk.alice])
    assert {k: sorted(v) for k, v in got.items()} == {lk.alice: sorted([lk.pa, lk.pb]), lk.bob: [lk.pc]}
    assert back == {lk.pa: [lk.alice], lk.pb: [lk.alice], lk.pc: [lk.bob]}
    assert sorted(raw[lk.alice]) == sorted([lk.pa, lk.pb])
