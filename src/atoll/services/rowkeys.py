"""Sort keys of cells (table ``row_keys``), kept in step with every write that changes what a
cell shows, so that the database sorts and pages rows.

A key is ``services.filters.sort_key`` of the value the client sees (``cell_value``), encoded so
that the database's order is Python's: kind, then the number, or the text parts as bytes
(UTF-8, each part escaped and terminated so that byte order is tuple order; byte order of UTF-8
is code point order, which is how Python compares strings). Empty cells have no key.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, or_

from atoll.db import rowkeys as kq
from atoll.db import rows as q
from atoll.db.engine import write_tx
from atoll.services.cells import Columns
from atoll.services.filters import _as_list, _number, _text, is_empty, row_matches, sort_key
from atoll.wire.rows import SYSTEM_COLUMN_FIELDS, cell_value


def _part(text: str) -> bytes:
    raw = text.encode("utf-8", "surrogatepass")
    return raw.replace(b"\x00", b"\x00\xff") + b"\x00\x01"


def cell_key(column: dict[str, Any], row: q.StoredRow) -> q.RowKey | None:
    value = cell_value(column, row, gateway=False)
    if is_empty(value):
        return None
    try:
        kind, payload = sort_key(value)
    except OverflowError:  # an integer beyond float: Python's own sort would fail on it
        kind, payload = 0, float("inf") if value > 0 else float("-inf")
    num, key = 0.0, b""
    if kind == 0:
        num = payload
    elif kind == 1:
        key = _part(payload[0]) + _part(payload[1])
    else:
        key = _part(payload)
    return q.RowKey(row.row_id, column["key"], row.seq, kind, num, key)


def _text_key(text: str, *, joined: bool) -> bytes:
    """The key of a cell showing ``text`` (a string, or a list that joins to it)."""
    return _part(text.casefold()) + _part("" if joined else text)


def row_keys(columns: Sequence[dict[str, Any]], rows: Iterable[q.StoredRow]) -> list[q.RowKey]:
    return [key for row in rows for column in columns if (key := cell_key(column, row)) is not None]


def put_rows(conn: Connection, dtable_uuid: str, table: dict[str, Any], rows: Sequence[q.StoredRow]) -> None:
    """(Re)write the keys of ``rows`` (new or changed), every column."""
    q.delete_keys(conn, dtable_uuid, table["_id"], row_ids=[r.row_id for r in rows])
    q.insert_keys(conn, dtable_uuid, table["_id"], row_keys(table["columns"], rows))


def refresh_column(conn: Connection, dtable_uuid: str, table: dict[str, Any], column: dict[str, Any]) -> None:
    """Recompute one column's keys (after it was added or retyped), reading the table in
    batches. Only rows whose data names the column can have a key, unless the column shows
    a system field."""
    q.delete_keys(conn, dtable_uuid, table["_id"], column_key=column["key"])
    where = None
    if column.get("type") not in SYSTEM_COLUMN_FIELDS:
        where = q.data_contains(_json_key(column["key"]))
    batch: list[q.RowKey] = []
    for row in q.iter_rows(conn, dtable_uuid, table["_id"], where=where):
        key = cell_key(column, row)
        if key is not None:
            batch.append(key)
        if len(batch) >= q.BATCH_ROWS:
            q.insert_keys(conn, dtable_uuid, table["_id"], batch)
            batch = []
    q.insert_keys(conn, dtable_uuid, table["_id"], batch)


def refresh_values(
    conn: Connection, dtable_uuid: str, table: dict[str, Any], column: dict[str, Any], values: Iterable[str]
) -> None:
    """Recompute the keys of ``column`` in rows whose data contains one of ``values`` (option
    ids that just got a name): the database finds the candidates."""
    seen: set[str] = set()
    for value in values:
        for row in q.iter_rows(conn, dtable_uuid, table["_id"], where=q.data_contains(_json_key(value))):
            if row.row_id in seen:
                continue
            seen.add(row.row_id)
            q.delete_keys(conn, dtable_uuid, table["_id"], row_ids=[row.row_id], column_key=column["key"])
            key = cell_key(column, row)
            if key is not None:
                q.insert_keys(conn, dtable_uuid, table["_id"], [key])


def option_ids(table: dict[str, Any]) -> dict[str, set[Any]]:
    """The option ids of each select column (to see which ones a write adds)."""
    return {
        c["key"]: {o.get("id") for o in ((c.get("data") or {}).get("options") or [])}
        for c in table["columns"]
        if c.get("type") in ("single-select", "multiple-select") and isinstance(c.get("data"), dict)
    }


def refresh_new_options(
    conn: Connection, dtable_uuid: str, table: dict[str, Any], before: dict[str, set[Any]]
) -> None:
    """Recompute keys that options added since ``before`` (``option_ids``) may have renamed."""
    after = option_ids(table)
    for column in table["columns"]:
        added = after.get(column["key"], set()) - before.get(column["key"], set())
        if added:
            refresh_values(conn, dtable_uuid, table, column, sorted(str(a) for a in added))


def _json_key(text: str) -> str:
    """``text`` as it appears in stored JSON (a quoted string; see db.rows.dumps)."""
    return q.dumps(text)


def backfill(engine: Engine) -> int:
    """Compute the keys of every table of every base (after ``atoll db upgrade`` to the schema
    that added them). Returns how many tables were done; a table is one transaction."""
    done = 0
    with engine.connect() as conn:
        bases = q.list_doc_ids(conn)
    for dtable_uuid in bases:
        with write_tx(engine) as conn:
            doc = q.lock_doc(conn, dtable_uuid).doc
            for table in doc.get("tables") or []:
                q.delete_keys(conn, dtable_uuid, table["_id"])
                batch: list[q.StoredRow] = []
                for row in q.iter_rows(conn, dtable_uuid, table["_id"]):
                    batch.append(row)
                    if len(batch) >= q.BATCH_ROWS:
                        q.insert_keys(conn, dtable_uuid, table["_id"], row_keys(table["columns"], batch))
                        batch = []
                q.insert_keys(conn, dtable_uuid, table["_id"], row_keys(table["columns"], batch))
                done += 1
    return done


# ---- filters -------------------------------------------------------------------------------
#
# filter_rows keeps services.filters.row_matches as the one definition of a match; the keys
# narrow the rows it has to look at. Each filter gives a superset of its matches in terms of keys
# (or None: no narrowing). A key exists exactly when the cell is not empty; kind 0 holds
# numbers and booleans (True/False as 1/0, which filters treat as text or truth values, never as
# numbers), and integers beyond float (num ±inf; filters fail on them as before) -- so kind 0
# with num in BOOL_OR_HUGE is always a candidate. Text and other values (kind >= 1) are
# candidates of every comparison: a text cell holding "12" compares as the number 12.

BOOL_OR_HUGE = (0.0, 1.0, math.inf, -math.inf)
_COMPARE = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "is before": "<", "is after": ">",
            "is on or before": "<=", "is on or after": ">="}  # fmt: skip


def _candidates(predicate: str, term: Any) -> tuple[kq.KeyTest | None, bool] | None:
    """Which cells of a column may match: ``(test, absent)`` -- keys passing ``test`` (any
    key when None), or with ``absent`` the cells without a key -- or None when any row may."""
    if predicate == "is empty":
        return None, True
    if predicate == "is not empty":
        return None, False
    if predicate in ("is", "="):
        if isinstance(term, bool):
            return None
        number, text = _number(term), _text(term)
        if number is not None:
            if not math.isfinite(number):
                return None, False
            return kq.KeyTest(num=("==", number), nums=BOOL_OR_HUGE, kind_from=1), False
        if text == "":
            return None  # empty cells show "" too
        keys = (_text_key(text, joined=False), _text_key(text, joined=True))
        # kind 2 (other values) compare as str(value); kind 0 as truth values or numbers
        return kq.KeyTest(nums=BOOL_OR_HUGE, keys=keys, kind_from=2), False
    if predicate in _COMPARE:
        number = _number(term)
        if number is None or not math.isfinite(number):
            return None, False  # text comparison: any non-empty cell
        return kq.KeyTest(num=(_COMPARE[predicate], number), nums=BOOL_OR_HUGE, kind_from=1), False
    if predicate == "contains":
        return None if _text(term) == "" else (None, False)
    if predicate in ("is any of", "has any of"):
        return None if "" in _as_list(term) else (None, False)  # "" is the one empty cell that can match
    if predicate == "has all of":
        return None if all(x == "" for x in _as_list(term)) else (None, False)
    return None  # negations: mostly every row


#: Filtering reads the table in order while at least 1 in DENSE rows matches (the next batch
#: will soon fill the page), else it turns to the keys' index for the rest. The first read is
#: PROBE_ROWS rows, then BATCH_ROWS at a time.
DENSE = 4
PROBE_ROWS = 200


def matching(
    conn: Connection,
    dtable_uuid: str,
    table_id: str,
    columns: Columns,
    filters: Sequence[dict[str, Any]],
    *,
    any_of: bool,
) -> Iterator[q.StoredRow]:
    """The rows matching ``filters`` in table order (row_matches decides each one). When the
    keys can narrow the filters, the table is read in order only while matches are dense;
    then the keys' index gives the remaining candidates (a superset of the matches). A page of
    a selective filter thus costs a probe of PROBE_ROWS rows plus its candidates, not the
    table."""
    keyed, where = _candidate_plan(columns, filters, any_of=any_of)
    if keyed is None:
        rows = q.iter_rows(conn, dtable_uuid, table_id, where=where)
        yield from (r for r in rows if row_matches(r, columns, filters, any_of=any_of))
        return
    after: tuple[int, str] | None = None
    size = PROBE_ROWS
    while True:
        batch = q.rows_after(conn, dtable_uuid, table_id, after, size)
        hits = [r for r in batch if row_matches(r, columns, filters, any_of=any_of)]
        yield from hits
        if len(batch) < size:
            return
        after, size = (batch[-1].seq, batch[-1].row_id), q.BATCH_ROWS
        if len(hits) * DENSE < len(batch):
            break
    found = kq.iter_keyed(conn, dtable_uuid, table_id, keyed, any_of=any_of, after=after)
    yield from (r for r in found if row_matches(r, columns, filters, any_of=any_of))


Plan = tuple[list[tuple[str, kq.KeyTest | None]] | None, ColumnElement[bool] | None]


def _candidate_plan(columns: Columns, filters: Sequence[dict[str, Any]], *, any_of: bool) -> Plan:
    """The key tests whose rows are a superset of the matches (None if there are none), else
    a condition on the table's rows to read in order (None: all; or those "is empty" filters
    leave)."""
    keyed: list[tuple[str, kq.KeyTest | None]] = []
    empty: list[ColumnElement[bool]] = []
    for f in filters:
        column = columns.find(f.get("column_name"))
        found = _candidates(str(f.get("filter_predicate")), f.get("filter_term"))
        if column is None or found is None:
            if any_of:
                return None, None
            continue
        test, absent = found
        if absent:
            empty.append(kq.missing_keys(column["key"]))
        else:
            keyed.append((column["key"], test))
    if keyed and not (any_of and empty):
        return keyed, None
    if not empty or (any_of and keyed):
        return None, None
    return None, or_(*empty) if any_of else and_(*empty)
