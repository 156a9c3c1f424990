"""Use cases on rows: list, get, append, update, delete, filter.

Each is ``async def op(ctx, principal, ref, ...)``: writes check the principal may write, and
the blocking work runs in a worker thread (the private sync function of the same name).

Writes validate the **whole** request (every row, every cell; see ``services.cells``) before
anything is written, and run in one write transaction: a request is applied entirely or not at
all. Select options that a write names but the column lacks are created, as SeaTable does; that
changes the base document, whose version then goes up.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy import Connection, Engine, and_

from atoll.db import rowkeys as kq
from atoll.db import rows as q
from atoll.db.cellsql import CellSql
from atoll.db.engine import read_tx, write_tx
from atoll.errors import InvalidInput, NotFound
from atoll.models import Principal
from atoll.services import asset_refs, autonumber, events, formula, links, rowkeys, views
from atoll.services.access import require_write
from atoll.services.cells import Columns, RowValues, normalize_row
from atoll.services.context import Context
from atoll.services.sql.viewfilters import filters_condition, find_filter_column
from atoll.services.structure import TableRef, find_table, find_view
from atoll.timeutil import iso_ms, utcnow
from atoll.wire.rows import ROW_NOT_FOUND

#: The rows table holds ids of at most this many characters; a longer string names no row.
MAX_ROW_ID_CHARS = 22
ACTOR_DOMAIN = "auth.local"


@dataclass(frozen=True)
class RowPage:
    columns: list[dict[str, Any]]
    rows: list[q.StoredRow]


def new_row_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


def could_be_row_id(value: Any) -> bool:
    """Whether ``value`` can name a stored row at all. Anything else names no row and never
    reaches the database (PostgreSQL refuses NUL in text parameters)."""
    return isinstance(value, str) and 0 < len(value) <= MAX_ROW_ID_CHARS and "\x00" not in value


def actor(principal: Principal) -> str:
    """``<32 hex>@auth.local``: stable per base and app, like SeaTable's app users."""
    return app_actor(principal.dtable.uuid, principal.app_name)


def app_actor(dtable_uuid: str, app_name: str) -> str:
    digest = hashlib.sha256(f"{dtable_uuid}\0{app_name}".encode()).hexdigest()
    return f"{digest[:32]}@{ACTOR_DOMAIN}"


# ---- reading -------------------------------------------------------------------------------


async def list_rows(
    ctx: Context,
    principal: Principal,
    ref: TableRef,
    *,
    view_name: object = None,
    order_by: object = None,
    direction: object = None,
    start: int = 0,
    limit: int,
) -> RowPage:
    """A page of rows in table order, or sorted by ``order_by`` (a column name or key).

    With a view: the view's rows (its filters), in its sort order (after ``order_by``), without
    its hidden columns (``services.views``).
    """
    return await ctx.run_db(
        _list_rows, ctx.engine, principal.dtable.uuid, ref, view_name, order_by, direction, start, limit
    )


def _list_rows(
    engine: Engine,
    dtable_uuid: str,
    ref: TableRef,
    view_name: object,
    order_by: object,
    direction: object,
    start: int,
    limit: int,
) -> RowPage:
    if direction not in (None, "", "asc", "desc"):
        raise InvalidInput("direction invalid: expected asc or desc.")
    if start < 0 or limit <= 0:
        raise InvalidInput("start/limit invalid.")
    with read_tx(engine) as conn:
        doc = q.load_doc(conn, dtable_uuid).doc
        table = find_table(doc, ref)
        view = find_view(table, view_name) if view_name else None
        columns: list[dict[str, Any]] = views.visible_columns(table, view)
        column = Columns(table["columns"]).find(order_by) if order_by else None
        if order_by and column is None:
            raise InvalidInput(f"order_by invalid: column {order_by} not found.")
        if column is not None and formula.is_volatile(table, column):
            raise InvalidInput(
                f"order_by invalid: column {column['name']} is computed when read (today/now)."
            )
        if view is not None and views.shapes_rows(view):
            page = views.view_page(conn, dtable_uuid, table, view, order_by=column,
                                   descending=direction == "desc", start=start, limit=limit)  # fmt: skip
        elif column is None:
            page = q.page_rows(conn, dtable_uuid, table["_id"], start, limit)
        else:
            page = kq.sorted_page(
                conn,
                dtable_uuid,
                table["_id"],
                column["key"],
                descending=direction == "desc",
                offset=start,
                limit=limit,
            )
        links.fill_cells(conn, dtable_uuid, doc, table, page)
    return _computed(table, page, columns)


