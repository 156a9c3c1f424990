"""Computed cells for bases written before atoll computed them (formula cells were left empty,
auto-number cells unassigned): one pass over every base, one write transaction per base.

A formula column without ``result_type`` in its data predates computation: its formula is
checked (kept as ``#NAME?`` when atoll cannot evaluate it) and its cells computed. An auto-number
column whose counter is still 0 in a table that has rows predates numbering: its rows are
numbered in table order. Running it again changes nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine

from atoll.db import rows as q
from atoll.db.engine import write_tx
from atoll.services import autonumber, rowkeys
from atoll.services.formula.table import compile_table, recompute_table


def backfill(engine: Engine) -> int:
    """Fill the computed cells of every base that needs it; how many tables changed."""
    with engine.connect() as conn:
        bases = q.list_doc_ids(conn)
    done = 0
    for dtable_uuid in bases:
        with write_tx(engine) as conn:
            stored = q.lock_doc(conn, dtable_uuid)
            changed = False
            for table in stored.doc.get("tables") or []:
                if _backfill_table(conn, dtable_uuid, table):
                    changed = True
                    done += 1
            if changed:
                stored.version += 1
                q.save_doc(conn, dtable_uuid, stored)
    return done


def _backfill_table(conn: Connection, dtable_uuid: str, table: dict[str, Any]) -> bool:
    columns: list[dict[str, Any]] = table["columns"]
    changed = False
    has_rows = bool(q.rows_after(conn, dtable_uuid, table["_id"], None, 1))
    for column in autonumber.columns_of(table):
        data = column.get("data")
        if has_rows and not (isinstance(data, dict) and data.get("max_used_auto_number")):
            autonumber.number_existing(conn, dtable_uuid, table, column)
            rowkeys.refresh_column(conn, dtable_uuid, table, column)
            changed = True
    stale = [
        c for c in columns
        if c.get("type") == "formula" and isinstance(c.get("data"), dict) and "result_type" not in c["data"]
    ]  # fmt: skip
    if stale:
        keys = {c["name"]: c["key"] for c in columns}
        for entry in compile_table(columns, strict=False):
            if not any(entry.column is c for c in stale):
                continue
            data = entry.column["data"]
            if entry.compiled is None:  # shows #NAME?; marked done so that a rerun skips it
                data["result_type"] = "string"
                continue
            data["result_type"] = entry.compiled.result_type
            data["operated_columns"] = sorted(keys[n] for n in entry.compiled.refs)
        recompute_table(conn, dtable_uuid, table)
        changed = True
    return changed
