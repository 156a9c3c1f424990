"""Links between rows: link columns and their mirrors, the links API, and link cells on read.

A link column on table T linking to table O has ``data`` with a base-unique ``link_id``,
``table_id`` T and ``other_table_id`` O; creating it creates the mirror column in O (same
``link_id``, ids swapped). A table linked to itself gets one column, whose cells show the rows
linked in either direction. Pairs live in ``row_links`` (``db.links``), kept in step with rows,
tables and columns in the same transactions (hooks called from services.rows, .tables, .columns).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine

from atoll.db import links as lq
from atoll.db import rows as q
from atoll.db.engine import read_tx, write_tx
from atoll.errors import InvalidInput, NotFound
from atoll.models import Principal
from atoll.services import events
from atoll.services.access import require_write
from atoll.services.context import Context
from atoll.services.structure import TableRef, find_table, new_id
from atoll.wire import rowlinks as w
from atoll.wire.rows import cell_value

#: Entries a link cell shows in list/get rows (SeaTable >= 5.3: 50).
MAX_LINKS_PER_CELL = 50
#: Linked pairs one links request may name.
MAX_LINK_PAIRS_PER_REQUEST = 10_000
#: get_linked_records: rows per request, default and largest ``limit`` per row.
MAX_LINKED_RECORD_ROWS = 1000
LINKED_RECORDS_DEFAULT_LIMIT = 10
LINKED_RECORDS_MAX_LIMIT = 1000
LINK = "link"
#: Longest row id (``rows.row_id``); a longer string names no row.
MAX_ROW_ID_CHARS = 22


# ---- link columns (hooks inside the structure document's write transaction) ----------------


def _all_link_ids(doc: dict[str, Any]) -> set[str]:
    return {
        str(c["data"].get("link_id"))
        for t in doc.get("tables", [])
        for c in t["columns"]
        if c.get("type") == LINK and isinstance(c.get("data"), dict)
    }


def _link_data(link_id: str, table: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    display = other["columns"][0] if other["columns"] else {"key": "0000", "type": "text", "data": None}
    return {
        "display_column_key": display["key"],
        "is_internal": True,
        "link_id": link_id,
        "table_id": table["_id"],
        "other_table_id": other["_id"],
        "is_multiple": True,
        "is_row_from_view": False,
        "is_private": False,
        "view_id": "",
        "array_type": display.get("type", "text"),
        "array_data": display.get("data"),
        "result_type": "array",
    }


def _mirror_name(table_name: str, other: dict[str, Any]) -> str:
    """The mirror column is named after the linking table; ``<name>2``, ``<name>3``... if taken."""
    taken = {c["name"] for c in other["columns"]}
    name, n = table_name, 1
    while name in taken:
        n += 1
        name = f"{table_name}{n}"
    return name


def setup_link_column(
    doc: dict[str, Any], table: dict[str, Any], column: dict[str, Any], given: Any, *, max_columns: int
) -> None:
    """Give a new link column (already in ``table``) its data from the client's
    ``column_data`` (``{table, other_table}`` by name or id, or ``other_table_id``) and create
    its mirror in the other table. Raises InvalidInput when the other table is not named."""
    given = given if isinstance(given, dict) else {}
    ref = given.get("other_table_id") or given.get("other_table")
    if not isinstance(ref, str) or not ref:
        raise InvalidInput(
            "column_data invalid: a link column needs the table to link to, "
            "e.g. column_data={'table': 'Table1', 'other_table': 'Table2'}."
        )
    named = given.get("table")
    if named is not None and named not in (table["name"], table["_id"]):
        raise InvalidInput(f"column_data.table invalid: {named} is not table {table['name']}.")
    try:
        other = find_table(doc, TableRef(name=ref, table_id=ref))
    except NotFound:
        raise InvalidInput(f"column_data.other_table invalid: table {ref} not found.") from None
    link_id = new_id(_all_link_ids(doc))
    column["data"] = _link_data(link_id, table, other)
    if other is table:
        return
    if len(other["columns"]) >= max_columns:
        raise InvalidInput(
            f"table {other['name']} holds {max_columns} columns: no room for the mirror column."
        )
    mirror_key = new_id({c["key"] for c in other["columns"]})
    mirror = {**column, "key": mirror_key, "name": _mirror_name(table["name"], other)}
    mirror["data"] = _link_data(link_id, other, table)
    other["columns"].append(mirror)


def check_retype(column: dict[str, Any], new_type: Any) -> None:
    """A column cannot become a link column, nor a link column something else (its mirror and
    links would dangle): SeaTable's client refuses the first itself."""
    if column.get("type") == LINK or new_type == LINK:
        raise InvalidInput(
            "modify_column_type invalid: a column can not be changed to or from a link column; "
            "delete it and insert a new one."
        )


