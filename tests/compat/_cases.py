"""The compatibility cases, shared by test_official_client.py and test_sdk.py.

Each test module defines a ``client`` fixture (parametrized over the clients it covers) and
star-imports these functions. Each case asserts on the JSON a scenario script printed; the
script runs once per (client, script) per module, against a fresh base.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote
from uuid import UUID

import pytest

from tests.compat.clients import ScenarioResult
from tests.compat.harness import CUSTOM_FOLDER, Client, ScenarioRunner, make_custom_folder
from tests.compat.scenarios._names import NAMES, SPECIAL_NAMES

ROW_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
CUSTOM_URL = re.compile(r"^custom-asset://[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.")


def asset_url(res: ScenarioResult, folder: str, name: str, *, month: str | None = None) -> str:
    """``<server_url>/workspace/<wid>/asset/<uuid>/<folder>/<month>/<quoted name>``."""
    auth = res.check("auth")
    month = month or res["client"]["month"]
    return (
        f"{res['client']['server_url']}/workspace/{auth['workspace_id']}/asset/"
        f"{auth['dtable_uuid']}/{folder}/{month}/{quote(name)}"
    )


def assert_info(info: dict[str, Any], *, type_: str, name: str, size: int, url: str) -> None:
    assert info == {"type": type_, "size": size, "name": name, "url": url}


def expect_raised(outcome: dict[str, Any], *statuses: int) -> None:
    assert outcome.get("raised"), f"expected an exception, client returned {outcome!r}"
    if statuses:
        assert outcome.get("status") in statuses, outcome


# --------------------------------------------------------------------------------------
# auth
# --------------------------------------------------------------------------------------



def assert_round_trip(res: Any, check: str, *, type_: str, name: str, folder: str) -> None:
    """The upload answered the cell dict for ``name`` and a download gave back the same bytes."""
    r = res.check(check)
    assert_info(r["info"], type_=type_, name=name, size=r["len"], url=asset_url(res, folder, name))
    assert r["downloaded_sha256"] == r["sha256"], f"{check}: downloaded bytes differ"

def test_auth_response(client: Client, scenario: ScenarioRunner) -> None:
    res = scenario(client, "uploads.py")
    auth = res.check("auth")
    assert isinstance(auth["workspace_id"], int)
    assert auth["dtable_uuid"] == str(UUID(auth["dtable_uuid"])), "lowercase dashed uuid"
    if client.official:
        assert isinstance(auth["dtable_server_url"], str)
        if not client.legacy:
            assert auth["use_api_gateway"] is True


# --------------------------------------------------------------------------------------
# simple upload
# --------------------------------------------------------------------------------------


def test_upload_bytes_file_image(client: Client, scenario: ScenarioRunner) -> None:
    res = scenario(client, "uploads.py")
    r = res.check("bytes_image")
    assert_info(
        r["info"],
        type_="image",
        name="my_uploaded_img.png",
        size=r["len"],
        url=asset_url(res, "images", "my_uploaded_img.png"),
    )


def test_upload_bytes_file(client: Client, scenario: ScenarioRunner) -> None:
    res = scenario(client, "uploads.py")
    assert_round_trip(res, "bytes_file", type_="file", name="my_uploaded_file.txt", folder="files")


def test_upload_bytes_from_website(client: Client, scenario: ScenarioRunner) -> None:
    res = scenario(client, "uploads.py")
    r = res.check("bytes_from_website")
    assert r["status"] == 200
    assert r["sha256"] == r["expected_sha256"]
    assert r["info"]["name"] == "my_uploaded_file_copy.txt"
    assert r["info"]["url"] == asset_url(res, "files", "my_uploaded_file_copy.txt")


def test_upload_local_file_image_replace(client: Client, scenario: ScenarioRunner) -> None:
    res = scenario(client, "uploads.py")
    assert_round_trip(res, "local_image_replace", type_="image", name="my_uploaded_img.png", folder="images")


def test_upload_local_file_defaults(client: Client, scenario: ScenarioRunner) -> None:
    res = scenario(client, "uploads.py")
    outcome = res.check("local_defaults")["result"]
    if client.legacy:
        # 2.6.11 bug (contract Q23): upload_local_file without file_type always raises.
        assert outcome["raised"] and outcome["message"] == "file_type invalid."
        return
    assert not outcome.get("raised"), outcome
    info = outcome["returned"]
    assert info["name"] == "local default.txt"
    assert info["type"] == "file"
    assert info["url"] == asset_url(res, "files", "local default.txt")


def test_upload_replace_false_renames(client: Client, scenario: ScenarioRunner) -> None:
    res = scenario(client, "uploads.py")
    r = res.check("no_replace_twice")
    names = [i["name"] for i in r["infos"]]
    assert names == ["dup.txt", "dup (1).txt", "dup (2).txt"]
    assert [i["url"] for i in r["infos"]] == [asset_url(res, "files", n) for n in names]
    assert [i["size"] for i in r["infos"]] == [14, 15, 14]
    assert r["downloaded_sha256"] == r["expected_sha256"]


def test_upload_conflict_name_forms(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, "uploads.py").check("conflict_names")
    assert r["names"] == {"README": "README (1)", "a.tar.gz": "a.tar (1).gz"}


def test_upload_replace_true(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, "uploads.py").check("replace_true")
    assert [i["name"] for i in r["infos"]] == ["rep.txt", "rep.txt"]
    assert r["infos"][0]["url"] == r["infos"][1]["url"]
    assert r["downloaded_sha256"] == r["expected_sha256"]


@pytest.mark.parametrize("name", NAMES + SPECIAL_NAMES)
def test_name_round_trip(client: Client, scenario: ScenarioRunner, name: str) -> None:
    """Upload, then download_file(url) and get_file_download_link('files/YYYY-MM/<name>')."""
    res = scenario(client, "uploads.py")
    group = "names" if name in NAMES else "names_special"
    r = res.check(f"{group}:{name}")
    assert_info(r["info"], type_="file", name=name, size=r["len"], url=asset_url(res, "files", name))
    assert r["download_file_sha256"] == r["sha256"]
    assert r["link_status"] == 200
    assert r["link_sha256"] == r["sha256"]
    assert "?" not in r["download_link"].split("/")[-2]
    assert "content-encoding" not in r["link_headers"]


def test_download_file_to_directory(client: Client, scenario: ScenarioRunner) -> None:
    """The seed passes a directory ("/tmp/files/") as save_path.

    The official client opens save_path for writing, so it raises IsADirectoryError -- after the
    server answered 200 (a server error would raise 'download file error' or ConnectionError).
    """
    r = scenario(client, "uploads.py").check("download_to_dir")
    outcome = r["result"]
    if client.official or outcome.get("raised"):
        assert outcome.get("raised") and outcome["type"] == "IsADirectoryError", outcome
        assert r["dir_listing"] == []
    else:  # our SDK may save into the directory
        assert r["dir_listing"] == ["my_uploaded_file.txt"]


# --------------------------------------------------------------------------------------
# detailed upload / download
# --------------------------------------------------------------------------------------


def test_get_file_upload_link(client: Client, scenario: ScenarioRunner) -> None:
    res = scenario(client, "uploads.py")
    d = res.check("upload_link")["dict"]
    uuid = res.check("auth")["dtable_uuid"]
    month = res["client"]["month"]
    assert d["upload_link"].startswith(("http://", "https://"))
    assert "?" not in d["upload_link"]
    assert d["parent_path"] == f"/asset/{uuid}"
    assert d["img_relative_path"] == f"images/{month}"
    assert d["file_relative_path"] == f"files/{month}"


def _assert_upload_json(r: dict[str, Any], name: str) -> None:
    assert r["status"] == 200, r
    body = r.get("json")
    assert isinstance(body, list) and len(body) == 1, r
    assert set(body[0]) == {"name", "id", "size"}
    assert body[0]["name"] == name
    assert body[0]["size"] == r["len"]
    assert isinstance(body[0]["id"], str) and body[0]["id"]


def test_detailed_upload_without_relative_path(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, "uploads.py").check("detailed_no_relative_path")
    _assert_upload_json(r, "file_uploaded.txt")
    assert r["download"] == {"status": 200, "sha256": r["sha256"]}


def test_detailed_upload_with_relative_path(client: Client, scenario: ScenarioRunner) -> None:
    res = scenario(client, "uploads.py")
    r = res.check("detailed_relative_path")
    assert r["relative_path"] == f"files/{res['client']['month']}"
    _assert_upload_json(r, "file uploaded (2).txt")
    assert r["download"] == {"status": 200, "sha256": r["sha256"]}
    assert r["download_file_sha256"] == r["sha256"]


def test_detailed_upload_replace(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, "uploads.py").check("detailed_replace")
    assert r["statuses"] == [200, 200, 200]
    assert r["names"] == ["detailed_rep.txt", "detailed_rep.txt", "detailed_rep (1).txt"]
    assert r["replaced_sha256"] == r["expected_sha256"]


def test_detailed_upload_without_ret_json(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, "uploads.py").check("detailed_no_ret_json")
    assert r["status"] == 200
    assert re.fullmatch(r"[0-9a-f]{40}", r["text"].strip()), r["text"]


def test_detailed_upload_errors(client: Client, scenario: ScenarioRunner) -> None:
    """Seafile's file-server answers to malformed uploads (contract §4.3)."""
    r = scenario(client, "uploads.py").check("detailed_errors")
    assert r == {
        "parent_dir_mismatch": 403,
        "no_parent_dir": 400,
        "relative_path_leading_slash": 400,
        "relative_path_dotdot": 400,
        "bad_replace": 400,
        "no_file": 400,
        "unknown_ticket": 403,
        "download_unknown_ticket": 403,
    }


