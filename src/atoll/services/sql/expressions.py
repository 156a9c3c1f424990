"""Compiling a parsed SeaTable SQL expression (sqlglot) into a SQLAlchemy expression over ``rows``.

Names resolve against the table's columns (``db.cellsql`` gives each column's typed cell);
literals and ``?`` parameters become bound parameters, coerced to the kind of the column they
are compared with (``12`` against a text column compares as ``"12"``; ``'abc'`` against a number
column is refused). Anything not listed here is refused with a 400 naming it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Numeric,
    and_,
    case,
    cast,
    distinct,
    func,
    literal,
    not_,
    or_,
)
from sqlglot import exp

from atoll.db import narrowing as nk
from atoll.db.cellsql import SYSTEM_NAMES, CellSql, Typed, Unsupported
from atoll.errors import InvalidInput
from atoll.services import formula
from atoll.services.cells import Columns
from atoll.services.sql import narrowing

#: Column types SQL cannot read yet (another part of the server builds them).
LINK_TYPES = frozenset({"link", "link-formula"})
LINKS_NOT_SUPPORTED = (
    "link columns can be selected (their cells list the linked rows) but not compared, grouped, "
    "sorted or used in functions in SQL"
)

#: Integers beyond this are taken as floats (the backends bind 64-bit integers).
MAX_EXACT_INT = 2**63 - 1
SCALAR_FUNCTIONS = ("UPPER", "LOWER", "LEN/LENGTH", "TRIM", "ABS", "ROUND", "YEAR", "MONTH", "DAY")
AGGREGATES = ("COUNT", "SUM", "AVG", "MIN", "MAX")


def fail(message: str) -> InvalidInput:
    return InvalidInput(message)


@dataclass(frozen=True)
class Lit:
    """A constant from the query (a literal or a parameter), bound when it is used."""

    value: Any


@dataclass(frozen=True)
class Cond:
    """A condition (WHERE, HAVING, a comparison); ``narrow``: a superset of the rows it can
    match, in terms of the cells' sort keys (``services.sql.narrowing``), when one is known."""

    expr: ColumnElement[bool]
    narrow: nk.Narrow | None = field(default=None, compare=False, hash=False)
    #: The column this condition tests for emptiness (``column IS NULL``), if that is all it is.
    empty_of: dict[str, Any] | None = field(default=None, compare=False, hash=False)


Val = Typed | Lit | Cond


@dataclass
class Scope:
    """What names mean while compiling one statement."""

    table: dict[str, Any]
    cells: CellSql
    params: Iterator[Any]
    allow_aggregates: bool = False
    aliases: dict[str, Typed] = field(default_factory=dict)
    used_columns: list[dict[str, Any]] = field(default_factory=list)

    @property
    def columns(self) -> Columns:
        return Columns(self.table["columns"])


def find_column(scope: Scope, name: str, *, shown: bool = False) -> dict[str, Any]:
    """The column ``name`` names. ``shown``: only selected for output (a plain SELECT item),
    which link and clock-dependent formula columns may be; any other use of them is refused."""
    column = scope.columns.by_name.get(name)
    if column is None:
        folded = [c for c in scope.table["columns"] if str(c["name"]).casefold() == name.casefold()]
        column = folded[0] if len(folded) == 1 else None
    if column is None:
        raise fail(f"no such column: {name}")
    if shown:
        return column
    if column.get("type") in LINK_TYPES:
        raise fail(f"{LINKS_NOT_SUPPORTED}: {name}")
    if formula.is_volatile(scope.table, column):
        raise fail(f"column {name} is computed when read (today/now) and can only be selected "
                   "in SQL, not compared, grouped or sorted")
    return column


def column_name(node: exp.Column, scope: Scope) -> str:
    table = node.table
    if table and table != scope.table["name"]:
        raise fail(f"no such table: {table}")
    return str(node.name)


