"""The formula language without a database: each function, operator, type and error."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from atoll.services.formula import FormulaRejected, compile_table, plan, rename_reference

COLUMNS: list[dict[str, Any]] = [
    {"key": "n", "name": "n", "type": "number"},
    {"key": "m", "name": "m", "type": "number"},
    {"key": "t", "name": "t", "type": "text"},
    {"key": "d", "name": "d", "type": "date"},
    {"key": "e", "name": "e", "type": "date"},
    {"key": "c", "name": "c", "type": "checkbox"},
    {"key": "s", "name": "s", "type": "single-select",
     "data": {"options": [{"id": "o1", "name": "Open"}]}},
    {"key": "ms", "name": "ms", "type": "multiple-select",
     "data": {"options": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}]}},
    {"key": "a", "name": "Full Name", "type": "text"},
]  # fmt: skip
ROW = {"n": 7, "m": 2, "t": "  Hello World ", "d": "2024-01-31", "e": "2025-03-15 10:30", "c": True,
       "s": "o1", "ms": ["a", "b"], "a": "Ann"}  # fmt: skip


def run(formula: str, row: dict[str, Any] | None = None) -> tuple[Any, str]:
    columns = [*COLUMNS, {"key": "f", "name": "f", "type": "formula", "data": {"formula": formula}}]
    table = {"columns": columns}
    (entry,) = compile_table(columns, strict=True)
    assert entry.compiled is not None
    data = dict(ROW if row is None else row)
    plan(table).apply(data)
    return data.get("f"), entry.compiled.result_type


CORPUS: list[tuple[str, Any, str]] = [
    ("1 + 2", 3, "number"),
    ("1.3 + 2.6", 3.9000000000000004, "number"),
    ("{n} * {m} - 1", 13, "number"),
    ("{n} / {m}", 3.5, "number"),
    ("{n} / 7", 1, "number"),
    ("2 ^ 3 ^ 2", 512, "number"),
    ("-{n} + 10", 3, "number"),
    ("{n} % 4", 3, "number"),
    ("(1 + 2) * 3", 9, "number"),
    ("{n} > 5", True, "bool"),
    ("{n} = 7", True, "bool"),
    ("{n} <> 7", False, "bool"),
    ("{t} != 'x'", True, "bool"),
    ("{d} < {e}", True, "bool"),
    ("if({n} > 5, 'big', 'small')", "big", "string"),
    ("if({n} > 50, 'big')", None, "string"),
    ("if({c}, 1, 0)", 1, "number"),
    ("and({c}, {n} > 1)", True, "bool"),
    ("or(false(), {n} = 0)", False, "bool"),
    ("not({c})", False, "bool"),
    ("and(true(), false())", False, "bool"),
    ("concatenate({Full Name}, ' (', {n}, ')')", "Ann (7)", "string"),
    ("{Full Name} & '-' & {c}", "Ann-true", "string"),
    ("left({Full Name}, 2)", "An", "string"),
    ("left({Full Name})", "A", "string"),
    ("right({Full Name}, 2)", "nn", "string"),
    ("mid('abcdef', 2, 3)", "bcd", "string"),
    ("len({t})", 14, "number"),
    ("lower({Full Name})", "ann", "string"),
    ("upper({Full Name})", "ANN", "string"),
    ("trim({t})", "Hello World", "string"),
    ("round(2.5)", 3, "number"),
    ("round(-2.5)", -3, "number"),
    ("round(3.14159, 2)", 3.14, "number"),
    ("round(1234, -2)", 1200, "number"),
    ("sum({n}, {m}, 1)", 10, "number"),
    ("abs(0 - {n})", 7, "number"),
    ("dateAdd({d}, 1, 'months')", "2024-02-29", "date"),
    ("dateAdd({d}, 1, 'year')", "2025-01-31", "date"),
    ("dateAdd({d}, 2, 'days')", "2024-02-02", "date"),
    ("dateAdd({d}, 90, 'minutes')", "2024-01-31 01:30", "date"),
    ("dateDif({d}, {e})", 409, "number"),
    ("dateDif({d}, {e}, 'M')", 13, "number"),
    ("dateDif({d}, {e}, 'Y')", 1, "number"),
    ("dateDif({d}, {e}, 'YM')", 1, "number"),
    ("dateDif('2024-01-01', '2024-03-05', 'MD')", 4, "number"),
    ("year({e})", 2025, "number"),
    ("month({e})", 3, "number"),
    ("day({e})", 15, "number"),
    ("{s}", "Open", "string"),
    ("{ms}", "A, B", "string"),
    ('"say ""hi"""', None, "string"),  # adjacent strings are a syntax error: see REFUSED
]  # fmt: skip
CORPUS = [c for c in CORPUS if not c[0].startswith('"say')]