def test_large_file_round_trip(client: Client, scenario: ScenarioRunner) -> None:
    res = scenario(client, "uploads.py")
    assert_round_trip(res, "large_file", type_="file", name="big file.bin", folder="files")


def test_download_link_headers(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, "uploads.py").check("download_headers")
    assert r["status"] == 200
    assert r["content_length"] == str(r["expected_length"])
    assert "my_uploaded_file.txt" in (r["content_disposition"] or "")
    assert r["range_status"] == 206 and r["range_ok"]
    assert r["content_range"] == f"bytes 2-5/{r['expected_length']}"


def test_relative_path_argument(client: Client, scenario: ScenarioRunner) -> None:
    res = scenario(client, "uploads.py")
    r = res.check("relative_path_argument")
    if client.legacy:  # 2.6.x sends the caller's relative_path (contract Q4)
        assert r["info"]["url"] == asset_url(res, "files", "old-client.txt", month="2020-01")
    else:  # 3.1.4+ ignores it and uses the server's file_relative_path
        assert r["info"]["url"] == asset_url(res, "files", "old-client.txt")
    assert r["downloaded_sha256"] == r["sha256"]


def test_legacy_arbitrary_relative_path(client: Client, scenario: ScenarioRunner) -> None:
    if not client.legacy:
        pytest.skip("only clients <= 3.0 send a caller-chosen relative_path")
    res = scenario(client, "uploads.py")
    r = res.check("relative_path_custom")
    auth = res.check("auth")
    assert r["info"]["url"] == (
        f"{res['client']['server_url']}/workspace/{auth['workspace_id']}/asset/"
        f"{auth['dtable_uuid']}/custom/legacy/legacy.bin"
    )
    assert r["downloaded_sha256"] == r["sha256"]


