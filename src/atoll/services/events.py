"""Live updates: every change of a base becomes an event row written in the change's own write
transaction (so an event exists exactly when its change committed, whichever process made it),
and every server process polls the table and hands new events to its socket.io listeners.

Writers call the ``rows_*`` / ``doc_*`` / ``file_*`` hooks with their connection. Readers run
an ``EventPoller``. Ids grow with each insert; on PostgreSQL a transaction that took an id may
commit after a later one, so ids skipped by a read are asked for again for ``GAP_WAIT_S``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Engine

from atoll.db import events as q
from atoll.db.engine import read_tx
from atoll.services.context import Context
from atoll.wire import live as w

log = logging.getLogger("atoll.live")

#: Events older than this are deleted (a listener that is away longer misses them anyway).
EVENT_RETENTION_S = 300.0
#: How often each server process deletes old events.
PRUNE_INTERVAL_S = 30.0
#: How long an id skipped by a read is asked for again (a slower transaction may commit it).
GAP_WAIT_S = 5.0
#: Skipped ids remembered at most (the oldest are forgotten first).
MAX_GAPS = 10_000
#: Events one poll reads at most; a full read polls again at once.
MAX_EVENTS_PER_POLL = 500
#: Wait after a failed poll (database down or restarting) before the next try.
RETRY_AFTER_S = 1.0

Deliver = Callable[[q.StoredEvent], Awaitable[None]]


# ---- writing (inside the caller's write transaction) ---------------------------------------------


def record(conn: Connection, dtable_uuid: str, op: Mapping[str, Any], event: str = w.UPDATE_DTABLE) -> None:
    q.add(conn, dtable_uuid, event, w.encode(op))


def rows_appended(conn: Connection, dtable_uuid: str, table_id: str, rows: Iterable[Any],
                  anchor_row_id: object = None) -> None:
    """Rows inserted (``db.rows.StoredRow``s): ``insert_row`` after an anchor, else ``append_rows``."""
    datas = [w.row_data(r.row_id, r.data, ctime=r.ctime, mtime=r.mtime, creator=r.creator,
                        last_modifier=r.last_modifier) for r in rows]
    if not datas:
        return
    if isinstance(anchor_row_id, str) and len(datas) == 1:
        record(conn, dtable_uuid, w.insert_row(table_id, anchor_row_id, datas[0]))
    else:
        record(conn, dtable_uuid, w.append_rows(table_id, datas))


def rows_updated(conn: Connection, dtable_uuid: str, table_id: str,
                 updates: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
    """Cells set by a write: (row id, {column key: value or None}) per updated row."""
    merged: dict[str, dict[str, Any]] = {}
    for row_id, cells in updates:
        merged.setdefault(row_id, {}).update(cells)
    if merged:
        record(conn, dtable_uuid, w.modify_rows(table_id, merged))


def rows_deleted(conn: Connection, dtable_uuid: str, table_id: str, row_ids: list[str], deleted: int) -> None:
    if deleted:
        record(conn, dtable_uuid, w.delete_rows(table_id, list(dict.fromkeys(row_ids))))


def links_changed(conn: Connection, dtable_uuid: str, op: str, link_id: str, table_id: str,
                  other_table_id: str, targets: Mapping[str, list[str]]) -> None:
    """Links added, removed or replaced (``op``: add, remove, update) between two tables' rows."""
    record(conn, dtable_uuid, w.links_changed(op, link_id, table_id, other_table_id, targets))


Shape = dict[str, tuple[str, dict[str, str]]]


def doc_shape(doc: Mapping[str, Any]) -> Shape:
    """What ``doc_changed`` compares: table id -> (name, column key -> column as JSON)."""
    return {
        t["_id"]: (t.get("name", ""), {c["key"]: json.dumps(c, sort_keys=True) for c in t.get("columns", [])})
        for t in doc.get("tables", [])
    }


def doc_changed(conn: Connection, dtable_uuid: str, before: Shape, doc: Mapping[str, Any]) -> None:
    """The table and column operations that turn ``before`` into ``doc`` (views: none)."""
    after = doc_shape(doc)
    tables = {t["_id"]: t for t in doc.get("tables", [])}
    for table_id in before.keys() - after.keys():
        record(conn, dtable_uuid, w.delete_table(table_id))
    for table_id, (name, columns) in after.items():
        if table_id not in before:
            record(conn, dtable_uuid, w.insert_table(tables[table_id]))
            continue
        old_name, old_columns = before[table_id]
        if name != old_name:
            record(conn, dtable_uuid, w.rename_table(table_id, name))
        for key in old_columns.keys() - columns.keys():
            record(conn, dtable_uuid, w.delete_column(table_id, key))
        for key, text in columns.items():
            if key not in old_columns:
                record(conn, dtable_uuid, w.insert_column(table_id, json.loads(text)))
            elif old_columns[key] != text:
                record(conn, dtable_uuid, w.changed_column(table_id, json.loads(old_columns[key]),
                                                           json.loads(text)))


