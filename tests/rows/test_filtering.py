"""filter_rows evaluates its filters with the view filters' evaluator (services.sql.viewfilters,
in the database) and narrows its candidates with the sort keys (row_keys). Property: over random
rows of mixed cell types and random filters, filter_rows without a view gives exactly the rows
of a view holding the same filters (list_rows(view_name), which reads the table in order with no
narrowing), and refuses exactly the filters such a view refuses; with a view, the rows of both."""

from __future__ import annotations

import random
from typing import Any

import pytest

from atoll.db import rows as q
from atoll.db.engine import read_tx
from atoll.errors import InvalidInput, NotFound
from atoll.models import Principal
from atoll.services import rowkeys, views
from atoll.services import rows as svc
from atoll.services.context import Context
from atoll.services.structure import find_table
from tests.rows.test_services import run
from tests.rows.test_sorting import LONG, T, base, fill

__all__ = ["base"]  # the fixture

Filters = list[dict[str, Any]]
TYPES = {"Name": "text", "n": "number", "s": "single-select", "ms": "multiple-select", "d": "date",
         "c": "checkbox", "mixed": "text"}  # fmt: skip
#: The predicates SeaTable offers per column type (docs/sql.md, "Views").
VALID = {
    "text": ["is", "is not", "contains", "does not contain", "is empty", "is not empty"],
    "number": ["=", "≠", "<", "<=", ">", ">=", "is", "is not", "is empty", "is not empty"],
    "single-select": ["is", "is not", "is any of", "is none of", "is empty", "is not empty"],
    "multiple-select": ["has any of", "has all of", "has none of", "is empty", "is not empty"],
    "date": ["is", "is not", "is before", "is after", "is on or before", "is on or after", "is empty",
             "is not empty"],
    "checkbox": ["is", "is empty", "is not empty"],
}  # fmt: skip
EVERY_PREDICATE = sorted({p for ps in VALID.values() for p in ps} | {"!=", "near"})
WORDS: list[Any] = ["apple", "Apple", "APPLE", "10", "9", "a, b", "", "ß", "SS", "é", "A", "b", "x", "Y", "a",
                    LONG + "a", "x" * 299, "1e3", " 7 ", "nan", "inf"]
NUMBERS: list[Any] = [0, 1, 7, 7.0, 1.5, -3, 10**6, 2.5e-3, "10", "-0", " 7 ", "1e3", None, "", "x", True]
DAYS: list[Any] = ["2030-06-20", "2030-06-20 23:55", "1999-01-01", "2030-06-03", "2000-01-01", "", None, "x"]
MODIFIERS = [None, "exact_date", "today", "one_week_ago", "number_of_days_ago", "number_of_days_from_now"]


class Check:
    """filter_rows against the rows of a view holding the same filters."""

    def __init__(self, ctx: Context, base: Principal, seed: int) -> None:
        self.ctx, self.base, self.rnd = ctx, base, random.Random(seed)
        with read_tx(ctx.engine) as conn:
            table = find_table(q.load_doc(conn, base.dtable.uuid).doc, T)
        self.columns = {c["name"]: c for c in table["columns"]}
        self.option_ids = {name: [str(o["id"]) for o in (c.get("data") or {}).get("options") or []]
                           for name, c in self.columns.items()}  # fmt: skip
        run(views.add_view(ctx, base, T, name="Same"))
        run(views.add_view(ctx, base, T, name="Outer"))

    def term(self, name: str, predicate: str) -> Any:
        rnd, kind = self.rnd, TYPES[name]
        if kind == "number":
            return rnd.choice(NUMBERS)
        if kind == "date":
            return rnd.choice([*DAYS, 3, "2"])
        if kind == "checkbox":
            return rnd.choice([True, False, "true", "false", None, 1])
        if kind in ("single-select", "multiple-select"):
            pool = self.option_ids[name] + ["A", "b", "x", "Y", "a", "10", "nope", ""]
            picked = rnd.sample(pool, rnd.randint(0, 3))
            return picked if predicate.endswith(" of") or rnd.random() < 0.3 else rnd.choice(pool)
        return rnd.choice([*WORDS, 3, ["a"]])

    def one(self) -> dict[str, Any]:
        rnd = self.rnd
        name = rnd.choice(list(TYPES))
        predicate = rnd.choice(VALID[TYPES[name]] if rnd.random() < 0.85 else EVERY_PREDICATE)
        f: dict[str, Any] = {"column_name": name, "filter_predicate": predicate,
                             "filter_term": self.term(name, predicate)}  # fmt: skip
        if TYPES[name] == "date" and rnd.random() < 0.4:
            f["filter_term_modifier"] = rnd.choice(MODIFIERS)
        if rnd.random() < 0.2:  # views name their columns by key
            rest = {k: v for k, v in f.items() if k != "column_name"}
            f = {"column_key": self.columns[name]["key"], **rest}
        return f

    def filters(self, most: int = 3) -> Filters:
        return [self.one() for _ in range(self.rnd.randint(1, most))]

    def view_rows(self, view: str, filters: Filters, conjunction: str, limit: int) -> list[str]:
        run(views.update_view(self.ctx, self.base, T, name=view,
                              changes={"filters": filters, "filter_conjunction": conjunction}))  # fmt: skip
        page = run(svc.list_rows(self.ctx, self.base, T, view_name=view, limit=limit))
        return [r.row_id for r in page.rows]

    def filtered(self, filters: Filters, conjunction: str, limit: int, view: str | None = None) -> list[str]:
        # the use case's body (no event loop per call: hundreds of calls)
        page = svc._filter_rows(self.ctx.engine, self.base.dtable.uuid, T, filters, conjunction, view, limit)
        return [r.row_id for r in page.rows]

    def same(self, filters: Filters, conjunction: str = "And", limit: int = 5000) -> bool:
        """Whether the filters were served (both ways alike); refused ones must be refused both ways."""
        try:
            expected = self.view_rows("Same", filters, conjunction, limit)
        except (InvalidInput, NotFound) as exc:
            with pytest.raises(type(exc)):
                self.filtered(filters, conjunction, limit)
            return False
        assert self.filtered(filters, conjunction, limit) == expected, (filters, conjunction, limit)
        return True


