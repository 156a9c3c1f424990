"""Checking a formula against its table and evaluating it on one row.

``compile_formula`` refuses (``FormulaRejected``) what atoll cannot evaluate: bad syntax, an
unknown function, a wrong number of arguments, an unknown column or one whose type a formula
cannot read here. It infers SeaTable's ``result_type`` (number, string, bool or date).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from atoll.services.formula.functions import FUNCTIONS
from atoll.services.formula.syntax import (
    Binary,
    Call,
    FormulaSyntaxError,
    Neg,
    Node,
    Num,
    Ref,
    Str,
    parse,
)
from atoll.services.formula.values import (
    CellError,
    Value,
    as_bool,
    as_date,
    as_number,
    as_text,
    compare,
    parse_date,
    stored_date,
    tidy,
)

#: What a cell of each column type reads as inside a formula.
INPUT_TYPES: dict[str, str] = {
    "number": "number", "rate": "number", "duration": "number",
    "text": "string", "long-text": "string", "email": "string", "url": "string",
    "auto-number": "string", "single-select": "string", "multiple-select": "string",
    "collaborator": "string",
    "date": "date",
    "checkbox": "bool",
}  # fmt: skip
RESULT_TYPES = ("number", "string", "bool", "date")
_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "%": operator.mod, "^": lambda a, b: float(a) ** b,
}  # fmt: skip
_COMPARISONS = frozenset({"=", "==", "!=", "<>", "<", "<=", ">", ">="})


class FormulaRejected(ValueError):
    """A formula atoll will not store; the message says why."""


@dataclass(frozen=True)
class Compiled:
    tree: Node
    result_type: str
    refs: frozenset[str]  # names of the referenced columns
    volatile: bool


def compile_formula(
    text: Any, columns: Mapping[str, dict[str, Any]], formula_types: Mapping[str, str]
) -> Compiled:
    """Check ``text`` against ``columns`` (by name); ``formula_types`` gives the result type of
    formula columns already compiled (a formula column absent from it is refused)."""
    if not isinstance(text, str):
        raise FormulaRejected("column_data.formula must be a string")
    try:
        tree = parse(text)
    except FormulaSyntaxError as exc:
        raise FormulaRejected(f"formula {text!r} is not valid: {exc}") from None
    refs: set[str] = set()
    volatile = [False]

    def type_of(node: Node) -> str:
        if isinstance(node, Num):
            return "number"
        if isinstance(node, Str):
            return "string"
        if isinstance(node, Ref):
            column = columns.get(node.name)
            if column is None:
                raise FormulaRejected(f"formula {text!r}: column {node.name!r} not found")
            refs.add(node.name)
            ctype = str(column.get("type"))
            if ctype == "formula":
                if node.name not in formula_types:
                    raise FormulaRejected(
                        f"formula {text!r}: column {node.name!r} is part of a reference cycle"
                    )
                return formula_types[node.name]
            found = INPUT_TYPES.get(ctype)
            if found is None:
                raise FormulaRejected(
                    f"formula {text!r}: column {node.name!r} of type {ctype} cannot be used "
                    "in a formula on this server"
                )
            return found
        if isinstance(node, Neg):
            type_of(node.operand)
            return "number"
        if isinstance(node, Binary):
            type_of(node.left)
            type_of(node.right)
            if node.op in _COMPARISONS:
                return "bool"
            return "string" if node.op == "&" else "number"
        function = FUNCTIONS.get(node.name)
        if function is None:
            raise FormulaRejected(f"formula {text!r}: function {node.name}() is not supported here")
        if not function.min_args <= len(node.args) <= function.max_args:
            raise FormulaRejected(
                f"formula {text!r}: {node.name}() takes {function.min_args} to "
                f"{function.max_args} arguments, got {len(node.args)}"
            )
        volatile[0] = volatile[0] or function.volatile
        arg_types = [type_of(a) for a in node.args]
        return arg_types[1] if function.result_type == "same" else function.result_type

    result_type = type_of(tree)
    return Compiled(tree, result_type, frozenset(refs), volatile[0])


# ---- evaluating ----------------------------------------------------------------------------

Lookup = Callable[[str], Value]


def evaluate(node: Node, lookup: Lookup) -> Value:
    """The value of ``node``; CellError when an input does not fit."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Str):
        return node.value
    if isinstance(node, Ref):
        return lookup(node.name)
    if isinstance(node, Neg):
        return tidy(-as_number(evaluate(node.operand, lookup)))
    if isinstance(node, Binary):
        return _binary(node, lookup)
    assert isinstance(node, Call)
    if node.name == "if":
        branch = as_bool(evaluate(node.args[0], lookup))
        if branch:
            return evaluate(node.args[1], lookup)
        return evaluate(node.args[2], lookup) if len(node.args) > 2 else None
    if node.name in ("and", "or"):
        want = node.name == "or"
        for arg in node.args:
            if as_bool(evaluate(arg, lookup)) == want:
                return want
        return not want
    return FUNCTIONS[node.name].run([evaluate(a, lookup) for a in node.args])


def _binary(node: Binary, lookup: Lookup) -> Value:
    left, right = evaluate(node.left, lookup), evaluate(node.right, lookup)
    if node.op in _COMPARISONS:
        return compare(node.op, left, right)
    if node.op == "&":
        return as_text(left) + as_text(right)
    a, b = as_number(left), as_number(right)
    if node.op in ("/", "%") and b == 0:
        raise CellError("#DIV/0!")
    try:
        result = _ARITHMETIC[node.op](a, b)
    except (OverflowError, ZeroDivisionError):
        raise CellError("#NUM!") from None
    if isinstance(result, complex):
        raise CellError("#NUM!")
    return tidy(result)


def result_cell(compiled: Compiled, lookup: Lookup) -> Any:
    """The cell a formula stores for one row: typed per ``result_type``; an error's text
    (``#VALUE!``...) when the inputs do not fit; None when empty."""
    try:
        value = evaluate(compiled.tree, lookup)
        if value is None or value == "":
            return None
        kind = compiled.result_type
        if kind == "number":
            return tidy(as_number(value))
        if kind == "bool":
            return as_bool(value)
        if kind == "date":
            return stored_date(as_date(value))
        return as_text(value)
    except CellError as exc:
        return exc.code
    except RecursionError:
        return "#VALUE!"


def input_value(column: dict[str, Any], cell: Any, result_type: str | None = None) -> Value:
    """What a stored cell reads as inside a formula."""
    if cell is None:
        return None
    ctype = column.get("type")
    if ctype in ("single-select", "multiple-select"):
        options = {o.get("id"): o.get("name") for o in ((column.get("data") or {}).get("options") or [])}
        if isinstance(cell, list):
            return ", ".join(str(options.get(c, c)) for c in cell)
        return str(options.get(cell, cell))
    if isinstance(cell, list):
        return ", ".join(str(c) for c in cell)
    if isinstance(cell, dict):
        return str(cell.get("text", ""))
    if ctype == "date" or (ctype == "formula" and result_type == "date"):
        parsed = parse_date(cell) if isinstance(cell, str) else None
        return parsed if parsed is not None else cell
    if ctype == "checkbox":
        return cell is True
    if isinstance(cell, (bool, int, float, str, datetime)):
        return cell
    return str(cell)