def _computed(
    table: dict[str, Any], rows: list[q.StoredRow], columns: list[dict[str, Any]] | None = None
) -> RowPage:
    """A page of rows with their clock-dependent formula cells filled in, shown with ``columns``
    (a view's visible ones; the table's by default)."""
    formula.plan(table).fill_volatile(rows)
    return RowPage(table["columns"] if columns is None else columns, rows)


async def get_row(ctx: Context, principal: Principal, ref: TableRef, *, row_id: str) -> RowPage:
    """One row by id (404 when there is none)."""
    return await ctx.run_db(_get_row, ctx.engine, principal.dtable.uuid, ref, row_id)


def _get_row(engine: Engine, dtable_uuid: str, ref: TableRef, row_id: str) -> RowPage:
    with read_tx(engine) as conn:
        doc = q.load_doc(conn, dtable_uuid).doc
        table = find_table(doc, ref)
        row = q.get_row(conn, dtable_uuid, table["_id"], row_id) if could_be_row_id(row_id) else None
        links.fill_cells(conn, dtable_uuid, doc, table, [row] if row else [])
    if row is None:
        raise NotFound(ROW_NOT_FOUND)
    return _computed(table, [row])


async def filter_rows(
    ctx: Context,
    principal: Principal,
    ref: TableRef,
    *,
    filters: object,
    conjunction: object = "And",
    view_name: object = None,
    limit: int,
) -> RowPage:
    """Rows matching ``filters`` (``[{column_name, filter_predicate, filter_term}]``), at most
    ``limit``, in table order. The filters are a view's (``services.sql.viewfilters``: the same
    predicates per column type, evaluated by the database), AND-ed with the view's own."""
    return await ctx.run_db(
        _filter_rows, ctx.engine, principal.dtable.uuid, ref, filters, conjunction, view_name, limit
    )


def _filter_rows(
    engine: Engine,
    dtable_uuid: str,
    ref: TableRef,
    filters: object,
    conjunction: object,
    view_name: object,
    limit: int,
) -> RowPage:
    if conjunction not in ("And", "Or"):
        raise InvalidInput("filter_conjunction invalid.")
    if not isinstance(filters, list) or not all(isinstance(f, dict) for f in filters):
        raise InvalidInput("filters invalid.")
    with read_tx(engine) as conn:
        doc = q.load_doc(conn, dtable_uuid).doc
        table = find_table(doc, ref)
        view = find_view(table, view_name) if view_name else None
        columns = Columns(table["columns"])
        for spec in filters:
            column = find_filter_column(columns, spec)
            if formula.is_volatile(table, column):
                raise InvalidInput(
                    f"filters invalid: column {column['name']} is computed when read (today/now)."
                )
        condition = filters_condition(CellSql(conn.dialect.name), columns, filters, conjunction)
        in_view = views.view_condition(conn, table, view) if view is not None else None
        if in_view is not None:
            condition = in_view if condition is None else and_(in_view, condition)
        found = rowkeys.matching(conn, dtable_uuid, table["_id"], columns, filters, condition,
                                 any_of=conjunction == "Or")  # fmt: skip
        out = list(islice(found, limit))
        links.fill_cells(conn, dtable_uuid, doc, table, out)
    return _computed(table, out, views.visible_columns(table, view))


# ---- writing -------------------------------------------------------------------------------


def _check_batch(items: Any, what: str, max_batch: int) -> list[Any]:
    if not isinstance(items, list) or not items:
        raise InvalidInput(f"{what} invalid: expected a non-empty list.")
    if len(items) > max_batch:
        raise InvalidInput(f"{what}: at most {max_batch} rows per request.")
    return items


def _normalize_all(table: dict[str, Any], rows: Sequence[Any], what: str) -> tuple[list[RowValues], bool]:
    links.refuse_link_cells(table, rows, what)
    columns = Columns(table["columns"])
    values = [normalize_row(columns, row, f"{what}[{i}]") for i, row in enumerate(rows)]
    return values, any(v.options_added for v in values)


