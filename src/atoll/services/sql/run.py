"""Running one SQL statement: a SELECT in a read transaction, a write in one write transaction
through the row services' own functions (validation, sort keys and select options as for
every other row write)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import DBAPIError, StatementError
from sqlglot import exp

from atoll.db import rows as q
from atoll.db import schema
from atoll.db.cellsql import SYSTEM_NAMES, CellSql
from atoll.db.engine import read_tx, write_tx
from atoll.errors import InvalidInput
from atoll.models import Principal
from atoll.services import formula, links
from atoll.services import rows as row_service
from atoll.services.access import require_write
from atoll.services.cells import READ_ONLY_TYPES
from atoll.services.context import Context
from atoll.services.sql.expressions import Lit, Scope, compile_expr, fail, find_column
from atoll.services.sql.statements import (
    Item,
    check_params,
    compile_select,
    params_iter,
    parse,
    table_of,
    where_of,
)
from atoll.services.structure import TableRef
from atoll.wire.rows import cell_value, gateway_date

#: The most rows one UPDATE or DELETE may change (more matches: 400, nothing changes).
MAX_WRITE_ROWS = 10_000


@dataclass
class SqlResult:
    """Rows keyed as asked (column names or keys), the columns they show, or a write's count."""

    metadata: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    affected_rows: int | None = None


async def run_sql(
    ctx: Context, principal: Principal, *, sql: object, parameters: object = None, by_name: bool
) -> SqlResult:
    statement = parse(sql)
    params = check_params(parameters)
    if isinstance(statement, exp.Select):
        return await ctx.run_db(_select, ctx.engine, principal.dtable.uuid, statement, params, by_name)
    require_write(principal)
    result = await ctx.run_db(
        _write, ctx.engine, principal.dtable.uuid, statement, params, row_service.actor(principal),
        ctx.settings.max_rows_per_batch,
    )  # fmt: skip
    if not isinstance(statement, exp.Update):  # rows added or removed: the planner's statistics
        ctx.planner_stats.wrote(result.affected_rows or 0)
    return result


def _db_failure() -> InvalidInput:
    """The database refused a query the compiler let through: a 400, never a 500."""
    return InvalidInput("the query can not be evaluated on the stored data")


# ---- SELECT --------------------------------------------------------------------------------


def _select(
    engine: Engine, dtable_uuid: str, statement: exp.Select, params: list[Any], by_name: bool
) -> SqlResult:
    with read_tx(engine) as conn:
        doc = q.load_doc(conn, dtable_uuid).doc
        plan = compile_select(statement, doc, dtable_uuid, CellSql(conn.dialect.name),
                              params_iter(statement, params), conn)  # fmt: skip
        try:
            found = list(conn.execute(plan.query).mappings())
        except (DBAPIError, StatementError):
            raise _db_failure() from None
        rows = [None if plan.grouped else q.row_of(m) for m in found]
        links.fill_cells(conn, dtable_uuid, doc, plan.table, [r for r in rows if r is not None])
    columns = plan.table["columns"]
    formula.plan(plan.table).fill_volatile([r for r in rows if r is not None])
    out = []
    for m, row in zip(found, rows, strict=True):
        record: dict[str, Any] = {}
        for item in plan.items:
            _render(record, item, m, row, columns, by_name)
        out.append(record)
    return SqlResult(metadata=plan.metadata, results=out)


def _render(record: dict[str, Any], item: Item, m: Any, row: q.StoredRow | None,
            columns: list[dict[str, Any]], by_name: bool) -> None:  # fmt: skip
    key = item.name if by_name else item.key
    if item.label is not None:
        record[key] = _computed(m[item.label], item)
        return
    assert row is not None
    if item.system is not None:
        record[key] = getattr(row, SYSTEM_NAMES[item.system])
    elif item.column is not None:
        record[key] = cell_value(item.column, row, gateway=True)
    elif item.star:
        record.update({
            "_id": row.row_id, "_ctime": row.ctime, "_mtime": row.mtime, "_creator": row.creator,
            "_last_modifier": row.last_modifier, "_archived": False, "_locked": None, "_locked_by": None,
        })  # fmt: skip
        for column in columns:
            record[column["name"] if by_name else column["key"]] = cell_value(column, row, gateway=True)


def _computed(value: Any, item: Item) -> Any:
    if value is None:
        return None
    if item.kind == "bool":
        return bool(value)
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
        return int(value)  # as SeaTable (Go) prints whole floats
    if item.date:
        return gateway_date(value)
    return value


# ---- UPDATE, DELETE, INSERT ------------------------------------------------------------------