def value_of_literal(node: exp.Literal) -> Any:
    text = str(node.this)
    if node.is_string:
        return text
    try:
        whole = int(text)
    except ValueError:
        pass
    else:
        return whole if abs(whole) <= MAX_EXACT_INT else float(whole)  # beyond 64 bits: a float
    try:
        number = float(text)
    except ValueError:
        raise fail(f"invalid number: {text}") from None
    if not math.isfinite(number):
        raise fail(f"invalid number: {text}")
    return number


def bind(value: Any) -> ColumnElement[Any]:
    if isinstance(value, bool):
        return literal(1 if value else 0, Integer)
    if isinstance(value, int):
        return literal(value, Integer)
    if isinstance(value, float):
        return literal(value, Float)
    return literal(value)


def coerce(value: Any, kind: str, what: str) -> Any:
    """A constant as a value of ``kind`` (refused when it can not be one)."""
    if value is None:
        raise fail(f"compare {what} with NULL using IS NULL / IS NOT NULL")
    if kind == "number":
        if isinstance(value, bool):
            raise fail(f"{what} is a number: can not compare it with {value!r}")
        if isinstance(value, (int, float)):
            return value
        try:
            number = float(str(value).strip())
        except ValueError:
            raise fail(f"{what} is a number: can not compare it with {value!r}") from None
        if not math.isfinite(number):
            raise fail(f"{what} is a number: can not compare it with {value!r}")
        return number
    if kind == "bool":
        if isinstance(value, bool) or value in (0, 1):
            return 1 if value else 0
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return 1 if value.lower() == "true" else 0
        raise fail(f"{what} is a checkbox: compare it with true or false")
    if isinstance(value, bool):
        raise fail(f"{what} is text: can not compare it with {value!r}")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def typed_of(scope: Scope, val: Val, what: str) -> Typed:
    if isinstance(val, Typed):
        return val
    if isinstance(val, Cond):
        return Typed(case((val.expr, literal(1)), else_=literal(0)), "bool")
    value = val.value
    if isinstance(value, bool):
        return Typed(bind(value), "bool")
    if isinstance(value, (int, float)):
        return Typed(bind(value), "number")
    if value is None:
        raise fail(f"NULL is not allowed here ({what})")
    return Typed(bind(str(value)), "text")


def pair(
    scope: Scope, left: Val, right: Val, what: str
) -> tuple[ColumnElement[Any], ColumnElement[Any], str]:
    """Two sides of a comparison as expressions of one kind."""
    if isinstance(left, Lit) and isinstance(right, Typed):
        return bind(coerce(left.value, right.kind, what)), right.expr, right.kind
    if isinstance(right, Lit) and isinstance(left, Typed):
        return left.expr, bind(coerce(right.value, left.kind, what)), left.kind
    a, b = typed_of(scope, left, what), typed_of(scope, right, what)
    if a.kind != b.kind:
        raise fail(f"can not compare {a.kind} with {b.kind} in {what}")
    return a.expr, b.expr, a.kind


def condition(scope: Scope, val: Val, what: str) -> ColumnElement[bool]:
    if isinstance(val, Cond):
        return val.expr
    typed = typed_of(scope, val, what)
    if typed.kind == "bool":
        return typed.expr == 1
    raise fail(f"{what} must be a condition")


_COMPARE: dict[type[exp.Expression], Callable[[Any, Any], Any]] = {
    exp.EQ: lambda a, b: a == b,
    exp.NEQ: lambda a, b: a != b,
    exp.LT: lambda a, b: a < b,
    exp.LTE: lambda a, b: a <= b,
    exp.GT: lambda a, b: a > b,
    exp.GTE: lambda a, b: a >= b,
}
_ARITHMETIC: dict[type[exp.Expression], Callable[[Any, Any], Any]] = {
    exp.Add: lambda a, b: a + b,
    exp.Sub: lambda a, b: a - b,
    exp.Mul: lambda a, b: a * b,
    exp.Div: lambda a, b: cast(a, Float) / func.nullif(b, 0),
    exp.Mod: lambda a, b: a % b,
}


