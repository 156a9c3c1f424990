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

from sqlalchemy import ColumnElement, Connection, Engine, and_, intersect, select, tuple_, union, union_all

from atoll.db import rowkeys as kq
from atoll.db import rows as q
from atoll.db import schema
from atoll.db.engine import write_tx
from atoll.services.cells import Columns
from atoll.services.filters import is_empty, sort_key
from atoll.services.sql.viewfilters import find_filter_column, option_names
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
# filter_rows' filters are decided by one SQL condition (services.sql.viewfilters, the same as a
# view's); the keys only narrow the rows the database has to test. Each filter may give a
# superset of its matches in terms of keys: a key exists exactly when the cell shows a value
# (``cell_value`` not empty); kind 0 holds numbers and booleans (True/False as 1/0), and integers
# beyond float (num +-inf), so kind 0 with num in BOOL_OR_HUGE is always a candidate of a number
# test; text shows as kind 1 with the key ``_text_key(text, joined=False)``.

BOOL_OR_HUGE = (0.0, 1.0, math.inf, -math.inf)
#: Number comparisons as key tests. Keys hold ``float(value)``; an integer cell beyond 2**53
#: may round onto the term, so strict comparisons widen to inclusive ones (still a superset).
_NUMBER_KEY_OP = {"=": "==", "is": "==", "<": "<=", "<=": "<=", ">": ">=", ">=": ">="}
_TEXT_LIKE = frozenset({"text", "long-text", "email", "url", "auto-number"})
_NUMBER_TYPES = frozenset({"number", "rate", "duration"})
_DATE_TYPES = frozenset({"date", "ctime", "mtime"})
_DATE_PREDICATES = frozenset({"is", "is before", "is after", "is on or before", "is on or after"})


def _empty_term(term: Any) -> bool:
    return term is None or term == "" or term == []


def _candidates(column: dict[str, Any], f: dict[str, Any]) -> tuple[bool, kq.KeyTest | None]:
    """Whether the keys of ``column`` narrow filter ``f``, and how: ``(True, test)`` -- only
    rows with a key passing ``test`` (any key when None) can match -- or ``(False, None)``.
    Called once ``f`` compiled to SQL (its column, predicate and term are valid)."""
    ctype = str(column.get("type"))
    predicate = str(f.get("filter_predicate"))
    term = f.get("filter_term")
    if predicate == "is not empty":
        return True, None
    if ctype in _DATE_TYPES and predicate in _DATE_PREDICATES:
        # a day test never matches an empty cell; an empty exact term does not narrow
        modifier = f.get("filter_term_modifier") or "exact_date"
        return (False, None) if modifier == "exact_date" and _empty_term(term) else (True, None)
    if _empty_term(term):
        return False, None  # a value predicate without a term does not narrow (every row)
    if ctype in _TEXT_LIKE and predicate == "is":
        return True, kq.KeyTest(keys=(_text_key(str(term), joined=False),))
    if ctype in _TEXT_LIKE and predicate == "contains":
        return True, None
    if ctype in _NUMBER_TYPES and predicate in _NUMBER_KEY_OP:
        number = float(str(term).strip())
        if not math.isfinite(number):
            return False, None
        return True, kq.KeyTest(num=(_NUMBER_KEY_OP[predicate], number), nums=BOOL_OR_HUGE, kind_from=1)
    if ctype == "single-select" and predicate in ("is", "is any of"):
        names = option_names(column, term if isinstance(term, list) else [term])
        if "" in names:
            return False, None  # "" is an empty cell (no key) that such a term matches
        return True, kq.KeyTest(keys=tuple(_text_key(n, joined=False) for n in names))
    if ctype == "multiple-select" and predicate in ("has any of", "has all of"):
        return True, None
    return False, None


def _candidate_plan(
    columns: Columns, filters: Sequence[dict[str, Any]], *, any_of: bool
) -> list[tuple[str, kq.KeyTest | None]] | None:
    """The key tests whose rows are a superset of the matches (None if the keys can not narrow:
    no filter narrows, or with ``any_of`` one does not)."""
    keyed: list[tuple[str, kq.KeyTest | None]] = []
    for f in filters:
        column = find_filter_column(columns, f)
        narrows, test = _candidates(column, f)
        if narrows:
            keyed.append((column["key"], test))
        elif any_of:
            return None
    specific: list[tuple[str, kq.KeyTest | None]] = [(k, t) for k, t in keyed if t is not None]
    if specific and not any_of:
        return specific  # intersecting with "any key" of a column costs a scan of its keys
    return keyed or None


#: Filtering reads the table in order while at least 1 in DENSE rows matches (the next window
#: will soon fill the page), else it turns to the keys' index for the rest. The first window
#: is PROBE_ROWS rows, then BATCH_ROWS at a time.
DENSE = 4
PROBE_ROWS = 200


