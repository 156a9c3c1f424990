"""A base's structure document (tables, columns, views) and how requests find things in it.

The structure is one versioned JSON document per base. Every change runs in one write
transaction that locks the document and bumps its version (``change_doc``). Tables are found by
``table_id`` when it matches a table ``_id``, else by ``table_name``: the official client also
sends 4-character table names as ``table_id`` (wire contract Q5).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from atoll.db import rows as q
from atoll.db.engine import read_tx, write_tx
from atoll.errors import InvalidInput, NotFound
from atoll.models import Principal
from atoll.services import events
from atoll.services.access import require_write
from atoll.services.context import Context
from atoll.wire import tables as w

T = TypeVar("T")

#: Longest table, column or view name.
MAX_NAME_CHARS = 255
ID_CHARS = string.ascii_letters + string.digits
ID_LENGTH = 4


@dataclass(frozen=True)
class TableRef:
    """How a request names a table: ``table_id`` (preferred when it matches) and/or ``table_name``."""

    name: str | None = None
    table_id: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> TableRef:
        name, table_id = args.get("table_name"), args.get("table_id")
        name = name if isinstance(name, str) and name else None
        table_id = table_id if isinstance(table_id, str) and table_id else None
        if name is None and table_id is None:
            raise InvalidInput("table_name invalid.")
        return cls(name, table_id)

    @property
    def label(self) -> str:
        return self.name if self.name is not None else str(self.table_id)


# ---- finding things ------------------------------------------------------------------------


def find_table(doc: dict[str, Any], ref: TableRef) -> dict[str, Any]:
    tables: list[dict[str, Any]] = doc.setdefault("tables", [])
    if ref.table_id is not None:
        for table in tables:
            if table["_id"] == ref.table_id:
                return table
    if ref.name is not None:
        for table in tables:
            if table["name"] == ref.name:
                return table
    raise NotFound(f"table {ref.label} not found")


def find_column(table: dict[str, Any], ref: Any) -> dict[str, Any]:
    """A column by key or name (the client sends keys, SeaTable's own tests send names)."""
    columns: list[dict[str, Any]] = table["columns"]
    if isinstance(ref, str):
        for column in columns:
            if column["key"] == ref:
                return column
        for column in columns:
            if column["name"] == ref:
                return column
    raise NotFound(f"column {ref} not found")


def find_view(table: dict[str, Any], name: Any) -> dict[str, Any]:
    views: list[dict[str, Any]] = table["views"]
    for view in views:
        if view["name"] == name:
            return view
    raise NotFound(f"view {name} not found")


def new_id(taken: set[str], *, first: bool = False) -> str:
    """A 4-character id: ``"0000"`` for the first of its kind, else random ``[A-Za-z0-9]``."""
    if first and w.FIRST_KEY not in taken:
        return w.FIRST_KEY
    while True:
        candidate = "".join(secrets.choice(ID_CHARS) for _ in range(ID_LENGTH))
        if candidate not in taken:
            return candidate


def valid_name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} invalid.")
    if len(value) > MAX_NAME_CHARS:
        raise InvalidInput(f"{what} is longer than {MAX_NAME_CHARS} characters.")
    return value


# ---- transactions --------------------------------------------------------------------------
# Every use case on a base's structure is ``async def op(ctx, principal, ...)``: it validates its
# arguments, then reads the document (any principal of the base may) or changes it (a read-write
# principal only) through these two. The blocking database work runs in a worker thread.


async def read_doc(ctx: Context, principal: Principal) -> q.StoredDoc:
    """The base's structure document as stored now."""
    return await ctx.run_db(_read_doc, ctx.engine, principal.dtable.uuid)


async def change_doc(ctx: Context, principal: Principal, fn: Callable[[Connection, dict[str, Any]], T]) -> T:
    """Run ``fn(conn, doc)`` on the locked document, then store it with version + 1.
    Raises PermissionDenied for a read-only principal before anything is read."""
    require_write(principal)
    return await ctx.run_db(_change_doc, ctx.engine, principal.dtable.uuid, fn)


def _read_doc(engine: Engine, dtable_uuid: str) -> q.StoredDoc:
    with read_tx(engine) as conn:
        return q.load_doc(conn, dtable_uuid)


def _change_doc(engine: Engine, dtable_uuid: str, fn: Callable[[Connection, dict[str, Any]], T]) -> T:
    with write_tx(engine) as conn:
        stored = q.lock_doc(conn, dtable_uuid)
        before = events.doc_shape(stored.doc)
        result = fn(conn, stored.doc)
        stored.version += 1
        q.save_doc(conn, dtable_uuid, stored)
        events.doc_changed(conn, dtable_uuid, before, stored.doc)  # live updates
        return result
