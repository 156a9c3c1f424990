"""The rows services without HTTP: transactions, ordering, concurrency."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest

from atoll.errors import InvalidInput, NotFound
from atoll.models import Dtable, Principal
from atoll.services import columns, tables
from atoll.services import rows as svc
from atoll.services.access import create_api_token
from atoll.services.context import Context
from atoll.services.structure import TableRef

T = TableRef("T")
BATCH = 1000


@pytest.fixture
def base(ctx: Context) -> str:
    uuid = create_api_token(ctx.engine, base="S").dtable.uuid
    tables.add_table(ctx.engine, uuid, "T", [{"column_name": "Name", "column_type": "text"}])
    return uuid


def names(ctx: Context, base: str, **kw: Any) -> list[Any]:
    page = svc.list_rows(ctx.engine, base, T, limit=BATCH, **kw)
    return [r.data.get("0000") for r in page.rows]


def test_actor_and_row_ids() -> None:
    p = Principal(Dtable("11111111-1111-4111-8111-111111111111", "b", 1), "rw", "app")
    assert re.fullmatch(r"[0-9a-f]{32}@auth\.local", svc.actor(p))
    assert svc.actor(p) == svc.actor(p)
    assert svc.actor(p) != svc.actor(Principal(p.dtable, "rw", "other"))
    ids = {svc.new_row_id() for _ in range(100)}
    assert len(ids) == 100 and all(re.fullmatch(r"[A-Za-z0-9_-]{22}", i) for i in ids)


def test_a_bad_row_writes_nothing(ctx: Context, base: str) -> None:
    columns.insert_column(ctx.engine, base, T, "f", "file")
    with pytest.raises(InvalidInput, match=r"rows\[2\]: column 'f'"):
        svc.append_rows(ctx.engine, base, T, [{"Name": "a"}, {"Name": "b"}, {"f": "x"}], "u", max_batch=BATCH)
    assert names(ctx, base) == []


def test_batch_limit(ctx: Context, base: str) -> None:
    with pytest.raises(InvalidInput, match="at most 2"):
        svc.append_rows(ctx.engine, base, T, [{}, {}, {}], "u", max_batch=2)
    with pytest.raises(InvalidInput):
        svc.append_rows(ctx.engine, base, T, [], "u", max_batch=2)


def test_update_with_unknown_row_writes_nothing(ctx: Context, base: str) -> None:
    (row,) = svc.append_rows(ctx.engine, base, T, [{"Name": "a"}], "u", max_batch=BATCH)
    updates = [{"row_id": row.row_id, "row": {"Name": "b"}}, {"row_id": "missing", "row": {}}]
    with pytest.raises(NotFound):
        svc.update_rows(ctx.engine, base, T, updates, "u", max_batch=BATCH)
    assert names(ctx, base) == ["a"]


def test_many_inserts_after_one_anchor_keep_order(ctx: Context, base: str) -> None:
    first, last = svc.append_rows(ctx.engine, base, T, [{"Name": "0"}, {"Name": "z"}], "u", max_batch=BATCH)
    # each insert goes right after "0", so the gap halves until the table is renumbered
    for i in range(1, 16):
        svc.append_rows(
            ctx.engine, base, T, [{"Name": f"x{i}"}], "u", max_batch=BATCH, anchor_row_id=first.row_id
        )
    assert names(ctx, base) == ["0", *[f"x{i}" for i in range(15, 0, -1)], "z"]
    svc.append_rows(
        ctx.engine, base, T, [{"Name": "a"}, {"Name": "b"}], "u", max_batch=BATCH, anchor_row_id=last.row_id
    )
    assert names(ctx, base)[-3:] == ["z", "a", "b"]


def test_table_id_wins_over_name(ctx: Context, base: str) -> None:
    other = tables.add_table(ctx.engine, base, "Data")
    svc.append_rows(ctx.engine, base, TableRef("Data"), [{"Name": "in data"}], "u", max_batch=BATCH)
    page = svc.list_rows(ctx.engine, base, TableRef("T", other["_id"]), limit=10)
    assert [r.data["0000"] for r in page.rows] == ["in data"]
    page = svc.list_rows(ctx.engine, base, TableRef("Data", "Data"), limit=10)  # no such _id: by name
    assert len(page.rows) == 1
    with pytest.raises(NotFound, match="table Nope not found"):
        svc.list_rows(ctx.engine, base, TableRef("Nope", "Nope"), limit=10)


def test_concurrent_writers_lose_nothing(ctx: Context, base: str) -> None:
    errors: list[BaseException] = []

    def append(n: int) -> None:
        try:
            for i in range(10):
                svc.append_rows(
                    ctx.engine, base, T, [{"Name": f"{n}-{i}"}, {"Name": f"{n}-{i}b"}], "u", max_batch=BATCH
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def add_tables(n: int) -> None:
        try:
            for i in range(5):
                tables.add_table(ctx.engine, base, f"t{n}-{i}")
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
    md = tables.get_metadata(ctx.engine, base)
    assert len(md.tables) == 1 + 20
    assert md.version == 2 + 20


def test_first_writes_to_a_new_base_race(ctx: Context) -> None:
    uuid = create_api_token(ctx.engine, base="Fresh").dtable.uuid
    errors: list[BaseException] = []

    def add(name: str) -> None:
        try:
            tables.add_table(ctx.engine, uuid, name)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(f"t{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    md = tables.get_metadata(ctx.engine, uuid)
    assert sorted(t["name"] for t in md.tables) == sorted(f"t{i}" for i in range(8))
    assert [t["_id"] for t in md.tables].count("0000") == 1


def test_filter_and_sort_services(ctx: Context, base: str) -> None:
    columns.insert_column(ctx.engine, base, T, "n", "number")
    svc.append_rows(
        ctx.engine,
        base,
        T,
        [{"Name": "a", "n": 3}, {"Name": "b", "n": 1}, {"Name": "c"}],
        "u",
        max_batch=BATCH,
    )
    assert names(ctx, base, order_by="n") == ["b", "a", "c"]
    assert names(ctx, base, order_by="n", direction="desc") == ["a", "b", "c"]
    with pytest.raises(InvalidInput):
        names(ctx, base, direction="sideways")
    page = svc.filter_rows(
        ctx.engine, base, T, [{"column_name": "n", "filter_predicate": "<=", "filter_term": 3}], limit=1
    )
    assert [r.data["0000"] for r in page.rows] == ["a"]  # limited
    with pytest.raises(InvalidInput, match="not supported"):
        svc.filter_rows(
            ctx.engine,
            base,
            T,
            [{"column_name": "n", "filter_predicate": "near", "filter_term": 1}],
            limit=10,
        )