@pytest.mark.parametrize(("formula", "want", "result_type"), CORPUS, ids=[c[0] for c in CORPUS])
def test_corpus(formula: str, want: Any, result_type: str) -> None:
    value, kind = run(formula)
    assert kind == result_type
    assert value == want and type(value) is type(want)


ERRORS: list[tuple[str, str]] = [
    ("{n} / 0", "#DIV/0!"),
    ("{t} * 2", "#VALUE!"),
    ("dateAdd({t}, 1, 'days')", "#VALUE!"),
    ("dateAdd({d}, 1, 'fortnights')", "#VALUE!"),
    ("dateDif({e}, {d})", "#NUM!"),
    ("mid('abc', 0, 1)", "#VALUE!"),
    ("10 ^ 400", "#NUM!"),
]


@pytest.mark.parametrize(("formula", "code"), ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_show_seatable_codes(formula: str, code: str) -> None:
    assert run(formula)[0] == code


def test_empty_inputs() -> None:
    assert run("{n}", {})[0] is None  # a bare empty reference stays empty (recorded)
    assert run("{n} + 1", {})[0] == 1  # empty reads as 0 in arithmetic
    assert run("concatenate({t}, 'x')", {})[0] == "x"
    assert run("dateAdd({d}, 1, 'year')", {})[0] == "#VALUE!"  # recorded for an empty date
    assert run("if({c}, 'y', 'n')", {})[0] == "n"


def test_lazy_if_never_fails_on_the_branch_not_taken() -> None:
    assert run("if({m} = 0, 0, {n} / {m})", {"n": 1, "m": 0})[0] == 0


REFUSED: list[tuple[str, str]] = [
    ("", "empty"),
    ("1 +", "not valid"),
    ("(1", "expected ')'"),
    ("1 2", "unexpected '2'"),
    ("'open", "unexpected character"),
    ("{}", "empty column reference"),
    ("{nope}", "column 'nope' not found"),
    ("vlookup(1)", "function vlookup() is not supported"),
    ("mid('a', 1)", "takes 3 to 3 arguments"),
    ("today(1)", "takes 0 to 0 arguments"),
    ("a + 1", "expected '('"),
    ("1" + " + 1" * 6000, "at most 10000 characters"),
    ("(" * 150 + "1" + ")" * 150, "nests at most"),
]


@pytest.mark.parametrize(("formula", "message"), REFUSED, ids=[r[0][:20] for r in REFUSED])
def test_refused(formula: str, message: str) -> None:
    columns = [*COLUMNS, {"key": "f", "name": "f", "type": "formula", "data": {"formula": formula}}]
    with pytest.raises(FormulaRejected, match=message.replace("(", r"\(").replace(")", r"\)")):
        compile_table(columns, strict=True)


def test_unreadable_column_type_refused() -> None:
    columns = [{"key": "i", "name": "pic", "type": "image"},
               {"key": "f", "name": "f", "type": "formula", "data": {"formula": "{pic}"}}]  # fmt: skip
    with pytest.raises(FormulaRejected, match="type image cannot be used"):
        compile_table(columns, strict=True)


def test_clock_functions_are_volatile_and_propagate() -> None:
    columns = [*COLUMNS,
               {"key": "f", "name": "f", "type": "formula", "data": {"formula": "today()"}},
               {"key": "g", "name": "g", "type": "formula", "data": {"formula": "dateAdd({f}, 1, 'days')"}},
               {"key": "h", "name": "h", "type": "formula", "data": {"formula": "{n} + 1"}}]  # fmt: skip
    formulas = plan({"columns": columns})
    assert [e.column["name"] for e in formulas.volatile] == ["f", "g"]
    data = {"n": 1, "f": "stale", "g": "stale"}
    formulas.apply(data)
    assert data == {"n": 1, "h": 2}  # never stored
    tomorrow = (date.today() + timedelta(days=1)).isoformat()

    class Row:
        def __init__(self) -> None:
            self.data: dict[str, Any] = {}

    row = Row()
    formulas.fill_volatile([row])  # type: ignore[list-item]
    assert row.data["f"] == date.today().isoformat() and row.data["g"] == tomorrow


def test_rename_reference_touches_only_references() -> None:
    text = "concatenate({Old}, '{Old}', { Old }) & {Older}"
    assert rename_reference(text, "Old", "New") == "concatenate({New}, '{Old}', {New}) & {Older}"