def _drop_mirror(doc: dict[str, Any], column: dict[str, Any]) -> None:
    data = column.get("data") or {}
    for other in doc.get("tables", []):
        if other["_id"] != data.get("other_table_id"):
            continue
        for c in list(other["columns"]):
            if (
                c is not column
                and c.get("type") == LINK
                and (c.get("data") or {}).get("link_id") == data.get("link_id")
            ):
                other["columns"].remove(c)
                for view in other.get("views", []):
                    view["hidden_columns"] = [k for k in view.get("hidden_columns") or [] if k != c["key"]]


def column_deleted(conn: Connection, dtable_uuid: str, doc: dict[str, Any], column: dict[str, Any]) -> None:
    """A link column went: its mirror and its links go with it."""
    if column.get("type") != LINK or not isinstance(column.get("data"), dict):
        return
    _drop_mirror(doc, column)
    lq.delete_link(conn, dtable_uuid, str(column["data"].get("link_id")))


def table_deleted(conn: Connection, dtable_uuid: str, doc: dict[str, Any], table: dict[str, Any]) -> None:
    """A table went (already out of ``doc``): the mirrors of its link columns and their links."""
    for column in table["columns"]:
        column_deleted(conn, dtable_uuid, doc, column)


def rows_deleted(conn: Connection, dtable_uuid: str, table: dict[str, Any], row_ids: Iterable[str]) -> None:
    """Rows went: every link that holds one of them."""
    ids = list(row_ids)
    link_ids = [str(c["data"].get("link_id")) for c in _link_columns(table)]
    if ids and link_ids:
        lq.delete_for_rows(conn, dtable_uuid, link_ids, ids)


def refuse_link_cells(table: dict[str, Any], rows: Sequence[Any], what: str) -> None:
    """Rows written through the rows API may not set link cells: that is the links API's job
    (SeaTable keeps links out of row writes too). ``null`` is ignored like other read-only cells."""
    names = {c["name"]: c for c in _link_columns(table)}
    keys = {c["key"]: c for c in _link_columns(table)}
    if not names:
        return
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            continue
        for ref, value in row.items():
            column = names.get(ref) or keys.get(ref)
            if column is not None and value is not None:
                raise InvalidInput(
                    f"{what}[{i}]: column {column['name']!r} is a link column; rows can not set links, "
                    "use the links API (add_link, update_link, batch_update_links, remove_link)."
                )


def _link_columns(table: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in table["columns"] if c.get("type") == LINK and isinstance(c.get("data"), dict)]


# ---- link cells on read --------------------------------------------------------------------


def _display(other: dict[str, Any] | None, found: lq.LinkedRow) -> Any:
    if other is None or not other["columns"]:
        return None
    return cell_value(other["columns"][0], found, gateway=False)


def fill_cells(
    conn: Connection,
    dtable_uuid: str,
    doc: dict[str, Any],
    table: dict[str, Any],
    rows: Sequence[q.StoredRow],
) -> None:
    """Put each link column's first MAX_LINKS_PER_CELL linked rows into the rows' data as
    ``[{"row_id", "display_value"}]`` (one query per link column for the whole page)."""
    if not rows:
        return
    ids = [r.row_id for r in rows]
    tables = {t["_id"]: t for t in doc.get("tables", [])}
    for column in _link_columns(table):
        data = column["data"]
        side = lq.side_of(table["_id"], str(data.get("other_table_id")))
        other = tables.get(str(data.get("other_table_id")))
        found = lq.linked_rows(
            conn, dtable_uuid, str(data.get("link_id")), side, ids, offset=0, limit=MAX_LINKS_PER_CELL
        )
        for row in rows:
            linked = found.get(row.row_id)
            if linked:
                row.data[column["key"]] = [
                    {"row_id": f.row_id, "display_value": _display(other, f)} for f in linked
                ]
            else:
                row.data.pop(column["key"], None)


def linked_ids(
    conn: Connection, dtable_uuid: str, table: dict[str, Any], column: dict[str, Any], row_ids: Iterable[str]
) -> dict[str, list[str]]:
    """For SQL: ``{row_id: [linked row ids]}`` of ``column`` (a link column of ``table``), all
    links, rows without links absent. Index lookups only (see db.links.linked_ids)."""
    data = column["data"]
    side = lq.side_of(table["_id"], str(data.get("other_table_id")))
    return lq.linked_ids(conn, dtable_uuid, str(data.get("link_id")), side, row_ids)


# ---- the links API -------------------------------------------------------------------------


def _find_link(doc: dict[str, Any], change: w.LinkChange) -> tuple[dict[str, Any], dict[str, Any]]:
    table = find_table(doc, TableRef(change.table_name, change.table_id))
    other = find_table(doc, TableRef(change.other_table_name, change.other_table_id))
    for column in _link_columns(table):
        data = column["data"]
        if data.get("link_id") == change.link_id and data.get("other_table_id") == other["_id"]:
            return table, other
    raise NotFound(f"link {change.link_id} between tables {table['name']} and {other['name']} not found")


