"""Fixtures for links: the rows slice's in-process app and clients, plus two linked tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from atoll.db import links as lq
from atoll.db.engine import read_tx
from tests.conftest import App
from tests.rows import conftest as rows_fixtures
from tests.rows.conftest import Api, api_on

# the rows slice's fixtures, reused
app = rows_fixtures.app
client = rows_fixtures.client
ctx = rows_fixtures.ctx
ro_api = rows_fixtures.ro_api


@dataclass
class Linked:
    """Tables "People" (Name) and "Projects" (Title, Budget), a link column "Projects" on People."""

    api: Api
    people: str  # table ids
    projects: str
    column: dict[str, Any]  # the link column on People
    mirror: dict[str, Any]  # its mirror on Projects
    alice: str
    bob: str
    pa: str
    pb: str
    pc: str

    @property
    def link_id(self) -> str:
        link_id: str = self.column["data"]["link_id"]
        return link_id


def add_table(api: Api, name: str, columns: list[dict[str, Any]]) -> dict[str, Any]:
    res: dict[str, Any] = api.ok(
        "POST", "/tables/", json={"table_name": name, "lang": "en", "columns": columns}
    )
    return res


def append(api: Api, table: str, rows: list[dict[str, Any]]) -> list[str]:
    res = api.ok("POST", "/rows/", json={"table_name": table, "rows": rows}, family="gw")
    return [r["_id"] for r in res["row_ids"]]


def table_of(api: Api, name: str) -> dict[str, Any]:
    tables = api.ok("GET", "/metadata/", family="gw")["metadata"]["tables"]
    table: dict[str, Any] = next(t for t in tables if t["name"] == name)
    return table


def column_of(api: Api, table: str, name: str) -> dict[str, Any]:
    column: dict[str, Any] = next(c for c in table_of(api, table)["columns"] if c["name"] == name)
    return column


def cells(api: Api, table: str, column: str, family: str = "gw") -> dict[str, Any]:
    """``{display column value: link cell}`` of every row, as list_rows shows them."""
    params = {"table_name": table, "convert_keys": "True"}
    rows = api.ok("GET", "/rows/", params=params, family=family)["rows"]
    first = table_of(api, table)["columns"][0]["name"]
    return {r.get(first): r.get(column) for r in rows}


def link_count(api: Api, engine: Any) -> int:
    with read_tx(engine) as conn:
        return lq.count_links(conn, api.uuid)


def make_linked(api: Api) -> Linked:
    add_table(api, "People", [{"column_name": "Name", "column_type": "text"}])
    add_table(
        api,
        "Projects",
        [{"column_name": "Title", "column_type": "text"}, {"column_name": "Budget", "column_type": "number"}],
    )
    body = {
        "table_name": "People",
        "column_name": "Projects",
        "column_type": "link",
        "column_data": {"table": "People", "other_table": "Projects"},
    }
    column = api.ok("POST", "/columns/", json=body, family="gw")
    alice, bob = append(api, "People", [{"Name": "Alice"}, {"Name": "Bob"}])
    pa, pb, pc = append(api, "Projects", [{"Title": "A"}, {"Title": "B"}, {"Title": "C"}])
    mirror = column_of(api, "Projects", "People")
    return Linked(
        api, table_of(api, "People")["_id"], table_of(api, "Projects")["_id"], column, mirror,
        alice, bob, pa, pb, pc,
    )  # fmt: skip


@pytest.fixture
def api(app: App) -> Api:
    return api_on(app)


@pytest.fixture
def linked(api: Api) -> Linked:
    return make_linked(api)
