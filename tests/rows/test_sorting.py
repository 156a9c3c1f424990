"""Sorting in the database (table row_keys) gives exactly what sorting every row in Python gave:
same order, same ties, empty cells last, pages that tile the whole order."""

from __future__ import annotations

import random
from typing import Any

import pytest

from atoll.db import rows as q
from atoll.db.engine import read_tx
from atoll.models import Principal
from atoll.services import columns, tables
from atoll.services import rows as svc
from atoll.services.context import Context
from atoll.services.filters import sort_rows
from atoll.services.structure import TableRef, find_table
from tests.rows.test_services import principal_on, run

T = TableRef("T")
LONG = "x" * 300  # longer than a key's indexed head: such keys are ordered by their tail too
WORDS = ["apple", "Apple", "APPLE", "banana", "Éclair", "éclair", "zebra", "Zebra", "ß", "ss", "10", "9",
         "a, b", "", "日本", "\U0001f600", "ǅ", LONG + "b", LONG + "a", LONG + "B", LONG, "x" * 299]


def python_order(ctx: Context, base: Principal, column_name: str, *, descending: bool) -> list[str]:
    """The order today's Python implementation gave (services.filters.sort_rows on every row)."""
    with read_tx(ctx.engine) as conn:
        table = find_table(q.load_doc(conn, base.dtable.uuid).doc, T)
        column = next(c for c in table["columns"] if c["name"] == column_name)
        every = list(q.iter_rows(conn, base.dtable.uuid, table["_id"]))
    return [r.row_id for r in sort_rows(every, column, descending=descending)]


def db_order(ctx: Context, base: Principal, column_name: str, *, descending: bool, page: int) -> list[str]:
    out: list[str] = []
    direction = "desc" if descending else "asc"
    while True:
        got = run(svc.list_rows(ctx, base, T, order_by=column_name, direction=direction,
                                start=len(out), limit=page))
        out.extend(r.row_id for r in got.rows)
        if len(got.rows) < page:
            return out


def check_all(ctx: Context, base: Principal, names: list[str], pages: tuple[int, ...] = (1000, 7)) -> None:
    for name in names:
        for descending in (False, True):
            expected = python_order(ctx, base, name, descending=descending)
            for page in pages:
                assert db_order(ctx, base, name, descending=descending, page=page) == expected, (name, page)


@pytest.fixture
def base(ctx: Context) -> Principal:
    p = principal_on(ctx, "S")
    spec = [
        {"column_name": "Name", "column_type": "text"},
        {"column_name": "n", "column_type": "number"},
        {"column_name": "s", "column_type": "single-select"},
        {"column_name": "ms", "column_type": "multiple-select"},
        {"column_name": "d", "column_type": "date"},
        {"column_name": "c", "column_type": "checkbox"},
        {"column_name": "mixed", "column_type": "number"},
    ]
    run(tables.add_table(ctx, p, table_name="T", columns=spec))
    return p


def fill(ctx: Context, base: Principal, count: int, seed: int = 7) -> list[str]:
    rnd = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for i in range(count):
        row: dict[str, Any] = {"Name": rnd.choice(WORDS)}
        if rnd.random() < 0.8:
            row["n"] = rnd.choice([0, -0.0, 1, 1.5, -3, 10**6, 2.5e-3, 7, 7.0])
        if rnd.random() < 0.7:
            row["s"] = rnd.choice(["b", "A", "a", "é", "10"])
        if rnd.random() < 0.6:
            row["ms"] = rnd.sample(["x", "Y", "a", "b"], rnd.randint(0, 3))
        if rnd.random() < 0.6:
            row["d"] = rnd.choice(["2030-06-20", "2030-06-20 23:55", "1999-01-01", "2030-06-3"])
        if rnd.random() < 0.5:
            row["c"] = rnd.random() < 0.5
        if i % 2:
            row["mixed"] = rnd.choice([3, 1, 2.5, 100])
        rows.append(row)
    made = [r.row_id for part in range(0, count, 1000)
            for r in run(svc.append_rows(ctx, base, T, rows=rows[part: part + 1000]))]
    # a number column retyped to text keeps its numbers; text joins them in the same column
    run(columns.update_column(ctx, base, T, op_type="modify_column_type", column_ref="mixed",
                              args={"new_column_type": "text"}))
    updates = [{"row_id": rid, "row": {"mixed": rnd.choice(WORDS)}} for rid in made[::4]]
    run(svc.update_rows(ctx, base, T, updates=updates))
    return made


