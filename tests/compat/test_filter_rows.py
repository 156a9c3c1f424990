"""filter_rows and the QuerySet ``filter`` through the unmodified official client, 4.0.0 (gateway
``filtered-rows/``) and 2.6.11 (v1 ``filtered-rows/``), against a live atoll: scenarios/filters.py.
filter_rows is served by the view filters' evaluator; the QuerySet filters client-side over
list_rows (seatable_api.query.QuerySet), so it needs only list_rows and list_columns."""

from __future__ import annotations

import pytest

from tests.compat.clients import CLIENT_VERSIONS
from tests.compat.harness import Client, ScenarioRunner

pytestmark = pytest.mark.compat
SCRIPT = "filters.py"


@pytest.fixture(params=CLIENT_VERSIONS)
def client(request: pytest.FixtureRequest, official_clients: dict[str, Client]) -> Client:
    return official_clients[request.param]


def test_filter_rows_by_column_type(client: Client, scenario: ScenarioRunner) -> None:
    run = scenario(client, SCRIPT)
    assert run.check("setup")["names"] == ["apple", "banana", "cherry", "12"]
    r = run.check("filter_rows")
    assert r["by_option_name"] == r["by_option_id"] == ["apple", "cherry"]
    assert r["day"] == ["apple"]  # a date with a time is on its day
    assert r["unchecked"] == ["banana", "cherry", "12"]  # an unset checkbox is unchecked
    assert r["either"] == ["banana", "cherry"]
    assert r["number_text_cell"] == ["12"]


def test_filter_rows_refuses_what_a_column_type_does_not_offer(
    client: Client, scenario: ScenarioRunner
) -> None:
    r = scenario(client, SCRIPT).check("filter_rows_refused")
    for name, words in (("text_less_than", ["<", "Name"]), ("number_contains", ["contains", "Price"]),
                        ("unknown_column", ["Nope"])):  # fmt: skip
        assert r[name]["raised"], (name, r[name])
        for word in words:
            assert word in r[name]["message"], (name, r[name])
    assert r["text_less_than"].get("status") == 400
    assert r["unknown_column"].get("status") == 404


def test_queryset_filters_over_list_rows(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, SCRIPT).check("queryset")
    assert r["filter"] == ["apple", "cherry"]
    assert r["chained"] == ["banana"]
    assert r["get"] == "cherry"
    assert r["updated"] == 1
    assert r["after_update"] == [2.5]
