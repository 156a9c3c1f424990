"""The official client (4.0.0 on the gateway, 2.6.11 on v1 and dtable-db) through the smaller
calls of issue 11 item 6, against a live atoll (scenarios/misc.py); and dtable-sdk, SeaTable's
JavaScript SDK from npm, loading a base through the whole-base document (tests/js/dtable_sdk.js)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.compat._cases import expect_raised
from tests.compat.clients import CLIENT_VERSIONS
from tests.compat.harness import Client, ScenarioRunner
from tests.live_server import LiveServer

pytestmark = pytest.mark.compat

SCRIPT = "misc.py"


@pytest.fixture(params=CLIENT_VERSIONS)
def client(request: pytest.FixtureRequest, official_clients: dict[str, Client]) -> Client:
    return official_clients[request.param]


def test_big_data_insert_rows(client: Client, scenario: ScenarioRunner) -> None:
    res = scenario(client, SCRIPT)
    r = res.check("big_data_insert_rows")
    assert r["returned"] == {"inserted_row_count": 30}
    assert r["names"] == [f"n{i}" for i in range(30)]
    assert r["countries"] == ["DE", "FR"]
    if not client.legacy:  # v1 rows carry no _creator
        assert r["creator"] == res.check("related_users")["first"]["email"]


def test_big_data_insert_rows_errors_insert_nothing(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, SCRIPT).check("big_data_insert_rows_bad")
    expect_raised(r["unknown_table"], 404)
    expect_raised(r["not_a_list"], 400)
    assert "rows invalid" in r["not_a_list"]["message"]
    assert r["count_after"] == 30


def test_add_column_cascade_settings(client: Client, scenario: ScenarioRunner) -> None:
    res = scenario(client, SCRIPT)
    r = res.check("cascade")
    assert r["returned"] == {"success": True}
    assert r["parent_is_country"] is True
    assert r["settings_by_name"] == {"DE": ["Berlin", "Bonn"], "FR": ["Paris"]}
    bad = res.check("cascade_bad")
    expect_raised(bad["unknown_option"], 400)
    assert "no option Rome" in bad["unknown_option"]["message"]
    expect_raised(bad["not_select"], 400)


def test_send_toast_notification(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, SCRIPT).check("toast")
    assert r == {"returned": None, "warning": None}  # the client ignores the answer


def test_related_users_and_user_info(client: Client, scenario: ScenarioRunner) -> None:
    res = scenario(client, SCRIPT)
    users = res.check("related_users")
    assert users["count"] == 1
    first = users["first"]
    assert first["email"].endswith("@auth.local") and first["name"] == "atoll"
    info = res.check("user_info")
    assert info["me"] == {"id_in_org": "", "name": "atoll"}
    expect_raised(info["unknown"], 404)


def test_workflows_email_wechat_are_refused(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, SCRIPT).check("refused")
    for name in ("add_workflow_task", "add_workflow_task_with_existed_row"):
        expect_raised(r[name], 400)
        assert "not supported by this server" in r[name]["message"]
    # the client turns any failure of the account lookup into its own ValueError
    for name in ("send_email", "send_wechat_msg"):
        assert r[name]["raised"] and r[name]["type"] == "ValueError", r[name]


# ---- dtable-sdk (npm), unmodified: tests/js/dtable_sdk.js ------------------------------------

JS = Path(__file__).resolve().parents[1] / "js"
#: More rows than one read batch of the whole-base document (db.rows.BATCH_ROWS).
SDK_ROWS = 1_500


def _node_sdk(server_url: str, token: str) -> dict[str, Any]:
    if shutil.which("node") is None or not (JS / "node_modules" / "dtable-sdk").is_dir():
        pytest.fail("node and tests/js/node_modules are needed: run scripts/services-install")
    out = subprocess.run(["node", str(JS / "dtable_sdk.js"), server_url, token], capture_output=True,
                         text=True, timeout=120, check=False)
    assert out.returncode == 0, (out.stdout[-2000:], out.stderr[-2000:])
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_dtable_sdk_loads_the_base(live_server: LiveServer) -> None:
    token = live_server.create_token("dtable-sdk")
    got = httpx.get(live_server.url + "/api/v2.1/dtable/app-access-token/",
                    headers={"Authorization": f"Token {token}"}).json()
    gw = f"{live_server.url}/api-gateway/api/v2/dtables/{got['dtable_uuid']}"
    auth = {"Authorization": f"Token {got['access_token']}"}
    columns = [{"column_name": "Name", "column_type": "text"},
               {"column_name": "Size", "column_type": "number"}]
    assert httpx.post(gw + "/tables/", json={"table_name": "Items", "columns": columns},
                      headers=auth).status_code == 200
    rows = [{"Name": f"item {i}", "Size": i} for i in range(SDK_ROWS)]
    inserted = httpx.post(gw + "/add-archived-rows/", json={"table_name": "Items", "rows": rows},
                          headers=auth, timeout=60)
    assert inserted.json() == {"inserted_row_count": SDK_ROWS}
    listed: list[str] = []
    for start in range(0, SDK_ROWS, 1000):
        page = httpx.get(gw + "/rows/", params={"table_name": "Items", "start": start, "limit": 1000},
                         headers=auth).json()["rows"]
        listed += [r["_id"] for r in page]

    out = _node_sdk(live_server.url, token)
    assert out["uuid"] == got["dtable_uuid"] and out["app_name"] == "atoll"
    (table,) = out["tables"]
    assert table["name"] == "Items" and table["views"] == ["Default View"]
    assert [(c["name"], c["type"]) for c in table["columns"]] == [("Name", "text"), ("Size", "number")]
    assert table["row_count"] == SDK_ROWS
    assert [r["_id"] for r in table["view_rows"]] == listed
    assert table["for_each_ids"] == listed
    assert table["view_rows"][7]["cells"] == {"Name": "item 7", "Size": 7}
    assert out["related_users"] == [{"email": out["related_users"][0]["email"], "name": "atoll"}]
    assert out["related_users"][0]["email"].endswith("@auth.local")
    assert out["departments"] == []
