"""Computed columns (auto-number, formula) and modify_column_type through the unmodified
official clients 4.0.0 (gateway) and 2.6.11 (v1) against a live atoll."""

from __future__ import annotations

import pytest

from tests.compat.clients import CLIENT_VERSIONS
from tests.compat.harness import Client, ScenarioRunner

pytestmark = pytest.mark.compat


@pytest.fixture(params=CLIENT_VERSIONS)
def client(request: pytest.FixtureRequest, official_clients: dict[str, Client]) -> Client:
    return official_clients[request.param]


def test_insert_computed_columns(client: Client, scenario: ScenarioRunner) -> None:
    res = scenario(client, "computed.py")
    made = res.check("insert_columns")
    assert made["auto_number"] == {
        "type": "auto-number",
        "data": {
            "format": "0000",
            "digits": 4,
            "prefix_type": "string",
            "prefix": "ORD",
            "max_used_auto_number": 1,
        },
    }
    assert made["formula"]["data"]["result_type"] == "number"
    assert made["label"]["data"]["result_type"] == "string"
    assert made["formula"]["data"]["formula"] == "{Qty} * 2.5"


def test_formula_refused_is_an_error(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, "computed.py").check("refused_formula")
    assert r["outcome"]["raised"] is True
    assert "nosuch" in str(r["outcome"])
    assert "Bad" not in r["columns"]


def test_values_in_rows(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, "computed.py").check("rows")
    assert r["list_rows"] == [
        {"Item": "pen", "No": "ORD-0001", "Total": 7.5, "Label": "PEN x3"},
        {"Item": "ink", "No": "ORD-0002", "Total": 25, "Label": "INK x10"},
    ]
    assert r["get_row_after_update"] == {"No": "ORD-0002", "Total": 10, "Label": "INK x4"}


def test_append_row_returns_computed_cells(client: Client, scenario: ScenarioRunner) -> None:
    """The appended row the client returns (keyed by column key) holds the computed cells,
    not the values the script tried to write."""
    r = scenario(client, "computed.py").check("rows")
    assert r["append_row"] == {"No": "ORD-0002", "Total": 25, "Label": "INK x10"}


def test_modify_column_type_converts(client: Client, scenario: ScenarioRunner) -> None:
    r = scenario(client, "computed.py").check("modify_column_type")
    assert r["codes"] == [12, None]
    assert r["response"] == {"type": "number", "converted_cells": 1, "emptied_cells": 0}