def _check_rows(conn: Connection, dtable_uuid: str, table: dict[str, Any], ids: Iterable[str]) -> None:
    wanted = list(dict.fromkeys(ids))
    valid = [i for i in wanted if len(i) <= MAX_ROW_ID_CHARS and "\x00" not in i]
    found = q.get_rows(conn, dtable_uuid, table["_id"], valid)
    for row_id in wanted:
        if row_id not in found:
            raise NotFound(f"row {row_id} not found in table {table['name']}")


async def change_links(ctx: Context, principal: Principal, change: w.LinkChange, *, op: str) -> int:
    """``op`` add, remove or update (replace the links of ``change.row_ids``). Every row is
    checked first; anything unknown changes nothing. Returns the pairs removed (remove) or
    added (add, update)."""
    require_write(principal)
    pairs = sum(len(v) for v in change.targets.values()) + len(change.row_ids)
    if pairs > MAX_LINK_PAIRS_PER_REQUEST:
        raise InvalidInput(f"a links request names at most {MAX_LINK_PAIRS_PER_REQUEST} rows.")
    return await ctx.run_db(_change_links, ctx.engine, principal.dtable.uuid, change, op)


def _change_links(engine: Engine, dtable_uuid: str, change: w.LinkChange, op: str) -> int:
    with write_tx(engine) as conn:
        doc = q.lock_doc(conn, dtable_uuid).doc
        table, other = _find_link(doc, change)
        sources = [*change.row_ids, *change.targets] if op == "update" else list(change.targets)
        _check_rows(conn, dtable_uuid, table, sources)
        _check_rows(conn, dtable_uuid, other, [o for others in change.targets.values() for o in others])
        side = lq.side_of(table["_id"], other["_id"])
        first, second = sorted((table["_id"], other["_id"]))
        rows = change.row_ids if op == "update" else list(change.targets)
        pairs = [lq.stored_pair(side, r, o) for r in rows for o in change.targets.get(r, [])]
        targets = {r: change.targets.get(r, []) for r in rows}
        events.links_changed(conn, dtable_uuid, op, change.link_id, table["_id"], other["_id"], targets)
        if op == "remove":
            return lq.delete_pairs(conn, dtable_uuid, change.link_id, pairs)
        if op == "update":
            lq.delete_seen_from(conn, dtable_uuid, change.link_id, side, change.row_ids)
        return lq.insert_pairs(conn, dtable_uuid, change.link_id, first, second, pairs)


async def linked_records(
    ctx: Context, principal: Principal, table_ref: TableRef, column_ref: str, body: dict[str, Any]
) -> dict[str, list[w.LinkedRecord]]:
    """get_linked_records: per asked row, its linked rows ``offset`` to ``offset + limit`` in the
    other table's order, as ``{row_id, display_value}``. Unknown rows or columns: 404."""
    asked = w.linked_rows_from_body(
        body,
        default_limit=LINKED_RECORDS_DEFAULT_LIMIT,
        max_limit=LINKED_RECORDS_MAX_LIMIT,
        max_rows=MAX_LINKED_RECORD_ROWS,
    )
    return await ctx.run_db(_linked_records, ctx.engine, principal.dtable.uuid, table_ref, column_ref, asked)


def _linked_records(
    engine: Engine, dtable_uuid: str, table_ref: TableRef, column_ref: str, asked: list[w.LinkedRowsQuery]
) -> dict[str, list[w.LinkedRecord]]:
    with read_tx(engine) as conn:
        doc = q.load_doc(conn, dtable_uuid).doc
        table = find_table(doc, table_ref)
        column = next((c for c in _link_columns(table) if c["key"] == column_ref), None)
        column = column or next((c for c in _link_columns(table) if c["name"] == column_ref), None)
        if column is None:
            raise NotFound(f"link column {column_ref} not found in table {table['name']}")
        _check_rows(conn, dtable_uuid, table, [a.row_id for a in asked])
        data = column["data"]
        other = find_table(doc, TableRef(table_id=str(data.get("other_table_id"))))
        side = lq.side_of(table["_id"], other["_id"])
        groups: dict[tuple[int, int], list[str]] = defaultdict(list)
        for a in asked:
            groups[(a.offset, a.limit)].append(a.row_id)
        out: dict[str, list[w.LinkedRecord]] = {a.row_id: [] for a in asked}
        for (offset, limit), ids in groups.items():
            found = lq.linked_rows(
                conn, dtable_uuid, str(data["link_id"]), side, ids, offset=offset, limit=limit
            )
            for row_id, linked in found.items():
                out[row_id] = [{"row_id": f.row_id, "display_value": _display(other, f)} for f in linked]
    return out
