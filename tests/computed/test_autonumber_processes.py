"""Auto-numbers are race-free: two server processes on one database, many concurrent appends
through both, every row gets a distinct number and together they are exactly 1..N."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.live_server import LiveServer, two_processes

WRITERS = 8
APPENDS_PER_WRITER = 12
ROWS_PER_APPEND = 3


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    with two_processes(tmp_path / "data") as pair:
        yield pair


def test_concurrent_appends_through_two_processes_never_share_a_number(
    pair: tuple[LiveServer, LiveServer],
) -> None:
    token = pair[0].create_token("Numbers")
    access = httpx.get(pair[0].url + "/api/v2.1/dtable/app-access-token/",
                       headers={"Authorization": f"Token {token}"}).json()  # fmt: skip
    auth = {"Authorization": f"Token {access['access_token']}"}
    base = f"/api-gateway/api/v2/dtables/{access['dtable_uuid']}"
    columns = [
        {"column_name": "Who", "column_type": "text"},
        {"column_name": "No", "column_type": "auto-number", "column_data": {"format": "0000", "digits": 4}},
    ]
    body = {"table_name": "T", "columns": columns}
    made = httpx.post(pair[0].url + base + "/tables/", headers=auth, json=body)
    assert made.status_code == 200, made.text

    def writer(w: int) -> None:
        server = pair[w % 2]
        with httpx.Client(base_url=server.url + base, headers=auth, timeout=60) as client:
            for i in range(APPENDS_PER_WRITER):
                rows = [{"Who": f"{w}-{i}-{k}"} for k in range(ROWS_PER_APPEND)]
                r = client.post("/rows/", json={"table_name": "T", "rows": rows})
                assert r.status_code == 200, r.text

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(writer, range(WRITERS)))
    total = WRITERS * APPENDS_PER_WRITER * ROWS_PER_APPEND
    r = httpx.get(pair[1].url + base + "/rows/", headers=auth,
                  params={"table_name": "T", "convert_keys": "true", "limit": 1000})  # fmt: skip
    numbers = [row["No"] for row in r.json()["rows"]]
    assert len(numbers) == total
    assert sorted(numbers) == [f"{n:04d}" for n in range(1, total + 1)]
    # one append's rows get consecutive numbers, in the order sent
    by_who = {row["Who"]: int(row["No"]) for row in r.json()["rows"]}
    for w in range(WRITERS):
        for i in range(APPENDS_PER_WRITER):
            first = by_who[f"{w}-{i}-0"]
            assert [by_who[f"{w}-{i}-{k}"] for k in range(ROWS_PER_APPEND)] == [first, first + 1, first + 2]