def test_download_link_is_multi_use(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, "uploads.py").check("download_link_reuse")
    assert r["statuses"] == [200, 200]


def test_download_link_leading_slash(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, "uploads.py").check("download_link_leading_slash")
    assert r["status"] == 200
    assert r["sha256"] == r["expected_sha256"]


def test_download_link_missing_asset(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, "uploads.py").check("download_missing")
    expect_raised(r["result"], 400, 404)


# --------------------------------------------------------------------------------------
# rows with file and image cells
# --------------------------------------------------------------------------------------


def _columns(table: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["type"] for c in table["columns"]}


def test_add_table_with_file_and_image_columns(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, "rows.py").check("add_table")
    assert r["table"]["name"] == "Table1"
    assert _columns(r["table"]) == {"Name": "text", "img_col": "image", "file_col": "file"}


def test_append_get_list_row(client: Client, scenario: ScenarioRunner) -> None:
    res = scenario(client, "rows.py")
    row_id = res.check("append_row")["row_id"]
    assert ROW_ID.match(row_id)
    row = res.check("get_row")["row"]
    assert row["_id"] == row_id
    assert row["Name"] == "first"
    rows = res.check("list_rows")["rows"]
    assert [(x["_id"], x["Name"]) for x in rows] == [(row_id, "first")]