def file_uploaded(conn: Connection, dtable_uuid: str, dir_path: str, name: str, size: int) -> None:
    record(conn, dtable_uuid, w.upload_file(_path(dir_path, name), size))


def file_deleted(conn: Connection, dtable_uuid: str, dir_path: str, name: str) -> None:
    record(conn, dtable_uuid, w.delete_file(_path(dir_path, name)))


def _path(dir_path: str, name: str) -> str:
    return dir_path.rstrip("/") + "/" + name


async def publish_toast(ctx: Context, dtable_uuid: str, toast: Any) -> None:
    """A ``ui-toasts`` notification to the base's listeners: a mapping ``{to_user, toast_type,
    detail}``, or an object with ``to_user``, ``toast_type`` and ``msg`` (``services.notify.Toast``)."""
    if isinstance(toast, Mapping):
        op = w.toast(toast.get("to_user"), toast.get("toast_type"), toast.get("detail"))
    else:
        op = w.toast(toast.to_user, toast.toast_type, {"msg": toast.msg})
    await ctx.commit(lambda conn: record(conn, dtable_uuid, op, w.NEW_NOTIFICATION))


# ---- reading: one poller per server process -------------------------------------------------------


def _last_id(engine: Engine) -> int:
    with read_tx(engine) as conn:
        return q.last_id(conn)


def _after(engine: Engine, last: int, missing: list[int]) -> list[q.StoredEvent]:
    with read_tx(engine) as conn:
        return q.after(conn, last, missing, MAX_EVENTS_PER_POLL)


class EventPoller:
    """Reads new events every ``interval`` seconds and hands each to ``deliver``, in id order.

    Starts after the newest event when it starts. A failed read (database down) is logged and
    tried again; events committed meanwhile are delivered once it is back (unless pruned).
    """

    def __init__(self, ctx: Context, deliver: Deliver, *, interval: float) -> None:
        self.ctx = ctx
        self.deliver = deliver
        self.interval = interval
        self.last: int | None = None
        #: Skipped id -> when it was first seen missing.
        self.gaps: dict[int, float] = {}
        self._failing = False

    async def run(self) -> None:
        while True:
            try:
                full = await self.poll_once()
                if self._failing:
                    log.warning("live updates: the database answers again; polling resumed")
                    self._failing = False
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is down: keep trying, quietly
                if not self._failing:
                    log.warning("live updates: polling events failed (%s); retrying", exc)
                    self._failing = True
                await asyncio.sleep(RETRY_AFTER_S)
                continue
            if not full:
                await asyncio.sleep(self.interval)

    async def start_from_now(self) -> None:
        """Deliver only events after the newest one stored now."""
        self.last = await self.ctx.run_db(_last_id, self.ctx.engine)
        self.gaps.clear()

    async def poll_once(self) -> bool:
        """One read and its deliveries; True when the read was full (more may be waiting)."""
        if self.last is None:
            await self.start_from_now()
            assert self.last is not None
        now = time.monotonic()
        self.gaps = {i: t for i, t in self.gaps.items() if now - t < GAP_WAIT_S}
        found = await self.ctx.run_db(_after, self.ctx.engine, self.last, list(self.gaps))
        for event in found:
            if event.id in self.gaps:
                del self.gaps[event.id]
            elif event.id > self.last:
                for skipped in range(self.last + 1, min(event.id, self.last + 1 + MAX_GAPS)):
                    self.gaps[skipped] = now
                self.last = event.id
            try:
                await self.deliver(event)
            except Exception:
                log.exception("live updates: delivering event %d failed", event.id)
        if len(self.gaps) > MAX_GAPS:
            for skipped in sorted(self.gaps)[: len(self.gaps) - MAX_GAPS]:
                del self.gaps[skipped]
        return len(found) >= MAX_EVENTS_PER_POLL


async def prune(ctx: Context, *, retention_s: float = EVENT_RETENTION_S) -> int:
    """Delete events older than ``retention_s``; how many went."""
    return await ctx.commit(lambda conn: q.prune(conn, time.time() - retention_s))


async def prune_periodically(ctx: Context, interval_s: float = PRUNE_INTERVAL_S) -> None:
    """Every server process prunes (whether or not it has listeners); failures are retried."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await prune(ctx)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("live updates: pruning old events failed (%s); will retry", exc)
