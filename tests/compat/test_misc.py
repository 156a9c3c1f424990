"""The official client (4.0.0 on the gateway, 2.6.11 on v1 and dtable-db) through the smaller
calls of issue 11 item 6, against a live atoll: scenarios/misc.py."""

from __future__ import annotations

import pytest

from tests.compat._cases import expect_raised
from tests.compat.clients import CLIENT_VERSIONS
from tests.compat.harness import Client, ScenarioRunner

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