def compile_expr(scope: Scope, node: exp.Expression) -> Val:
    if isinstance(node, exp.Paren):
        return compile_expr(scope, node.this)
    if isinstance(node, exp.Column):
        return column_value(scope, node)
    if isinstance(node, exp.Literal):
        return Lit(value_of_literal(node))
    if isinstance(node, exp.Boolean):
        return Lit(bool(node.this))
    if isinstance(node, exp.Null):
        return Lit(None)
    if isinstance(node, exp.Placeholder):
        return Lit(next_param(scope))
    if isinstance(node, exp.Neg):
        inner = compile_expr(scope, node.this)
        if (
            isinstance(inner, Lit)
            and isinstance(inner.value, (int, float))
            and not isinstance(inner.value, bool)
        ):
            return Lit(-inner.value)
        t = number_of(scope, inner, "-")
        return Typed(-t, "number")
    for kind, op in _COMPARE.items():
        if type(node) is kind:
            what = node.sql("mysql")
            left, right = compile_expr(scope, node.this), compile_expr(scope, node.expression)
            a, b, _ = pair(scope, left, right, what)
            return Cond(op(a, b), _narrow_compare(kind, left, right, what))
    for kind, op in _ARITHMETIC.items():
        if type(node) is kind:
            a = number_of(scope, compile_expr(scope, node.this), node.sql("mysql"))
            b = number_of(scope, compile_expr(scope, node.expression), node.sql("mysql"))
            return Typed(op(a, b), "number")
    if isinstance(node, (exp.And, exp.Or)):
        what = "AND" if isinstance(node, exp.And) else "OR"
        left, right = compile_expr(scope, node.this), compile_expr(scope, node.expression)
        a, b = condition(scope, left, what), condition(scope, right, what)
        if isinstance(node, exp.And):
            return Cond(and_(a, b), nk.both(_narrow_of(left), _narrow_of(right)))
        return Cond(or_(a, b), nk.either(_narrow_of(left), _narrow_of(right)))
    if isinstance(node, exp.Not):
        inner = compile_expr(scope, node.this)
        not_null = narrowing.not_empty(inner.empty_of) if isinstance(inner, Cond) else None
        return Cond(not_(condition(scope, inner, "NOT")), not_null)
    if isinstance(node, exp.Is):
        return is_null(scope, node)
    if isinstance(node, (exp.Like, exp.ILike)):
        return like(scope, node)
    if isinstance(node, exp.In):
        return in_list(scope, node)
    if isinstance(node, exp.Between):
        what = node.sql("mysql")
        value = compile_expr(scope, node.this)
        low_val, high_val = compile_expr(scope, node.args["low"]), compile_expr(scope, node.args["high"])
        low, x, _ = pair(scope, low_val, value, what)
        high, y, _ = pair(scope, high_val, value, what)
        narrow = None
        if isinstance(value, Typed) and isinstance(low_val, Lit) and isinstance(high_val, Lit):
            narrow = narrowing.between(value.column, coerce(low_val.value, value.kind, what),
                                       coerce(high_val.value, value.kind, what))  # fmt: skip
        return Cond(and_(x >= low, y <= high), narrow)
    return function(scope, node)


_MIRROR: dict[type[exp.Expression], str] = {
    exp.EQ: "=", exp.LT: ">", exp.LTE: ">=", exp.GT: "<", exp.GTE: "<="
}  # fmt: skip
_OP: dict[type[exp.Expression], str] = {
    exp.EQ: "=", exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">="
}  # fmt: skip


def _narrow_compare(kind: type[exp.Expression], left: Val, right: Val, what: str) -> nk.Narrow | None:
    """``column <op> constant`` (either way round) as keys, when they can serve it."""
    if isinstance(left, Typed) and isinstance(right, Lit) and kind in _OP:
        return narrowing.compare(left.column, _OP[kind], coerce(right.value, left.kind, what))
    if isinstance(right, Typed) and isinstance(left, Lit) and kind in _MIRROR:
        return narrowing.compare(right.column, _MIRROR[kind], coerce(left.value, right.kind, what))
    return None