async def append_rows(
    ctx: Context, principal: Principal, ref: TableRef, *, rows: object, anchor_row_id: object = None
) -> list[q.StoredRow]:
    """Insert rows at the end, or right after ``anchor_row_id`` (v1 insert_row)."""
    require_write(principal)
    made = await ctx.run_db(
        _append_rows, ctx.engine, principal.dtable.uuid, ref, rows, actor(principal),
        ctx.settings.max_rows_per_batch, anchor_row_id,
    )  # fmt: skip
    ctx.planner_stats.wrote(len(made))
    return made


def _append_rows(
    engine: Engine,
    dtable_uuid: str,
    ref: TableRef,
    rows: object,
    by: str,
    max_batch: int,
    anchor_row_id: object,
) -> list[q.StoredRow]:
    items = _check_batch(rows, "rows", max_batch)
    with write_tx(engine) as conn:
        return append_in(conn, dtable_uuid, ref, items, by, anchor_row_id)


def append_in(
    conn: Connection, dtable_uuid: str, ref: TableRef, items: list[Any], by: str, anchor_row_id: object = None
) -> list[q.StoredRow]:
    """``append_rows`` inside the caller's write transaction (upload-and-attach uses it)."""
    now = iso_ms(utcnow())
    stored = q.lock_doc(conn, dtable_uuid)
    table = find_table(stored.doc, ref)
    options_before = rowkeys.option_ids(table)
    values, options_added = _normalize_all(table, items, "rows")
    if options_added:
        rowkeys.refresh_new_options(conn, dtable_uuid, table, options_before)
    seqs = _new_seqs(conn, dtable_uuid, table["_id"], len(items), anchor_row_id)
    datas = [{k: v for k, v in value.cells.items() if v is not None} for value in values]
    numbered = autonumber.assign(table, datas)
    formulas = formula.plan(table)
    for data in datas:
        formulas.apply(data)
    made = [
        q.StoredRow(
            row_id=new_row_id(),
            table_id=table["_id"],
            seq=seq,
            ctime=now,
            mtime=now,
            creator=by,
            last_modifier=by,
            data=data,
        )
        for data, seq in zip(datas, seqs, strict=True)
    ]
    q.insert_rows(conn, dtable_uuid, made)
    q.insert_keys(conn, dtable_uuid, table["_id"], rowkeys.row_keys(table["columns"], made))
    asset_refs.rows_added(conn, dtable_uuid, table, made)
    _save_if(conn, dtable_uuid, stored, options_added or numbered)
    events.rows_appended(conn, dtable_uuid, table["_id"], made, anchor_row_id)  # live updates
    formulas.fill_volatile(made)
    return made


def _new_seqs(conn: Connection, dtable_uuid: str, table_id: str, count: int, anchor: Any) -> list[int]:
    anchor_row = q.get_row(conn, dtable_uuid, table_id, anchor) if could_be_row_id(anchor) else None
    if anchor_row is not None:
        after = q.next_seq_after(conn, dtable_uuid, table_id, anchor_row.seq)
        if after is not None and after - anchor_row.seq <= count:
            q.renumber(conn, dtable_uuid, table_id)
            anchor_row = q.get_row(conn, dtable_uuid, table_id, anchor_row.row_id)
            assert anchor_row is not None
            after = q.next_seq_after(conn, dtable_uuid, table_id, anchor_row.seq)
        if after is not None:
            gap = (after - anchor_row.seq) // (count + 1)
            return [anchor_row.seq + gap * (i + 1) for i in range(count)]
    last = q.max_seq(conn, dtable_uuid, table_id)
    return [last + q.SEQ_STEP * (i + 1) for i in range(count)]


async def update_rows(ctx: Context, principal: Principal, ref: TableRef, *, updates: object) -> int:
    """Apply ``[{row_id, row}]``: given cells change, ``null`` clears, others stay.

    An unknown ``row_id`` fails the whole request (404) and nothing is written.
    """
    require_write(principal)
    return await ctx.run_db(
        _update_rows, ctx.engine, principal.dtable.uuid, ref, updates, actor(principal),
        ctx.settings.max_rows_per_batch,
    )  # fmt: skip


