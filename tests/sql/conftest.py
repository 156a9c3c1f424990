"""Fixtures for SQL and views: a base with a typed table, and a client for the SQL endpoints."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import App, MakeApp
from tests.rows.conftest import Api, api_on

__all__ = ["Api", "App"]

GW_SQL = "/api-gateway/api/v2/dtables/{uuid}/sql"
V1_SQL = "/dtable-db/api/v1/query/{uuid}/"

COLUMNS = [
    {"column_name": "Name", "column_type": "text"},
    {"column_name": "Price", "column_type": "number"},
    {
        "column_name": "Status",
        "column_type": "single-select",
        "column_data": {
            "options": [
                {"id": "o1", "name": "open", "color": "#fff"},
                {"id": "o2", "name": "closed", "color": "#000"},
            ]
        },
    },
    {"column_name": "Done", "column_type": "checkbox"},
    {"column_name": "Day", "column_type": "date", "column_data": {"format": "YYYY-MM-DD"}},
    {
        "column_name": "Tags",
        "column_type": "multiple-select",
        "column_data": {
            "options": [
                {"id": "t1", "name": "red", "color": "#f00"},
                {"id": "t2", "name": "blue", "color": "#00f"},
            ]
        },
    },
    {"column_name": "Note Text", "column_type": "long-text"},
]
ROWS: list[dict[str, Any]] = [
    {
        "Name": "apple",
        "Price": 3,
        "Status": "open",
        "Done": True,
        "Day": "2024-01-05",
        "Tags": ["red"],
        "Note Text": "crisp",
    },
    {
        "Name": "Banana",
        "Price": 1.5,
        "Status": "closed",
        "Done": False,
        "Day": "2024-02-10",
        "Tags": ["red", "blue"],
    },
    {"Name": "cherry", "Price": 10, "Status": "open", "Day": "2023-12-31"},
    {"Name": "date", "Price": None, "Status": "closed", "Done": True},
    {"Name": "elder", "Price": 7, "Day": "2024-01-05", "Note Text": "O'Brien; DROP TABLE rows; --"},
    {"Name": "fig", "Price": 3, "Status": "open", "Tags": ["blue"]},
    {"Name": None, "Price": 0},
]


class Sql:
    def __init__(self, api: Api, app: App | None = None) -> None:
        self.api = api
        self.app = app

    def call(self, body: dict[str, Any], *, v1: bool = False) -> Any:
        url = (V1_SQL if v1 else GW_SQL).format(uuid=self.api.uuid)
        headers = {"Authorization": f"Token {self.api.access_token}", "Content-Type": "application/json"}
        return self.api.client.post(url, json=body, headers=headers)

    def ok(self, sql: str, *params: Any, convert: bool = True, v1: bool = False) -> Any:
        body: dict[str, Any] = {"sql": sql}
        if params:
            body["parameters"] = list(params)
        if convert:
            body["convert_keys"] = True
        resp = self.call(body, v1=v1)
        assert resp.status_code == 200, (resp.status_code, resp.text)
        return resp.json()

    def rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = self.ok(sql, *params)["results"]
        return results

    def error(self, sql: str, *params: Any, status: int = 400, v1: bool = False) -> str:
        body: dict[str, Any] = {"sql": sql, "convert_keys": True}
        if params:
            body["parameters"] = list(params)
        resp = self.call(body, v1=v1)
        assert resp.status_code == status, (resp.status_code, resp.text)
        data = resp.json()
        message: str = data.get("error_message") or data.get("error_msg")
        return message


def seed(api: Api, name: str = "T", rows: list[dict[str, Any]] | None = None) -> None:
    api.ok("POST", "/tables/", json={"table_name": name, "lang": "en", "columns": COLUMNS})
    if rows is None or rows:
        api.ok("POST", "/rows/", json={"table_name": name, "rows": rows if rows is not None else ROWS})


@pytest.fixture
def sql_api(make_app: MakeApp) -> Sql:
    app = make_app()
    api = api_on(app)
    seed(api)
    return Sql(api, app)