def _narrow_of(val: Val) -> nk.Narrow | None:
    return val.narrow if isinstance(val, Cond) else None


def column_value(scope: Scope, node: exp.Column) -> Typed:
    name = column_name(node, scope)
    if name in scope.aliases:
        return scope.aliases[name]
    if name in SYSTEM_NAMES:
        return scope.cells.system(name)
    column = find_column(scope, name)
    try:
        typed = scope.cells.typed(column)
    except Unsupported as exc:
        raise fail(str(exc)) from None
    scope.used_columns.append(column)
    return typed


def next_param(scope: Scope) -> Any:
    try:
        value = next(scope.params)
    except StopIteration:
        raise fail("the query has more ? placeholders than parameters") from None
    if value is not None and not isinstance(value, (str, int, float, bool)):
        raise fail("parameters must be strings, numbers, booleans or null")
    if isinstance(value, float) and not math.isfinite(value):
        raise fail("parameters must be finite numbers")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_EXACT_INT:
        return float(value)
    return value


def number_of(scope: Scope, val: Val, what: str) -> ColumnElement[Any]:
    if isinstance(val, Lit):
        return bind(coerce(val.value, "number", what))
    typed = typed_of(scope, val, what)
    if typed.kind != "number":
        raise fail(f"{what}: expected a number, got {typed.kind}")
    return typed.expr


def text_of(scope: Scope, val: Val, what: str) -> ColumnElement[Any]:
    if isinstance(val, Lit):
        return bind(coerce(val.value, "text", what))
    typed = typed_of(scope, val, what)
    if typed.kind != "text":
        raise fail(f"{what}: expected text, got {typed.kind}")
    return typed.expr


def is_null(scope: Scope, node: exp.Is) -> Cond:
    if not isinstance(node.expression, exp.Null):
        raise fail(f"unsupported IS test: {node.sql('mysql')}")
    target = node.this
    if isinstance(target, exp.Column):
        name = column_name(target, scope)
        if name not in SYSTEM_NAMES and name not in scope.aliases:
            column = find_column(scope, name)
            scope.used_columns.append(column)
            return Cond(scope.cells.is_empty(column), empty_of=column)
    typed = typed_of(scope, compile_expr(scope, target), node.sql("mysql"))
    return Cond(typed.expr.is_(None))


def like(scope: Scope, node: exp.Like | exp.ILike) -> Cond:
    what = node.sql("mysql")
    value = text_of(scope, compile_expr(scope, node.this), what)
    pattern = text_of(scope, compile_expr(scope, node.expression), what)
    # case-insensitive on both backends (MySQL's default, as SeaTable)
    out = func.lower(value).like(func.lower(pattern), escape="\\")
    return Cond(not_(out) if node.args.get("negate") else out)


def in_list(scope: Scope, node: exp.In) -> Cond:
    what = node.sql("mysql")
    if node.args.get("query") is not None or node.args.get("unnest") is not None:
        raise fail("subqueries are not supported")
    target = compile_expr(scope, node.this)
    if not isinstance(target, Typed):
        target = typed_of(scope, target, what)
    values = [compile_expr(scope, e) for e in node.expressions]
    if not values:
        raise fail(f"empty IN list: {what}")
    binds = [pair(scope, target, v, what)[1] for v in values]
    out = target.expr.in_(binds)
    if node.args.get("negate"):
        return Cond(not_(out))
    narrow = None
    if all(isinstance(v, Lit) for v in values):
        constants = [coerce(v.value, target.kind, what) for v in values if isinstance(v, Lit)]
        narrow = narrowing.one_of(target.column, constants)
    return Cond(out, narrow)