def test_filter_rows_is_a_view_of_the_same_filters(ctx: Context, base: Principal) -> None:
    fill(ctx, base, 300, seed=11)
    check = Check(ctx, base, seed=3)
    served = 0
    for _ in range(250):
        filters = check.filters()
        served += check.same(filters, check.rnd.choice(["And", "Or"]), check.rnd.choice([1, 7, 5000]))
    assert served > 120  # most random filters are valid for their column: the property is exercised
    check.same([], limit=5)


def test_each_valid_predicate_is_a_view(ctx: Context, base: Principal) -> None:
    fill(ctx, base, 400, seed=5)
    check = Check(ctx, base, seed=8)
    for name, kind in TYPES.items():
        ids = check.option_ids[name]
        pool = {"number": NUMBERS, "date": DAYS, "checkbox": [True, False, "true", "false", None, 1],
                "single-select": [*ids, "A", "b", "10", "nope", "", [*ids[:1], "b"], ["é"], []],
                "multiple-select": [*ids, "x", "Y", "a", "nope", "", [*ids[:1], "a"], ["Y", "b"], [""]],
                }.get(kind, WORDS)  # fmt: skip
        for predicate in VALID[kind]:
            for term in pool:
                check.same([one(name, predicate, term)])


def test_with_a_view_both_conditions_hold(ctx: Context, base: Principal) -> None:
    fill(ctx, base, 300, seed=2)
    check = Check(ctx, base, seed=4)
    done = 0
    for _ in range(120):
        outer, filters = check.filters(2), check.filters(2)
        conjunction = check.rnd.choice(["And", "Or"])
        try:
            in_outer = set(check.view_rows("Outer", outer, "And", 5000))
            alone = check.view_rows("Same", filters, conjunction, 5000)
        except (InvalidInput, NotFound):
            continue
        expected = [r for r in alone if r in in_outer]  # both in table order
        assert check.filtered(filters, conjunction, 5000, view="Outer") == expected, (outer, filters)
        done += 1
    assert done > 40


def test_batches_keep_table_order(ctx: Context, base: Principal) -> None:
    fill(ctx, base, 2500, seed=4)
    check = Check(ctx, base, seed=1)
    s_ids = check.option_ids["s"]
    for filters in ([one("n", ">=", 1)], [one("n", "<", 2), one("Name", "is not empty", None)],
                    [one("n", "is empty", None)], [one("Name", "is", "apple"), one("d", "is empty", None)],
                    [one("s", "is any of", ["A", s_ids[0]]), one("c", "is", True)],
                    [one("ms", "has any of", ["x"]), one("d", "is after", "2000-01-01")]):
        for conjunction in ("And", "Or"):
            for limit in (2400, 13):
                check.same(filters, conjunction, limit)


def one(column: str, predicate: str, term: Any) -> dict[str, Any]:
    return {"column_name": column, "filter_predicate": predicate, "filter_term": term}


def test_selective_filter_reads_no_whole_table(ctx: Context, base: Principal,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    fill(ctx, base, 3500, seed=9)
    check = Check(ctx, base, seed=9)
    filters = [one("n", ">", 1000), one("Name", "is not", "x")]  # about 1 row in 11
    expected = check.view_rows("Same", filters, "And", 5000)
    assert 100 < len(expected) < 1000
    windows: list[int] = []
    window_end = rowkeys._window_end

    def counted(*args: Any) -> Any:
        windows.append(args[-1])
        return window_end(*args)

    def refuse(*args: Any, **kw: Any) -> Any:
        raise AssertionError("filtering read the table in order to its end")

    monkeypatch.setattr(rowkeys, "_window_end", counted)
    monkeypatch.setattr(q, "iter_rows", refuse)
    assert check.filtered(filters, "And", 1000) == expected
    assert windows == [rowkeys.PROBE_ROWS]  # a probe in table order, then the keys' index
    windows.clear()
    dense = [one("n", "is not empty", None)]
    assert check.filtered(dense, "And", 1000) == check.view_rows("Same", dense, "And", 1000)
    assert sum(windows) <= rowkeys.PROBE_ROWS + 2 * q.BATCH_ROWS  # dense: the table in order fills the page