NAMES = ["Name", "n", "s", "ms", "d", "c", "mixed"]


def test_orders_and_pages_match_python(ctx: Context, base: Principal) -> None:
    fill(ctx, base, 400)
    check_all(ctx, base, NAMES)


def test_thousands_of_rows_page_exactly_once(ctx: Context, base: Principal) -> None:
    made = fill(ctx, base, 2500, seed=3)
    check_all(ctx, base, ["n", "Name"], pages=(1000, 333))
    assert sorted(db_order(ctx, base, "n", descending=False, page=1000)) == sorted(made)


def test_writes_keep_the_order(ctx: Context, base: Principal) -> None:
    made = fill(ctx, base, 120)
    updates = [{"row_id": rid, "row": {"n": -i, "Name": WORDS[i % len(WORDS)], "s": "new option"}}
               for i, rid in enumerate(made[:40])]
    run(svc.update_rows(ctx, base, T, updates=updates))
    run(svc.update_rows(ctx, base, T, updates=[{"row_id": made[50], "row": {"n": None, "Name": None}}]))
    run(svc.delete_rows(ctx, base, T, row_ids=made[60:80]))
    run(svc.append_rows(ctx, base, T, rows=[{"Name": "ZZ", "n": 0.5, "s": "b"}], anchor_row_id=made[0]))
    check_all(ctx, base, NAMES)
    assert not set(made[60:80]) & set(db_order(ctx, base, "n", descending=False, page=1000))
    # a retype changes what cells show: select ids become bare ids, numbers stay numbers
    run(columns.update_column(ctx, base, T, op_type="modify_column_type", column_ref="s",
                              args={"new_column_type": "text"}))
    run(columns.update_column(ctx, base, T, op_type="modify_column_type", column_ref="n",
                              args={"new_column_type": "single-select"}))
    check_all(ctx, base, ["s", "n"])
    # system columns show row fields; a new one has a key for every row
    run(columns.insert_column(ctx, base, T, column_name="when", column_type="mtime"))
    run(svc.update_rows(ctx, base, T, updates=[{"row_id": made[90], "row": {"Name": "later"}}]))
    check_all(ctx, base, ["when"])
    run(columns.delete_column(ctx, base, T, column_ref="d"))
    run(columns.insert_column(ctx, base, T, column_name="d2", column_type="text"))
    check_all(ctx, base, ["d2"])


def test_options_added_later_name_stored_ids(ctx: Context, base: Principal) -> None:
    made = fill(ctx, base, 60)
    # ids stored while the column was text show as themselves until an option with that id exists
    run(columns.update_column(ctx, base, T, op_type="modify_column_type", column_ref="Name",
                              args={"new_column_type": "single-select"}))
    check_all(ctx, base, ["Name"])
    run(columns.add_column_options(ctx, base, T, column_ref="Name",
                                   options=[{"name": "Zulu", "id": "apple"}, {"name": "0", "id": "banana"}]))
    check_all(ctx, base, ["Name"])
    run(svc.append_rows(ctx, base, T, rows=[{"Name": "a-new-name"}], anchor_row_id=made[3]))
    check_all(ctx, base, ["Name"])


def test_delete_table_drops_its_keys(ctx: Context, base: Principal) -> None:
    fill(ctx, base, 30)
    run(tables.delete_table(ctx, base, T))
    with read_tx(ctx.engine) as conn:
        from atoll.db import schema

        assert conn.execute(schema.row_keys.select()).first() is None


def test_sorting_reads_no_whole_table(ctx: Context, base: Principal, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(ctx, base, 50)
    expected = python_order(ctx, base, "n", descending=True)

    def refuse(*args: Any, **kw: Any) -> Any:
        raise AssertionError("sorting read every row")

    monkeypatch.setattr(q, "iter_rows", refuse)
    assert db_order(ctx, base, "n", descending=True, page=10) == expected