def function(scope: Scope, node: exp.Expression) -> Val:
    what = node.sql("mysql")
    if isinstance(node, exp.TsOrDsToDate):
        return compile_expr(scope, node.this)
    if isinstance(node, (exp.Count, exp.Sum, exp.Avg, exp.Min, exp.Max)):
        return aggregate(scope, node)
    if isinstance(node, (exp.Upper, exp.Lower, exp.Trim)):
        text = text_of(scope, compile_expr(scope, node.this), what)
        f = {exp.Upper: func.upper, exp.Lower: func.lower, exp.Trim: func.trim}[type(node)]
        return Typed(f(text), "text")
    if isinstance(node, exp.Length):
        return Typed(func.length(text_of(scope, compile_expr(scope, node.this), what)), "number")
    if isinstance(node, exp.Abs):
        return Typed(func.abs(number_of(scope, compile_expr(scope, node.this), what)), "number")
    if isinstance(node, exp.Round):
        number = number_of(scope, compile_expr(scope, node.this), what)
        digits_node = node.args.get("decimals")
        digits = compile_expr(scope, digits_node) if digits_node is not None else Lit(0)
        if not isinstance(digits, Lit) or not isinstance(digits.value, int) or not 0 <= digits.value <= 15:
            raise fail(f"ROUND takes a whole number of digits from 0 to 15: {what}")
        return Typed(func.round(cast(number, Numeric()), digits.value), "number")
    if isinstance(node, (exp.Year, exp.Month, exp.Day)):
        text = text_of(scope, compile_expr(scope, node.this), what)
        start, length = {exp.Year: (1, 4), exp.Month: (6, 2), exp.Day: (9, 2)}[type(node)]
        return Typed(cast(func.nullif(func.substr(text, start, length), ""), Integer), "number")
    if isinstance(node, (exp.Select, exp.Subquery, exp.Exists)):
        raise fail("subqueries are not supported")
    if isinstance(node, (exp.Func, exp.Anonymous)):
        name = (
            node.sql_name()
            if isinstance(node, exp.Func) and not isinstance(node, exp.Anonymous)
            else str(node.this)
        )
        raise fail(
            f"unsupported function: {name.upper()} (supported: {', '.join(SCALAR_FUNCTIONS + AGGREGATES)})"
        )
    raise fail(f"unsupported expression: {what}")


def aggregate(scope: Scope, node: exp.Expression) -> Typed:
    what = node.sql("mysql")
    if not scope.allow_aggregates:
        raise fail(f"aggregate functions are not allowed here: {what}")
    inner_scope = Scope(scope.table, scope.cells, scope.params, False, scope.aliases, scope.used_columns)
    arg = node.this
    if isinstance(node, exp.Count):
        if isinstance(arg, exp.Star):
            return Typed(func.count(), "number")
        if isinstance(arg, exp.Distinct):
            if len(arg.expressions) != 1:
                raise fail(f"COUNT(DISTINCT ...) takes one expression: {what}")
            typed = typed_of(inner_scope, compile_expr(inner_scope, arg.expressions[0]), what)
            return Typed(func.count(distinct(typed.expr)), "number")
        if isinstance(arg, exp.Column) and column_name(arg, scope) not in SYSTEM_NAMES:
            column = find_column(scope, column_name(arg, scope))
            return Typed(
                func.count(case((not_(scope.cells.is_empty(column)), literal(1)), else_=None)), "number"
            )
        typed = typed_of(inner_scope, compile_expr(inner_scope, arg), what)
        return Typed(func.count(typed.expr), "number")
    if isinstance(arg, exp.Distinct):
        raise fail(f"DISTINCT is only supported in COUNT: {what}")
    val = compile_expr(inner_scope, arg)
    if isinstance(node, (exp.Sum, exp.Avg)):
        number = number_of(inner_scope, val, what)
        f = func.sum if isinstance(node, exp.Sum) else func.avg
        return Typed(f(cast(number, Float)), "number")
    typed = typed_of(inner_scope, val, what)
    sortable = scope.cells.sortable(typed)
    return Typed(func.min(sortable) if isinstance(node, exp.Min) else func.max(sortable), typed.kind)
