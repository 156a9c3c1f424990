"""The rows services without HTTP: transactions, ordering, concurrency."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from atoll.errors import InvalidInput, NotFound
from atoll.models import Dtable, Principal
from atoll.services import columns, tables
from atoll.services import rows as svc
from atoll.services.access import create_api_token
from atoll.services.context import Context
from atoll.services.structure import TableRef
from tests.conftest import MakeApp

T = TableRef("T")
BATCH = 1000
R = TypeVar("R")


def run(use_case: Coroutine[Any, Any, R]) -> R:
    """Run one use case to its end, as a request handler would await it."""
    return asyncio.run(use_case)


def principal_on(ctx: Context, base: Principal) -> Principal:
    """A read-write principal on a new base ``base``."""
    return Principal(create_api_token(ctx.engine, base=base).dtable, "rw", "app")


@pytest.fixture
def base(ctx: Context) -> Principal:
    p = principal_on(ctx, "S")
    run(tables.add_table(ctx, p, table_name="T", columns=[{"column_name": "Name", "column_type": "text"}]))
    return p


def names(ctx: Context, base: Principal, **kw: Any) -> list[Any]:
    page = run(svc.list_rows(ctx, base, T, limit=BATCH, **kw))
    return [r.data.get("0000") for r in page.rows]


def test_actor_and_row_ids() -> None:
    p = Principal(Dtable("11111111-1111-4111-8111-111111111111", "b", 1), "rw", "app")
    assert re.fullmatch(r"[0-9a-f]{32}@auth\.local", svc.actor(p))
    assert svc.actor(p) == svc.actor(p)
    assert svc.actor(p) != svc.actor(Principal(p.dtable, "rw", "other"))
    ids = {svc.new_row_id() for _ in range(100)}
    assert len(ids) == 100 and all(re.fullmatch(r"[A-Za-z0-9_-]{22}", i) for i in ids)


def test_a_bad_row_writes_nothing(ctx: Context, base: Principal) -> None:
    run(columns.insert_column(ctx, base, T, column_name="f", column_type="file"))
    with pytest.raises(InvalidInput, match=r"rows\[2\]: column 'f'"):
        run(svc.append_rows(ctx, base, T, rows=[{"Name": "a"}, {"Name": "b"}, {"f": "x"}]))
    assert names(ctx, base) == []


def test_batch_limit(make_app: MakeApp) -> None:
    ctx = make_app(max_rows_per_batch=2).ctx
    base = principal_on(ctx, "S")
    run(tables.add_table(ctx, base, table_name="T"))
    with pytest.raises(InvalidInput, match="at most 2"):
        run(svc.append_rows(ctx, base, T, rows=[{}, {}, {}]))
    with pytest.raises(InvalidInput):
        run(svc.append_rows(ctx, base, T, rows=[]))


def test_update_with_unknown_row_writes_nothing(ctx: Context, base: Principal) -> None:
    (row,) = run(svc.append_rows(ctx, base, T, rows=[{"Name": "a"}]))
    updates = [{"row_id": row.row_id, "row": {"Name": "b"}}, {"row_id": "missing", "row": {}}]
    with pytest.raises(NotFound):
        run(svc.update_rows(ctx, base, T, updates=updates))
    assert names(ctx, base) == ["a"]


def test_many_inserts_after_one_anchor_keep_order(ctx: Context, base: Principal) -> None:
    first, last = run(svc.append_rows(ctx, base, T, rows=[{"Name": "0"}, {"Name": "z"}]))
    # each insert goes right after "0", so the gap halves until the table is renumbered
    for i in range(1, 16):
        run(svc.append_rows(ctx, base, T, rows=[{"Name": f"x{i}"}], anchor_row_id=first.row_id))
    assert names(ctx, base) == ["0", *[f"x{i}" for i in range(15, 0, -1)], "z"]
    run(svc.append_rows(ctx, base, T, rows=[{"Name": "a"}, {"Name": "b"}], anchor_row_id=last.row_id))
    assert names(ctx, base)[-3:] == ["z", "a", "b"]


def test_table_id_wins_over_name(ctx: Context, base: Principal) -> None:
    other = run(tables.add_table(ctx, base, table_name="Data"))
    run(svc.append_rows(ctx, base, TableRef("Data"), rows=[{"Name": "in data"}]))
    page = run(svc.list_rows(ctx, base, TableRef("T", other["_id"]), limit=10))
    assert [r.data["0000"] for r in page.rows] == ["in data"]
    page = run(svc.list_rows(ctx, base, TableRef("Data", "Data"), limit=10))  # no such _id: by name
    assert len(page.rows) == 1
    with pytest.raises(NotFound, match="table Nope not found"):
        run(svc.list_rows(ctx, base, TableRef("Nope", "Nope"), limit=10))


def test_concurrent_writers_lose_nothing(ctx: Context, base: Principal) -> None:
    errors: list[BaseException] = []

    def append(n: int) -> None:
        try:
            for i in range(10):
                run(svc.append_rows(ctx, base, T, rows=[{"Name": f"{n}-{i}"}, {"Name": f"{n}-{i}b"}]))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def add_tables(n: int) -> None:
        try:
            for i in range(5):
                run(tables.add_table(ctx, base, table_name=f"t{n}-{i}"))
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=add_tables, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    got = names(ctx, base)
    assert len(got) == 80 and len(set(got)) == 80
    md = run(tables.get_metadata(ctx, base))
    assert len(md.tables) == 1 + 20
    assert md.version == 2 + 20


def test_first_writes_to_a_new_base_race(ctx: Context) -> None:
    fresh = principal_on(ctx, "Fresh")
    errors: list[BaseException] = []

    def add(name: str) -> None:
        try:
            run(tables.add_table(ctx, fresh, table_name=name))
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(f"t{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    md = run(tables.get_metadata(ctx, fresh))
    assert sorted(t["name"] for t in md.tables) == sorted(f"t{i}" for i in range(8))
    assert [t["_id"] for t in md.tables].count("0000") == 1


def test_filter_and_sort_services(ctx: Context, base: Principal) -> None:
    run(columns.insert_column(ctx, base, T, column_name="n", column_type="number"))
    run(svc.append_rows(ctx, base, T, rows=[{"Name": "a", "n": 3}, {"Name": "b", "n": 1}, {"Name": "c"}]))
    assert names(ctx, base, order_by="n") == ["b", "a", "c"]
    assert names(ctx, base, order_by="n", direction="desc") == ["a", "b", "c"]
    with pytest.raises(InvalidInput):
        names(ctx, base, direction="sideways")
    at_most_3 = [{"column_name": "n", "filter_predicate": "<=", "filter_term": 3}]
    page = run(svc.filter_rows(ctx, base, T, filters=at_most_3, limit=1))
    assert [r.data["0000"] for r in page.rows] == ["a"]  # limited
    with pytest.raises(InvalidInput, match="not supported"):
        near = [{"column_name": "n", "filter_predicate": "near", "filter_term": 1}]
        run(svc.filter_rows(ctx, base, T, filters=near, limit=10))