def test_seed_image_cell(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, "rows.py").check("seed_image_cell")
    assert r["update_returned"] == {"success": True}
    assert r["get_row"] == r["expected"]
    assert r["list_rows"] == r["expected"]


def test_seed_file_cell(client: Client, scenario: ScenarioRunner) -> None:
    res = scenario(client, "rows.py")
    r = res.check("seed_file_cell")
    assert r["update_returned"] == {"success": True}
    assert r["get_row"] == r["expected"]
    assert r["list_rows"] == r["expected"]
    assert r["get_row_img"] == res.check("seed_image_cell")["expected"]


def test_seed_append_to_nonempty_cell(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, "rows.py").check("seed_append_to_cell")
    assert r["update_returned"] == {"success": True}
    assert r["get_row"] == {
        "img_col": r["expected_img"],
        "file_col": r["expected_file"],
        "Name": "first",
    }
    assert r["list_rows"] == {"img_col": r["expected_img"], "file_col": r["expected_file"]}


def test_image_info_dict_in_file_cell(client: Client, scenario: ScenarioRunner) -> None:
    """The seed puts the dict of an image upload (type 'image') into a file column."""
    r = scenario(client, "rows.py").check("image_info_in_file_cell")
    assert r["update_returned"] == {"success": True}
    assert r["got"] == r["expected"]


def test_cells_with_relative_and_external_urls(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, "rows.py").check("other_cell_urls")
    assert r["got"] == r["expected"]


def test_batch_append_rows(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, "rows.py").check("batch_append_rows")
    assert r["returned"]["inserted_row_count"] == 3
    assert r["names"] == ["first", "b1", "b2", "b3"]
    assert r["b1_file_col"] == r["expected_b1_file_col"]
    assert r["b2_img_col"] == r["expected_b2_img_col"]


def test_batch_update_rows(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, "rows.py").check("batch_update_rows")
    assert r["returned"] == {"success": True}
    assert r["b1"] == r["expected_b1"]
    assert r["b2"] == r["expected_b2"]


def test_list_rows_order_start_limit(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, "rows.py").check("list_rows_paging")
    assert r["all"] == ["first", "B1", "B2", "b3"]
    assert r["order_asc"] == ["B1", "B2", "b3", "first"]
    assert r["order_desc"] == ["first", "b3", "B2", "B1"]
    assert r["start1_limit2"] == ["B1", "B2"]
    assert r["limit1"] == ["first"]
    assert r["ordered_paged"] == ["b3", "B2"]


def test_default_view(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, "rows.py").check("default_view")
    assert r["views"] == ["Default View"]
    assert r["rows"] == ["first", "B1", "B2", "b3"]


