"""The links services without HTTP: every op, both orientations, concurrency of writers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from atoll.db import links as lq
from atoll.db.engine import read_tx
from atoll.errors import InvalidInput, NotFound
from atoll.models import Principal
from atoll.services import columns, rows, tables
from atoll.services import links as svc
from atoll.services.access import create_api_token
from atoll.services.context import Context
from atoll.services.structure import TableRef
from atoll.wire.rowlinks import LinkChange

R = TypeVar("R")
TEXT = [{"column_name": "Name", "column_type": "text"}]


def run(use_case: Coroutine[Any, Any, R]) -> R:
    return asyncio.run(use_case)


@pytest.fixture
def base(ctx: Context) -> Principal:
    p = Principal(create_api_token(ctx.engine, base="L").dtable, "rw", "app")
    # "B" and "A" by name; their ids decide the stored orientation, so both orders are covered
    run(tables.add_table(ctx, p, table_name="B", columns=TEXT))
    run(tables.add_table(ctx, p, table_name="A", columns=TEXT))
    return p


def change(
    link_id: str, t: str, ot: str, targets: dict[str, list[str]], row_ids: list[str] | None = None
) -> LinkChange:
    return LinkChange(link_id, t, None, ot, None, targets, row_ids or list(targets))


def linked(ctx: Context, base: Principal, table: str) -> dict[str, list[str]]:
    page = run(rows.list_rows(ctx, base, TableRef(table), limit=100))
    key = next(c["key"] for c in page.columns if c["type"] == "link")
    return {r.data["0000"]: [x["row_id"] for x in r.data.get(key) or []] for r in page.rows}


@pytest.mark.parametrize("owner", ["A", "B"])
def test_every_op_from_either_side(ctx: Context, base: Principal, owner: str) -> None:
    other = "B" if owner == "A" else "A"
    col = run(
        columns.insert_column(
            ctx, base, TableRef(owner), column_name="L", column_type="link", data={"other_table": other}
        )
    )
    link_id = col["data"]["link_id"]
    o1, o2 = (
        r.row_id
        for r in run(rows.append_rows(ctx, base, TableRef(owner), rows=[{"Name": "o1"}, {"Name": "o2"}]))
    )
    t1, t2 = (
        r.row_id
        for r in run(rows.append_rows(ctx, base, TableRef(other), rows=[{"Name": "t1"}, {"Name": "t2"}]))
    )
    assert run(svc.change_links(ctx, base, change(link_id, owner, other, {o1: [t1, t2]}), op="add")) == 2
    assert run(svc.change_links(ctx, base, change(link_id, other, owner, {t1: [o1, o2]}), op="add")) == 1
    assert linked(ctx, base, owner) == {"o1": [t1, t2], "o2": [t1]}
    assert linked(ctx, base, other) == {"t1": [o1, o2], "t2": [o1]}
    run(svc.change_links(ctx, base, change(link_id, other, owner, {t2: [o2]}), op="update"))
    assert linked(ctx, base, owner) == {"o1": [t1], "o2": [t1, t2]}
    assert (
        run(svc.change_links(ctx, base, change(link_id, owner, other, {o2: [t1, t2, t2]}), op="remove")) == 2
    )
    assert linked(ctx, base, other) == {"t1": [o1], "t2": []}


def test_refusals_change_nothing(ctx: Context, base: Principal) -> None:
    col = run(
        columns.insert_column(
            ctx, base, TableRef("A"), column_name="L", column_type="link", data={"other_table": "B"}
        )
    )
    (a,) = (r.row_id for r in run(rows.append_rows(ctx, base, TableRef("A"), rows=[{"Name": "a"}])))
    (b,) = (r.row_id for r in run(rows.append_rows(ctx, base, TableRef("B"), rows=[{"Name": "b"}])))
    link_id = col["data"]["link_id"]
    with pytest.raises(NotFound, match="link zzzz"):
        run(svc.change_links(ctx, base, change("zzzz", "A", "B", {a: [b]}), op="add"))
    with pytest.raises(NotFound, match="not found in table B"):
        run(svc.change_links(ctx, base, change(link_id, "A", "B", {a: [b, a]}), op="add"))
    with pytest.raises(NotFound, match="not found in table A"):
        run(svc.change_links(ctx, base, change(link_id, "A", "B", {"x" * 40: [b]}), op="add"))
    with pytest.raises(InvalidInput, match="at most"):
        run(
            svc.change_links(
                ctx,
                base,
                change(link_id, "A", "B", {a: [b] * (svc.MAX_LINK_PAIRS_PER_REQUEST + 1)}),
                op="add",
            )
        )
    with read_tx(ctx.engine) as conn:
        assert lq.count_links(conn, base.dtable.uuid) == 0


def test_concurrent_writers_lose_nothing(ctx: Context, base: Principal) -> None:
    col = run(
        columns.insert_column(
            ctx, base, TableRef("A"), column_name="L", column_type="link", data={"other_table": "B"}
        )
    )
    ids_a = [
        r.row_id
        for r in run(rows.append_rows(ctx, base, TableRef("A"), rows=[{"Name": f"a{i}"} for i in range(8)]))
    ]
    ids_b = [
        r.row_id
        for r in run(rows.append_rows(ctx, base, TableRef("B"), rows=[{"Name": f"b{i}"} for i in range(8)]))
    ]
    link_id = col["data"]["link_id"]
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        try:
            run(svc.change_links(ctx, base, change(link_id, "A", "B", {ids_a[i]: ids_b}), op="add"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with read_tx(ctx.engine) as conn:
        assert lq.count_links(conn, base.dtable.uuid, link_id) == 64