def _write(engine: Engine, dtable_uuid: str, statement: exp.Expression, params: list[Any], by: str,
           max_batch: int) -> SqlResult:  # fmt: skip
    values = params_iter(statement, params)
    with write_tx(engine) as conn:
        doc = q.lock_doc(conn, dtable_uuid).doc
        table = table_of(doc, statement.this)
        cells = CellSql(conn.dialect.name)
        ref = TableRef(table_id=table["_id"])
        try:
            if isinstance(statement, exp.Insert):
                rows = _insert_rows(statement, table, cells, values)
                if len(rows) > max_batch:
                    raise fail(f"INSERT: at most {max_batch} rows per statement")
                return SqlResult(affected_rows=len(row_service.append_in(conn, dtable_uuid, ref, rows, by)))
            if isinstance(statement, exp.Update):
                changes = _set_clause(statement, table, cells, values)
                ids = _matching_ids(conn, dtable_uuid, statement, table, cells, values)
                if not ids:
                    return SqlResult(affected_rows=0)
                items = [{"row_id": i, "row": dict(changes)} for i in ids]
                return SqlResult(affected_rows=row_service.update_in(conn, dtable_uuid, ref, items, by))
            assert isinstance(statement, exp.Delete)
            ids = _matching_ids(conn, dtable_uuid, statement, table, cells, values)
            return SqlResult(affected_rows=row_service.delete_in(conn, dtable_uuid, table, ids))
        except (DBAPIError, StatementError):
            raise _db_failure() from None


def _matching_ids(conn: Connection, dtable_uuid: str, statement: exp.Update | exp.Delete,
                  table: dict[str, Any], cells: CellSql, values: Any) -> list[str]:  # fmt: skip
    for key, value in statement.args.items():
        if value not in (None, [], False) and key not in ("this", "expressions", "where"):
            raise fail(f"unsupported clause in {statement.key.upper()}: {key.upper()}")
    _, where = where_of(statement, table, cells, values, conn, dtable_uuid)
    r = schema.rows
    query = (
        select(r.c.row_id)
        .where(*where)
        .order_by(r.c.seq, r.c.row_id)
        .limit(MAX_WRITE_ROWS + 1)
    )
    ids = list(conn.execute(query).scalars())
    if len(ids) > MAX_WRITE_ROWS:
        raise fail(f"{statement.key.upper()} would change more than {MAX_WRITE_ROWS} rows: narrow the WHERE")
    return ids


def _writable(scope: Scope, name: str) -> dict[str, Any]:
    if name in SYSTEM_NAMES:
        raise fail(f"column {name} is read-only")
    column = find_column(scope, name)
    if column.get("type") in READ_ONLY_TYPES:
        raise fail(f"column {name} ({column.get('type')}) is read-only")
    return column


def _constant(scope: Scope, node: exp.Expression, what: str) -> Any:
    val = compile_expr(scope, node)
    if not isinstance(val, Lit):
        raise fail(f"{what}: values must be constants or ? parameters")
    return val.value


def _set_clause(statement: exp.Update, table: dict[str, Any], cells: CellSql, values: Any) -> dict[str, Any]:
    scope = Scope(table, cells, values)
    changes: dict[str, Any] = {}
    for node in statement.expressions:
        if not isinstance(node, exp.EQ) or not isinstance(node.this, exp.Column):
            raise fail(f"SET expects column = value: {node.sql('mysql')}")
        column = _writable(scope, str(node.this.name))
        changes[column["name"]] = _constant(scope, node.expression, "SET")
    if not changes:
        raise fail("UPDATE needs SET column = value")
    return changes


def _insert_rows(statement: exp.Insert, table: dict[str, Any], cells: CellSql, values: Any) -> list[Any]:
    scope = Scope(table, cells, values)
    target = statement.this
    if not isinstance(target, exp.Schema) or not target.expressions:
        raise fail("INSERT needs a column list: INSERT INTO t (a, b) VALUES (...)")
    names = [_writable(scope, str(i.name))["name"] for i in target.expressions]
    source = statement.expression
    if not isinstance(source, exp.Values):
        raise fail("INSERT takes VALUES (...)")
    rows = []
    for tuple_ in source.expressions:
        parts = tuple_.expressions if isinstance(tuple_, exp.Tuple) else [tuple_]
        if len(parts) != len(names):
            raise fail(f"INSERT: {len(names)} columns but {len(parts)} values")
        rows.append({n: _constant(scope, p, "VALUES") for n, p in zip(names, parts, strict=True)})
    return rows
