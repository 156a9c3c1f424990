"""Parsing one SeaTable SQL statement (sqlglot, MySQL dialect: backtick-quoted names) and
compiling a SELECT into one SQLAlchemy query over ``rows``.

Non-grouped SELECTs read the matching stored rows (the database filters, sorts and pages) and
render the selected columns as the gateway renders cells; expressions are computed by the
database next to them. Grouped SELECTs (GROUP BY or an aggregate) are computed entirely by the
database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlalchemy import ColumnElement, Connection, Select, literal_column, select
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from atoll.db import schema
from atoll.db.cellsql import SYSTEM_NAMES, CellSql, Typed
from atoll.services.sql import narrowing
from atoll.services.sql.expressions import (
    Cond,
    Lit,
    Scope,
    column_name,
    compile_expr,
    condition,
    fail,
    find_column,
    typed_of,
)

#: Rows a SELECT returns without LIMIT (SeaTable's default).
DEFAULT_LIMIT = 100
#: The most rows a SELECT returns (a larger LIMIT is lowered to it, as SeaTable does).
MAX_LIMIT = 10_000
#: The largest LIMIT or OFFSET accepted (the backends bind 64-bit integers).
MAX_OFFSET = 2**62
#: The longest SQL text accepted, in characters.
MAX_SQL_CHARS = 100_000
#: The most ``?`` parameters one statement may have.
MAX_PARAMETERS = 10_000

_SELECT_ARGS = {"expressions", "from", "from_", "where", "group", "having", "order", "limit", "offset"}


def parse(sql: object) -> exp.Expression:
    """One statement (SELECT, UPDATE, DELETE or INSERT), else a 400 naming the problem."""
    if not isinstance(sql, str) or not sql.strip():
        raise fail("sql invalid: expected a SQL statement")
    if len(sql) > MAX_SQL_CHARS:
        raise fail(f"sql too long: at most {MAX_SQL_CHARS} characters")
    if "\x00" in sql:
        raise fail("sql invalid: NUL character")
    try:
        parsed = [s for s in sqlglot.parse(sql, read="mysql") if s is not None]
    except (ParseError, TokenError) as exc:
        raise fail(f"SQL syntax error: {_first_line(str(exc))}") from None
    except Exception:
        raise fail("SQL syntax error") from None
    if len(parsed) != 1:
        raise fail("exactly one SQL statement per request")
    statement = parsed[0]
    if not isinstance(statement, (exp.Select, exp.Update, exp.Delete, exp.Insert)):
        raise fail("SQL syntax error or unsupported statement: expected SELECT, UPDATE, DELETE or INSERT")
    return statement


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else "invalid SQL"


def check_params(parameters: object) -> list[Any]:
    if parameters is None:
        return []
    if not isinstance(parameters, list):
        raise fail("parameters invalid: expected a list")
    if len(parameters) > MAX_PARAMETERS:
        raise fail(f"parameters: at most {MAX_PARAMETERS}")
    return parameters


def count_placeholders(statement: exp.Expression) -> int:
    return sum(1 for _ in statement.find_all(exp.Placeholder))


def params_iter(statement: exp.Expression, parameters: list[Any]) -> Iterator[Any]:
    wanted = count_placeholders(statement)
    if wanted != len(parameters):
        raise fail(f"the query has {wanted} ? placeholders but {len(parameters)} parameters were given")
    return iter(parameters)


def table_of(doc: dict[str, Any], node: exp.Expression | None) -> dict[str, Any]:
    if isinstance(node, exp.Schema):
        node = node.this
    if not isinstance(node, exp.Table) or node.args.get("db") or node.args.get("catalog"):
        raise fail("expected one table name")
    name = str(node.name)
    tables: list[dict[str, Any]] = doc.get("tables") or []
    for table in tables:
        if table["name"] == name:
            return table
    raise fail(f"no such table: {name}")


@dataclass
class Item:
    """One output key of a SELECT."""

    name: str  # key with convert_keys (the column's name, the alias or the expression)
    key: str  # key without
    column: dict[str, Any] | None = None  # a table column rendered from the stored row
    system: str | None = None  # _id, _ctime...
    star: bool = False
    label: str | None = None  # a value the database computes
    kind: str = "text"
    date: bool = False  # render as the gateway renders dates


@dataclass
class SelectPlan:
    table: dict[str, Any]
    query: Select[Any]
    items: list[Item]
    grouped: bool
    metadata: list[dict[str, Any]] = field(default_factory=list)


def _has_aggregate(node: exp.Expression) -> bool:
    return any(True for _ in node.find_all(exp.Count, exp.Sum, exp.Avg, exp.Min, exp.Max))


def _int_clause(scope: Scope, node: exp.Expression | None, what: str) -> int | None:
    if node is None:
        return None
    val = compile_expr(scope, node.expression if isinstance(node, (exp.Limit, exp.Offset)) else node)
    if (
        not isinstance(val, Lit)
        or isinstance(val.value, bool)
        or not isinstance(val.value, int)
        or val.value < 0
    ):
        raise fail(f"{what} must be a whole number >= 0")
    if val.value > MAX_OFFSET:
        raise fail(f"{what} must be at most {MAX_OFFSET}")
    return int(val.value)


def compile_select(statement: exp.Select, doc: dict[str, Any], dtable_uuid: str, cells: CellSql,
                   params: Iterator[Any], conn: Connection) -> SelectPlan:  # fmt: skip
    """The query of a SELECT; ``conn`` (the transaction it will run in) reads the candidates of
    a WHERE the cells' sort keys can narrow (``services.sql.narrowing``)."""
    if statement.args.get("joins"):
        raise fail("JOIN is not supported")
    for key, value in statement.args.items():
        if value not in (None, [], False) and key not in _SELECT_ARGS:
            raise fail(f"unsupported clause: {key.upper()}")
    from_ = statement.args.get("from") or statement.args.get("from_")
    if from_ is None:
        raise fail("SELECT needs FROM <table>")
    if from_.expressions:
        raise fail("JOIN is not supported")
    table = table_of(doc, from_.this)
    scope = Scope(table, cells, params)
    grouped = bool(statement.args.get("group")) or any(_has_aggregate(e) for e in statement.expressions)
    grouped = grouped or bool(statement.args.get("having"))

    # the SELECT list (first: aliases may be used by ORDER BY, GROUP BY and HAVING)
    items: list[Item] = []
    # select items by their text and alias: GROUP BY and ORDER BY name them by label, so that the
    # database sees one expression (PostgreSQL compares bound parameters by position)
    labels: dict[str, Typed] = {}
    computed: list[ColumnElement[Any]] = []
    metadata: list[dict[str, Any]] = []
    if not grouped:
        items.append(Item("_id", "_id", system="_id"))
    scope.allow_aggregates = True
    for position, node in enumerate(statement.expressions):
        alias = None
        if isinstance(node, exp.Alias):
            alias, node = str(node.alias), node.this
        if isinstance(node, exp.Star):
            if grouped:
                raise fail("SELECT * can not be grouped")
            items.append(Item("*", "*", star=True))
            metadata.extend(table["columns"])
            continue
        if isinstance(node, exp.Column) and not grouped:
            name = column_name(node, scope)
            if name in SYSTEM_NAMES:
                items.append(Item(alias or name, alias or name, system=name))
                continue
            column = find_column(scope, name, shown=True)
            items.append(Item(alias or column["name"], alias or column["key"], column=column))
            metadata.append(column)
            continue
        text = node.sql("mysql", identify=False)
        typed = typed_of(scope, compile_expr(scope, node), text)
        label = f"c{position}"
        computed.append(
            scope.cells.sortable(typed).label(label) if typed.kind == "text" else typed.expr.label(label)
        )
        shown: dict[str, Any] | None = None
        if isinstance(node, exp.Column) and column_name(node, scope) not in SYSTEM_NAMES:
            shown = find_column(scope, column_name(node, scope))
            metadata.append(shown)
        key = alias or (shown["key"] if shown else text)
        name = alias or (shown["name"] if shown else text)
        is_date = bool(shown and shown.get("type") == "date")
        items.append(Item(name, key, label=label, kind=typed.kind, date=is_date))
        by_label = Typed(literal_column(label), typed.kind)
        labels[text] = by_label
        if alias:
            scope.aliases[alias] = by_label
            labels[alias] = by_label
    scope.allow_aggregates = False

    r = schema.rows
    query: Select[Any]
    if grouped:
        query = select(*computed)
    else:
        query = select(r.c.row_id, r.c.table_id, r.c.seq, r.c.ctime, r.c.mtime, r.c.creator,
                       r.c.last_modifier, r.c.data, *computed)  # fmt: skip
    where = statement.args.get("where")
    narrow = None
    if where is not None:
        val = compile_expr(scope, where.this)
        query = query.where(condition(scope, val, "WHERE"))
        narrow = val.narrow if isinstance(val, Cond) else None
    group = statement.args.get("group")
    if group is not None:
        for node in group.expressions:
            if isinstance(node, exp.Literal):
                raise fail("GROUP BY <position> is not supported: name the column")
            query = query.group_by(_labelled(scope, labels, node, "GROUP BY").expr)
        grouped_names = {column_name(n, scope) for n in group.expressions if isinstance(n, exp.Column)}
        for node in statement.expressions:
            inner = node.this if isinstance(node, exp.Alias) else node
            if isinstance(inner, exp.Column) and column_name(inner, scope) not in grouped_names:
                raise fail(f"column {column_name(inner, scope)} must appear in GROUP BY or in an aggregate")
    having = statement.args.get("having")
    if having is not None:
        scope.allow_aggregates = True
        query = query.having(condition(scope, compile_expr(scope, having.this), "HAVING"))
    order = statement.args.get("order")
    if order is not None:
        scope.allow_aggregates = grouped
        for node in order.expressions:
            if isinstance(node.this, exp.Literal):
                raise fail("ORDER BY <position> is not supported: name the column")
            typed = _labelled(scope, labels if grouped else {}, node.this, "ORDER BY")
            sortable: Any = typed.expr if grouped else scope.cells.sortable(typed)
            # NULLs sort as the smallest value on both backends (MySQL's order)
            sortable = sortable.desc().nulls_last() if node.args.get("desc") else sortable.asc().nulls_first()
            query = query.order_by(sortable)
    if not grouped:
        query = query.order_by(r.c.seq, r.c.row_id)
    limit = _int_clause(scope, statement.args.get("limit"), "LIMIT")
    offset = _int_clause(scope, statement.args.get("offset"), "OFFSET")
    query = query.limit(min(limit if limit is not None else DEFAULT_LIMIT, MAX_LIMIT))
    if offset:
        query = query.offset(offset)
    # a page in table order stops when it is full; sorted or grouped queries evaluate every match
    page = None if grouped or order is not None else min(limit if limit is not None else DEFAULT_LIMIT,
                                                          MAX_LIMIT) + (offset or 0)  # fmt: skip
    query = query.where(*narrowing.table_where(conn, narrow, dtable_uuid, table["_id"], page=page))
    unique = list({c["key"]: c for c in metadata}.values())
    return SelectPlan(table, query, items, grouped, unique)


def _labelled(scope: Scope, labels: dict[str, Typed], node: exp.Expression, what: str) -> Typed:
    text = node.sql("mysql", identify=False)
    if text in labels:
        return labels[text]
    typed = typed_of(scope, compile_expr(scope, node), what)
    return Typed(scope.cells.sortable(typed), typed.kind)


def where_of(statement: exp.Update | exp.Delete, table: dict[str, Any], cells: CellSql, params: Iterator[Any],
             conn: Connection, dtable_uuid: str) -> tuple[Scope, list[ColumnElement[bool]]]:  # fmt: skip
    """The WHERE of an UPDATE or DELETE and the conditions picking the table's rows (narrowed
    through the keys when they can serve it; the WHERE still decides)."""
    where = statement.args.get("where")
    if where is None:
        raise fail(f"{statement.key.upper()} needs a WHERE clause")
    scope = Scope(table, cells, params)
    val = compile_expr(scope, where.this)
    narrow = val.narrow if isinstance(val, Cond) else None
    rows = narrowing.table_where(conn, narrow, dtable_uuid, table["_id"], page=None)
    return scope, [condition(scope, val, "WHERE"), *rows]
