"""Links through the unmodified official client: 4.0.0 (gateway ``links/``, ``query-links/``)
and 2.6.11 (v1 ``links/``, ``batch-update-links/``, dtable-db ``linked-records/``).

    .venv/bin/python -m pytest tests/compat/test_links.py -m compat
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.compat.clients import CLIENT_VERSIONS, ScenarioResult
from tests.compat.harness import Client, ScenarioRunner

pytestmark = pytest.mark.compat


@pytest.fixture(params=CLIENT_VERSIONS)
def client(request: pytest.FixtureRequest, official_clients: dict[str, Client]) -> Client:
    return official_clients[request.param]


def run(client: Client, scenario: ScenarioRunner) -> tuple[ScenarioResult, dict[str, str]]:
    res = scenario(client, "links.py")
    return res, res.check("setup")["ids"]


def test_link_column_and_mirror(client: Client, scenario: ScenarioRunner) -> None:
    res, _ = run(client, scenario)
    r = res.check("insert_link_column")
    data = r["column"]["data"]
    assert r["link_id"] == data["link_id"]
    assert data["table_id"] == r["tables"]["People"] and data["other_table_id"] == r["tables"]["Projects"]
    assert data["is_private"] is False and data["display_column_key"] == "0000"
    mirror = r["mirror"]
    assert mirror["name"] == "People" and mirror["data"]["link_id"] == data["link_id"]
    assert mirror["data"]["table_id"] == data["other_table_id"]
    assert mirror["data"]["other_table_id"] == data["table_id"]


def test_add_link_and_link_cells(client: Client, scenario: ScenarioRunner) -> None:
    res, ids = run(client, scenario)
    r = res.check("add_link")
    assert r["returned"] == {"success": True}
    if client.legacy:  # v1 rows: the linked row ids, empty cells omitted
        assert r["people"] == {"Alice": [ids["A"]], "Bob": None}
        assert r["projects"] == {"A": [ids["Alice"]], "B": None, "C": None}
        assert r["get_row"] == [ids["A"]]
    else:  # gateway: [{row_id, display_value}]
        assert r["people"] == {"Alice": [{"row_id": ids["A"], "display_value": "A"}], "Bob": None}
        assert r["projects"]["A"] == [{"row_id": ids["Alice"], "display_value": "Alice"}]
        assert r["get_row"] == [{"row_id": ids["A"], "display_value": "A"}]


def test_batch_add_links(client: Client, scenario: ScenarioRunner) -> None:
    res, ids = run(client, scenario)
    r = res.check("batch_add_links")
    if client.legacy:
        assert r["missing"] is True  # 2.6.11 has no batch_add_links
    else:
        assert r["returned"] == {"success": True}
    assert r["people"] == {"Alice": [ids["A"], ids["B"]], "Bob": [ids["A"]]}


def test_update_link_and_batch_update_links(client: Client, scenario: ScenarioRunner) -> None:
    res, ids = run(client, scenario)
    r = res.check("update_link")
    assert r["returned"] == {"success": True}
    assert r["people"] == {"Alice": [ids["A"], ids["B"]], "Bob": [ids["C"]]}
    assert r["projects"] == {"A": [ids["Alice"]], "B": [ids["Alice"]], "C": [ids["Bob"]]}
    r = res.check("batch_update_links")
    assert r["returned"] == {"success": True}
    assert r["people"] == {"Alice": [ids["A"], ids["B"], ids["C"]], "Bob": [ids["B"]]}


def test_get_linked_records(client: Client, scenario: ScenarioRunner) -> None:
    res, ids = run(client, scenario)
    got: Any = res.check("get_linked_records")["returned"]
    assert got == {
        ids["Alice"]: [{"row_id": ids["B"], "display_value": "B"}],
        ids["Bob"]: [{"row_id": ids["B"], "display_value": "B"}],
    }


def test_remove_links(client: Client, scenario: ScenarioRunner) -> None:
    res, ids = run(client, scenario)
    r = res.check("remove_link")
    assert r["returned"] == {"success": True, "deleted_links_count": 1}
    assert r["again"] == {"success": True, "deleted_links_count": 0}
    assert r["people"] == {"Alice": [ids["B"], ids["C"]], "Bob": [ids["B"]]}
    r = res.check("batch_remove_links")
    if client.legacy:
        assert r["missing"] is True
    else:
        assert r["returned"] == {"success": True, "deleted_links_count": 2}
    assert r["people"] == {"Alice": [], "Bob": [ids["B"]]}


def test_errors_change_nothing(client: Client, scenario: ScenarioRunner) -> None:
    res, ids = run(client, scenario)
    r = res.check("errors")
    assert r["unknown_link"]["raised"] and r["unknown_link"].get("status") == 404, r["unknown_link"]
    assert r["unknown_row"]["raised"] and r["unknown_row"].get("status") == 404, r["unknown_row"]
    assert r["row_write"]["raised"] and r["row_write"].get("status") == 400, r["row_write"]
    assert "links API" in r["row_write"]["message"]
    assert r["people"] == {"Alice": [], "Bob": [ids["B"]]}


def test_cascades(client: Client, scenario: ScenarioRunner) -> None:
    res, _ = run(client, scenario)
    r = res.check("cascades")
    assert r["after_row_delete"] == {"Alice": [], "Bob": []}
    assert r["projects_columns"] == ["Title"]
    assert r["people_columns"] == ["Name"]
