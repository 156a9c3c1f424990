"""SQL (``query``) and views through the unmodified official client, 4.0.0 (gateway ``sql``) and
2.6.11 (v1 ``dtable-db/api/v1/query/``), and atoll's SDK (``query`` only), against a live atoll:
scenarios/sql.py."""

from __future__ import annotations

import pytest

from tests.compat.clients import CLIENT_VERSIONS
from tests.compat.harness import Client, ScenarioRunner, sdk_client

pytestmark = pytest.mark.compat
SCRIPT = "sql.py"


@pytest.fixture(params=[*CLIENT_VERSIONS, "atoll"])
def client(request: pytest.FixtureRequest, official_clients: dict[str, Client]) -> Client:
    """The official clients, and atoll's SDK (which claims 4.0.0's behaviour)."""
    return sdk_client() if request.param == "atoll" else official_clients[request.param]


def test_query_converted_by_name(client: Client, scenario: ScenarioRunner) -> None:
    rows = scenario(client, SCRIPT).check("query_convert")["rows"]
    assert [(x["Name"], x["Price"], x.get("Status")) for x in rows] == [
        ("cherry", 10, "open"),
        ("elder", 7, None),
        ("apple", 3, "open"),
    ]
    assert all(len(x["_id"]) == 22 for x in rows)


def test_query_raw_by_key(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, SCRIPT).check("query_raw")
    (row,) = r["rows"]
    assert row[r["name_key"]] == "apple"
    assert row[r["status_key"]] == "open"  # option names, never ids


def test_query_dates(client: Client, scenario: ScenarioRunner) -> None:
    rows = scenario(client, SCRIPT).check("query_date")["rows"]
    assert [x["Name"] for x in rows] == ["apple", "banana"]
    days = [x["Day"] for x in rows]
    if client.legacy:  # 2.6.11 re-renders dates by the column's format
        assert days == ["2024-01-05", "2024-02-10"]
    else:
        assert [d[:19] for d in days] == ["2024-01-05T00:00:00", "2024-02-10T00:00:00"]


def test_query_group_by(client: Client, scenario: ScenarioRunner) -> None:
    rows = scenario(client, SCRIPT).check("query_group")["rows"]
    assert rows == [
        {"Status": None, "COUNT(*)": 1, "SUM(Price)": 7},
        {"Status": "closed", "COUNT(*)": 2, "SUM(Price)": 1.5},
        {"Status": "open", "COUNT(*)": 2, "SUM(Price)": 13},
    ]


def test_query_default_limit_covers_small_table(client: Client, scenario: ScenarioRunner) -> None:
    assert scenario(client, SCRIPT).check("query_default_limit")["count"] == 5


def test_query_parameters(client: Client, scenario: ScenarioRunner) -> None:
    if client.legacy:
        pytest.skip("2.6.11's query() takes no parameters")
    rows = scenario(client, SCRIPT).check("query_parameters")["rows"]
    assert [x["Name"] for x in rows] == ["apple", "cherry"]


def test_query_update(client: Client, scenario: ScenarioRunner) -> None:
    assert scenario(client, SCRIPT).check("query_update")["price"] == [42]


def test_query_errors_change_nothing(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, SCRIPT).check("query_errors")
    for name in ("unknown_column", "join", "injection"):
        assert r[name].get("raised"), (name, r[name])
    assert r["names_after"] == ["apple", "banana", "cherry", "date", "elder"]


def test_list_rows_through_view(client: Client, scenario: ScenarioRunner) -> None:
    if not client.official:
        pytest.skip("atoll's SDK has no view, filter_rows or QuerySet calls")
    r = scenario(client, SCRIPT).check("view")
    assert r["put_status"] == 200
    assert r["names"] == ["cherry", "apple"]  # Status is open, Name descending
    assert r["keys"] == ["Name", "Price", "Status"]  # Day hidden


def test_filter_rows_with_view(client: Client, scenario: ScenarioRunner) -> None:
    if not client.official:
        pytest.skip("atoll's SDK has no view, filter_rows or QuerySet calls")
    assert scenario(client, SCRIPT).check("filter_rows_view")["names"] == ["cherry"]
    assert scenario(client, SCRIPT).check("filter_rows_plain")["names"] == ["banana", "date"]


def test_queryset_filter_over_view(client: Client, scenario: ScenarioRunner) -> None:
    if not client.official:
        pytest.skip("atoll's SDK has no view, filter_rows or QuerySet calls")
    assert sorted(scenario(client, SCRIPT).check("queryset_filter")["names"]) == ["apple", "cherry"]
