"""filter_rows narrows its candidates with the sort keys (row_keys) but must give exactly what
checking every row in Python (services.filters.row_matches, in table order, up to ``limit``)
gave: across mixed cell types, terms of every type, both conjunctions."""

from __future__ import annotations

import random
from typing import Any

import pytest

from atoll.db import rows as q
from atoll.db.engine import read_tx
from atoll.models import Principal
from atoll.services import rowkeys
from atoll.services import rows as svc
from atoll.services.cells import Columns
from atoll.services.context import Context
from atoll.services.filters import row_matches
from atoll.services.structure import find_table
from tests.rows.test_sorting import LONG, NAMES, T, base, fill

__all__ = ["base"]  # the fixture

TERMS: list[Any] = [0, 1, 7, 7.0, 1.5, -3, 10**6, 2.5e-3, "10", "9", " 7 ", "1e3", "-0", "apple", "Apple",
                    "APPLE", "a, b", "x, Y", "", None, True, False, "2030-06-20", "2030-06-20 23:55", "2000",
                    "nan", "inf", "-inf", float("inf"), [], ["a"], ["x", "Y"], ["", "a"], [""], [3, "b"],
                    {"a": 1}, LONG + "a", "x" * 299, "ß", "SS", "é", "A", "b"]
Filters = list[dict[str, Any]]
PREDICATES = ["is", "=", "is not", "contains", "does not contain", "is empty", "is not empty", "<", "<=",
              ">", ">=", "is before", "is after", "is on or before", "is on or after", "is any of",
              "is none of", "has any of", "has all of", "has none of"]


class Check:
    """filter_rows against checking every row in Python (rows read once)."""

    def __init__(self, ctx: Context, base: Principal) -> None:
        self.ctx, self.base = ctx, base
        with read_tx(ctx.engine) as conn:
            table = find_table(q.load_doc(conn, base.dtable.uuid).doc, T)
            self.every = list(q.iter_rows(conn, base.dtable.uuid, table["_id"]))
        self.columns = Columns(table["columns"])

    def reference(self, filters: Filters, any_of: bool, limit: int) -> list[str]:
        return [r.row_id for r in self.every if row_matches(r, self.columns, filters, any_of=any_of)][:limit]

    def filtered(self, filters: Filters, any_of: bool, limit: int) -> list[str]:
        conjunction = "Or" if any_of else "And"
        # the use case's body (no event loop per call: thousands of calls)
        page = svc._filter_rows(self.ctx.engine, self.base.dtable.uuid, T, filters, conjunction, None, limit)
        return [r.row_id for r in page.rows]

    def same(self, filters: Filters, *, any_of: bool = False, limit: int = 1000) -> None:
        try:
            expected = self.reference(filters, any_of, limit)
        except (OverflowError, TypeError) as exc:  # the reference fails: so must filter_rows
            with pytest.raises(type(exc)):
                self.filtered(filters, any_of, limit)
            return
        assert self.filtered(filters, any_of, limit) == expected, (filters, any_of, limit)


def one(column: str, predicate: str, term: Any) -> dict[str, Any]:
    return {"column_name": column, "filter_predicate": predicate, "filter_term": term}


#: Predicates whose candidates come from the keys (or that are their complement): every term.
NARROWING = ["is", "=", "contains", "<", ">=", "is after", "is on or before", "is any of", "has any of",
             "has all of"]


def test_each_predicate_matches_python(ctx: Context, base: Principal) -> None:
    fill(ctx, base, 150, seed=11)
    check = Check(ctx, base)
    for column in NAMES:
        for predicate in PREDICATES:
            terms = TERMS if predicate in NARROWING else TERMS[::6]
            for term in terms:
                check.same([one(column, predicate, term)])


def test_conjunctions_and_limits_match_python(ctx: Context, base: Principal) -> None:
    fill(ctx, base, 150, seed=5)
    check = Check(ctx, base)
    rnd = random.Random(2)
    for _ in range(300):
        filters = [one(rnd.choice(NAMES), rnd.choice(PREDICATES), rnd.choice(TERMS))
                   for _ in range(rnd.randint(1, 3))]
        check.same(filters, any_of=rnd.random() < 0.5, limit=rnd.choice([1, 7, 1000]))
    check.same([], limit=5)


def test_batches_keep_table_order(ctx: Context, base: Principal) -> None:
    fill(ctx, base, 2500, seed=4)
    check = Check(ctx, base)
    for filters in ([one("n", ">=", 1)], [one("n", "<", 2), one("Name", "is not empty", None)],
                    [one("n", "is empty", None)], [one("Name", "is", "apple"), one("d", "is empty", None)],
                    [one("s", "is any of", ["A"]), one("c", "is", True)]):
        for any_of in (False, True):
            check.same(filters, any_of=any_of, limit=2400)


def test_selective_filter_reads_no_whole_table(ctx: Context, base: Principal,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    fill(ctx, base, 3500, seed=9)
    check = Check(ctx, base)
    filters = [one("n", ">", 1000), one("Name", "is not", "x")]  # about 1 row in 11
    expected = check.reference(filters, False, 1000)
    assert 100 < len(expected) < 1000
    read: list[str] = []
    rows_after = q.rows_after

    def counted(*args: Any, **kw: Any) -> list[q.StoredRow]:
        found = rows_after(*args, **kw)
        read.extend(r.row_id for r in found)
        return found

    def refuse(*args: Any, **kw: Any) -> Any:
        raise AssertionError("filtering read every row")

    monkeypatch.setattr(q, "rows_after", counted)
    monkeypatch.setattr(q, "iter_rows", refuse)
    assert check.filtered(filters, False, 1000) == expected
    assert len(read) <= rowkeys.PROBE_ROWS  # a probe in table order, then the keys' index
    read.clear()
    dense = [one("n", "is not empty", None)]
    assert check.filtered(dense, False, 1000) == check.reference(dense, False, 1000)
    assert len(read) <= rowkeys.PROBE_ROWS + 2 * q.BATCH_ROWS  # dense: the table in order fills the page