def test_delete_rows(client: Client, scenario: ScenarioRunner) -> None:
    res = scenario(client, "rows.py")
    one = res.check("delete_row")
    assert isinstance(one["returned"], dict)
    assert one["names_after"] == ["first", "B1", "B2"]
    many = res.check("batch_delete_rows")
    assert isinstance(many["returned"], dict)
    assert many["names_after"] == ["first"]
    if client.legacy:  # v1 dtable-server
        assert one["returned"] == {"success": True}
        assert many["returned"] == {"success": True}


def test_get_missing_row(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, "rows.py").check("get_missing_row")
    expect_raised(r["result"], 404)


def test_four_character_table_name(client: Client, scenario: ScenarioRunner) -> None:
    """'Task' looks like a table id: the client sends table_id='Task' too (contract Q5)."""
    r = scenario(client, "rows.py").check("task_table")
    assert r["add_table"]["name"] == "Task"
    assert r["list_rows"] == ["t1", "t2", "t3"]
    assert r["get_row"] == {"Name": "t1", "file_col": r["expected_file_col"]}
    assert r["batch_append"]["inserted_row_count"] == 2
    assert r["update_row"] == {"success": True}
    assert r["after_update"] == "t1b"
    assert r["batch_update"] == {"success": True}
    assert r["final"] == ["t2b"]


def test_metadata_and_list_tables(client: Client, scenario: ScenarioRunner) -> None:
    res = scenario(client, "rows.py")
    initial = res.check("initial_tables")["names"]
    md = res.check("metadata")
    assert "tables" in md["keys"]
    names = [t["name"] for t in md["tables"]]
    assert names == [*initial, "Table1", "Task"]
    table1 = next(t for t in md["tables"] if t["name"] == "Table1")
    assert _columns(table1) == {"Name": "text", "img_col": "image", "file_col": "file"}
    assert all(c["key"] for c in table1["columns"])
    assert res.check("list_tables")["tables"] == md["tables"]


# --------------------------------------------------------------------------------------
# custom folders
# --------------------------------------------------------------------------------------


def _custom(client: Client, scenario: ScenarioRunner) -> tuple[ScenarioResult, str | None]:
    def prepare(base: str, token: str) -> dict[str, object]:
        why = make_custom_folder(scenario.server, base, token, CUSTOM_FOLDER)
        return {"custom_folder_missing": why}

    res = scenario(client, "custom.py", prepare=prepare)
    why = scenario.notes[(client.name, "custom.py")].get("custom_folder_missing")
    return res, why  # type: ignore[return-value]


def _needs_main(why: str | None) -> None:
    if why:
        pytest.xfail(f"TODO: {why}")


def test_custom_root_upload(client: Client, scenario: ScenarioRunner) -> None:
    res, _ = _custom(client, scenario)
    before = res.check("list_root_before")["listing"]
    assert set(before) >= {"dir", "file"}
    r = res.check("upload_root")
    info = r["info"]
    assert info["type"] == "file"
    assert info["name"] == "root file.txt"
    assert info["size"] == r["len"]
    assert CUSTOM_URL.match(info["url"]) and info["url"].endswith(".txt")
    assert r["downloaded_sha256"] == r["sha256"]
    assert r["info_again"] == info
    listing = res.check("list_root")["listing"]
    assert "root file.txt" in [f["name"] for f in listing["file"]]  # atoll adds size, sha256


def test_custom_upload_to_folder(client: Client, scenario: ScenarioRunner) -> None:
    res, why = _custom(client, scenario)
    _needs_main(why)
    r = res.check("upload_main")
    info = r["info"]
    assert info["type"] == "file"
    assert info["name"] == "sky.png"
    assert info["size"] == r["len"]
    assert CUSTOM_URL.match(info["url"]) and info["url"].endswith(".png")
    again = res.check("upload_main_again")["info"]
    assert again["name"] == "sky (1).png"  # custom uploads never replace (contract Q16)
    assert again["url"] != info["url"]
    named = res.check("upload_main_named")
    assert named["info"]["name"] == "ü photo (1).png"
    assert named["downloaded_sha256"] == named["sha256"]