def _update_rows(
    engine: Engine, dtable_uuid: str, ref: TableRef, updates: object, by: str, max_batch: int
) -> int:
    items = _check_batch(updates, "updates", max_batch)
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("row_id"), str):
            raise InvalidInput(f"updates[{i}] invalid: expected {{row_id, row}}.")
    with write_tx(engine) as conn:
        return update_in(conn, dtable_uuid, ref, items, by)


def update_in(conn: Connection, dtable_uuid: str, ref: TableRef, items: list[dict[str, Any]], by: str) -> int:
    """``update_rows`` inside the caller's write transaction (upload-and-attach uses it)."""
    now = iso_ms(utcnow())
    stored = q.lock_doc(conn, dtable_uuid)
    table = find_table(stored.doc, ref)
    options_before = rowkeys.option_ids(table)
    values, options_added = _normalize_all(table, [item.get("row") for item in items], "updates")
    if options_added:
        rowkeys.refresh_new_options(conn, dtable_uuid, table, options_before)
    wanted = [item["row_id"] for item in items if could_be_row_id(item["row_id"])]
    found = q.get_rows(conn, dtable_uuid, table["_id"], wanted)
    for item in items:
        if item["row_id"] not in found:
            raise NotFound(f"row {item['row_id']} not found")
    changed: dict[str, q.StoredRow] = {}
    formulas = formula.plan(table)
    for item, value in zip(items, values, strict=True):
        row = changed.get(item["row_id"]) or found[item["row_id"]]
        data = dict(row.data)
        for key, cell in value.cells.items():
            if cell is None:
                data.pop(key, None)
            else:
                data[key] = cell
        formulas.apply(data)
        changed[row.row_id] = q.StoredRow(
            row.row_id, row.table_id, row.seq, row.ctime, now, row.creator, by, data
        )
    q.update_rows(conn, dtable_uuid, list(changed.values()))
    rowkeys.put_rows(conn, dtable_uuid, table, list(changed.values()))
    asset_refs.rows_changed(conn, dtable_uuid, table, list(changed.values()))
    _save_if(conn, dtable_uuid, stored, options_added)
    events.rows_updated(conn, dtable_uuid, table["_id"],  # live updates
                        [(item["row_id"], value.cells) for item, value in zip(items, values, strict=True)])
    return len(changed)


async def delete_rows(ctx: Context, principal: Principal, ref: TableRef, *, row_ids: object) -> int:
    """Delete rows by id; ids that do not exist are skipped. Returns how many went."""
    require_write(principal)
    deleted = await ctx.run_db(
        _delete_rows, ctx.engine, principal.dtable.uuid, ref, row_ids, ctx.settings.max_rows_per_batch
    )
    ctx.planner_stats.wrote(deleted)
    return deleted


def _delete_rows(engine: Engine, dtable_uuid: str, ref: TableRef, row_ids: object, max_batch: int) -> int:
    ids = _check_batch(row_ids, "row_ids", max_batch)
    if not all(isinstance(i, str) for i in ids):
        raise InvalidInput("row_ids invalid: expected a list of strings.")
    with write_tx(engine) as conn:
        table = find_table(q.lock_doc(conn, dtable_uuid).doc, ref)
        return delete_in(conn, dtable_uuid, table, [i for i in ids if could_be_row_id(i)])


def delete_in(conn: Connection, dtable_uuid: str, table: dict[str, Any], row_ids: list[str]) -> int:
    """Delete rows of ``table`` with their links, in the caller's write transaction (the base's
    document locked), and tell live listeners. Returns how many rows were deleted."""
    links.rows_deleted(conn, dtable_uuid, table, row_ids)
    deleted = q.delete_rows(conn, dtable_uuid, table["_id"], row_ids)
    events.rows_deleted(conn, dtable_uuid, table["_id"], row_ids, deleted)  # live updates
    return deleted


def _save_if(conn: Connection, dtable_uuid: str, stored: q.StoredDoc, changed: bool) -> None:
    if changed:
        stored.version += 1
        q.save_doc(conn, dtable_uuid, stored)