def matching(
    conn: Connection,
    dtable_uuid: str,
    table_id: str,
    columns: Columns,
    filters: Sequence[dict[str, Any]],
    condition: ColumnElement[bool] | None,
    *,
    any_of: bool,
) -> Iterator[q.StoredRow]:
    """The rows where ``condition`` holds (the database decides: ``filters`` compiled by
    services.sql.viewfilters, with a view's own condition AND-ed in), in table order. When the
    keys can narrow ``filters``, the table is read in order only while matches are dense; then
    the keys' index gives the remaining candidates (a superset), which the condition decides. A
    page of a selective filter thus costs a probe of PROBE_ROWS rows plus its candidates."""
    keyed = _candidate_plan(columns, filters, any_of=any_of) if condition is not None else None
    if keyed is None:
        yield from q.iter_rows(conn, dtable_uuid, table_id, where=condition)
        return
    assert condition is not None
    after: tuple[int, str] | None = None
    size = PROBE_ROWS
    while True:
        edge = _window_end(conn, dtable_uuid, table_id, after, size)
        r = schema.rows
        window = condition if edge is None else and_(condition, tuple_(r.c.seq, r.c.row_id) <= tuple_(*edge))
        hits = q.rows_after(conn, dtable_uuid, table_id, after, size, where=window)
        yield from hits
        if edge is None:
            return
        sparse = len(hits) * DENSE < size
        after, size = edge, q.BATCH_ROWS
        if sparse:
            break
    yield from _keyed_matches(conn, dtable_uuid, table_id, keyed, condition, any_of=any_of, after=after)


def _keyed_matches(
    conn: Connection,
    dtable_uuid: str,
    table_id: str,
    tests: list[tuple[str, kq.KeyTest | None]],
    condition: ColumnElement[bool],
    *,
    any_of: bool,
    after: tuple[int, str] | None,
) -> Iterator[q.StoredRow]:
    """The rows past ``after`` whose keys pass ``tests`` (as ``db.rowkeys.iter_keyed``: index
    ranges of the keys, sorted by ``(seq, row_id)``, BATCH_ROWS at a time) and where
    ``condition`` holds, in table order; each candidate row is read once, by primary key."""
    per_column = [kq._keys_passing(dtable_uuid, table_id, column_key, test) for column_key, test in tests]
    sets = [parts[0] if len(parts) == 1 else kq._as_select(union_all(*parts)) for parts in per_column]
    joined = sets[0] if len(sets) == 1 else (union(*sets) if any_of else intersect(*sets))
    found = joined.subquery()
    while True:
        query = select(found.c.seq, found.c.row_id)
        if after is not None:
            query = query.where(tuple_(found.c.seq, found.c.row_id) > tuple_(*after))
        with kq.index_ranges_only(conn):
            batch = conn.execute(query.order_by(found.c.seq, found.c.row_id).limit(q.BATCH_ROWS)).all()
        ids = [str(m.row_id) for m in batch]
        rows = _passing(conn, dtable_uuid, ids, condition)
        yield from (rows[i] for i in ids if i in rows)
        if len(batch) < q.BATCH_ROWS:
            return
        after = (int(batch[-1].seq), str(batch[-1].row_id))


def _window_end(
    conn: Connection, dtable_uuid: str, table_id: str, after: tuple[int, str] | None, size: int
) -> tuple[int, str] | None:
    """``(seq, row_id)`` of the ``size``-th row past ``after`` in table order (None: fewer)."""
    r = schema.rows
    query = select(r.c.seq, r.c.row_id).where(*q.where_table(dtable_uuid, table_id))
    if after is not None:
        query = query.where(tuple_(r.c.seq, r.c.row_id) > tuple_(*after))
    found = conn.execute(query.order_by(r.c.seq, r.c.row_id).offset(size - 1).limit(1)).first()
    return None if found is None else (int(found.seq), str(found.row_id))


#: Candidates tested per statement (bound parameters of one IN list).
PASSING_IDS = 500


def _passing(
    conn: Connection, dtable_uuid: str, ids: list[str], condition: ColumnElement[bool]
) -> dict[str, q.StoredRow]:
    """Those of the rows ``ids`` (by primary key) where ``condition`` holds."""
    r = schema.rows
    out: dict[str, q.StoredRow] = {}
    for i in range(0, len(ids), PASSING_IDS):
        part = ids[i : i + PASSING_IDS]
        # by primary key only, as db.rows.rows_by_id (ids come from this table's keys)
        query = select(r).where(r.c.dtable_uuid == dtable_uuid, r.c.row_id.in_(part), condition)
        out.update((m["row_id"], q.row_of(m)) for m in conn.execute(query).mappings())
    return out