def test_custom_file_info_is_stable(client: Client, scenario: ScenarioRunner) -> None:
    res, why = _custom(client, scenario)
    _needs_main(why)
    r = res.check("custom_file_info")
    uploaded = res.check("upload_main")["info"]
    assert r["first"] == uploaded
    assert r["second"] == uploaded
    assert r["no_trailing_slash"] == uploaded
    expect_raised(res.check("custom_file_info_missing")["result"], 404)


def test_list_custom_assets(client: Client, scenario: ScenarioRunner) -> None:
    res, why = _custom(client, scenario)
    _needs_main(why)
    r = res.check("list_main")
    assert r["main"]["dir"] == []
    assert sorted(f["name"] for f in r["main"]["file"]) == [
        "sky (1).png",
        "sky.png",
        "ü photo (1).png",
    ]
    assert {"name": "Main"} in r["root"]["dir"]


def test_download_custom_file(client: Client, scenario: ScenarioRunner) -> None:
    res, why = _custom(client, scenario)
    _needs_main(why)
    r = res.check("download_custom")
    assert r["sha256"] == r["expected_sha256"]
    assert r["renamed_sha256"] == r["expected_renamed_sha256"]
    assert r["link"] == {"status": 200, "sha256": r["expected_sha256"]}
    expect_raised(res.check("download_custom_missing")["result"], 400, 404)


def test_custom_file_via_system_download_link(client: Client, scenario: ScenarioRunner) -> None:
    res, why = _custom(client, scenario)
    _needs_main(why)
    r = res.check("custom_via_system_link")
    assert r["status"] == 200
    assert r["sha256"] == r["expected_sha256"]


def test_custom_path_quirks(client: Client, scenario: ScenarioRunner) -> None:
    """list_custom_assets('Main') -> 404, '' -> 400, a missing folder -> 404 (contract Q15)."""
    res, _ = _custom(client, scenario)
    r = res.check("custom_path_quirks")
    expect_raised(r["no_leading_slash"], 404)
    expect_raised(r["empty"], 400)
    expect_raised(r["missing_dir"], 404)
    expect_raised(res.check("custom_upload_missing_folder")["result"], 404)


def test_custom_file_in_file_cell(client: Client, scenario: ScenarioRunner) -> None:
    res, why = _custom(client, scenario)
    _needs_main(why)
    r = res.check("file_cell")
    assert r["update_returned"] == {"success": True}
    assert r["got"] == r["expected"]


# --------------------------------------------------------------------------------------
# errors and permissions
# --------------------------------------------------------------------------------------


def test_wrong_token_auth_raises(client: Client, scenario: ScenarioRunner) -> None:
    res = scenario(client, "errors.py", ro_token=True)
    expect_raised(res.check("wrong_token")["result"], 403)
    expect_raised(res.check("garbage_token")["result"], 401, 403)
    expect_raised(res.check("jwt_as_api_token")["result"], 401, 403)


def test_read_only_token_reads(client: Client, scenario: ScenarioRunner) -> None:
    res = scenario(client, "errors.py", ro_token=True)
    res.check("setup")
    res.check("auth_ro")
    r = res.check("ro_reads")
    assert r["names"] == ["kept"]
    assert r["get_row"] == "kept"
    assert r["tables"] == ["Table1"]
    dl = res.check("ro_download")
    assert dl == {"status": 200, "sha256": res.check("setup")["sha256"]}


def test_read_only_token_cannot_write(client: Client, scenario: ScenarioRunner) -> None:
    res = scenario(client, "errors.py", ro_token=True)
    r = res.check("ro_writes")
    for call in (
        "get_file_upload_link",
        "update_row",
        "append_row",
        "delete_row",
        "add_table",
        "custom_upload_link",
    ):
        expect_raised(r[call], 403)
    # upload_bytes_file fails on its upload-link call with the same ConnectionError
    expect_raised(r["upload_bytes_file"], 403)
    after = res.check("after_ro_writes")
    assert after == {"names": ["kept"], "tables": ["Table1"]}
