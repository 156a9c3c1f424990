"""Narrowing a query on ``rows`` through the cells' sort keys (``row_keys``).

A :data:`Narrow` describes a SUPERSET of the rows a condition can match, in terms of keys: the
rows with a key of one column in a number range, among some numbers, equal to some text keys, or
any key at all (a non-empty cell); and conjunctions / disjunctions of those. :func:`clause` turns
it into a condition on ``rows`` (``row_id IN (select row_id from row_keys where ...)``) that the
database answers from the keys' index ``ix_row_keys_asc``. The original condition is kept next to
it and still decides: the keys only spare the database the rows that can not match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select, union_all

from atoll.db import schema
from atoll.db.rows import RowKey, where_keys


@dataclass(frozen=True)
class Keys:
    """Rows whose cell in ``column_key`` has a key passing the test: kind 0 with ``low <= num
    <= high`` (either bound may be None), kind 0 with ``num`` in ``nums``, kind 1 equal to one
    of ``texts`` (whole encoded keys); no test at all: any key."""

    column_key: str
    low: float | None = None
    high: float | None = None
    nums: tuple[float, ...] | None = None
    texts: tuple[bytes, ...] | None = None


@dataclass(frozen=True)
class Both:
    """Rows in every part."""

    parts: tuple[Narrow, ...]


@dataclass(frozen=True)
class Either:
    """Rows in some part."""

    parts: tuple[Narrow, ...]


Narrow = Keys | Both | Either


def both(a: Narrow | None, b: Narrow | None) -> Narrow | None:
    """A superset of ``a AND b``: either side alone is one already."""
    if a is None or b is None:
        return a if b is None else b
    return Both((*_flat(a, Both), *_flat(b, Both)))


def either(a: Narrow | None, b: Narrow | None) -> Narrow | None:
    """A superset of ``a OR b``: only when both sides have one."""
    if a is None or b is None:
        return None
    return Either((*_flat(a, Either), *_flat(b, Either)))


def _flat(n: Narrow, kind: type[Both] | type[Either]) -> tuple[Narrow, ...]:
    return n.parts if isinstance(n, kind) else (n,)


def _selects(keys: Keys, dtable_uuid: str, table_id: str) -> list[Select[Any]]:
    """``row_id`` of the rows passing ``keys``: one index range of ix_row_keys_asc each."""
    k = schema.row_keys
    pick = select(k.c.row_id).where(*where_keys(dtable_uuid, table_id), k.c.column_key == keys.column_key)
    out: list[Select[Any]] = []
    if keys.low is not None or keys.high is not None:
        test = [k.c.kind == 0]
        if keys.low is not None:
            test.append(k.c.num >= keys.low)
        if keys.high is not None:
            test.append(k.c.num <= keys.high)
        out.append(pick.where(*test))
    if keys.nums is not None:
        out.extend(pick.where(k.c.kind == 0, k.c.num == n) for n in sorted(set(keys.nums)))
    if keys.texts is not None:
        for text in sorted(set(keys.texts)):
            split = RowKey("", keys.column_key, 0, 1, 0.0, text)
            tail = k.c.tail.is_(None) if split.tail is None else k.c.tail == split.tail
            out.append(pick.where(k.c.kind == 1, k.c.num == 0, k.c.head == split.head, tail))
    if keys.low is None and keys.high is None and keys.nums is None and keys.texts is None:
        out.append(pick)
    return out


def _leaves(n: Narrow) -> list[Keys] | None:
    if isinstance(n, Keys):
        return [n]
    if isinstance(n, Either):
        found: list[Keys] = []
        for part in n.parts:
            sub = _leaves(part)
            if sub is None:
                return None
            found.extend(sub)
        return found
    return None


def clause(n: Narrow, dtable_uuid: str, table_id: str) -> ColumnElement[bool]:
    """A condition on ``schema.rows`` true for every row ``n`` admits (and maybe others)."""
    r = schema.rows
    leaves = _leaves(n)
    if leaves is not None:
        selects = [s for leaf in leaves for s in _selects(leaf, dtable_uuid, table_id)]
        if not selects:  # an empty IN list of numbers or texts: no row
            return r.c.row_id.in_([])
        ids = selects[0] if len(selects) == 1 else select(union_all(*selects).subquery().c.row_id)
        return r.c.row_id.in_(ids)
    if isinstance(n, Both):
        return and_(*(clause(p, dtable_uuid, table_id) for p in n.parts))
    assert isinstance(n, Either)
    return or_(*(clause(p, dtable_uuid, table_id) for p in n.parts))
