"""The events table and the poller in process (both backends): id order, ids a slower
transaction commits late, pruning by age, the operations a structure change makes, toasts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from sqlalchemy import insert, select

from atoll.db import events as q
from atoll.db.engine import write_tx
from atoll.db.schema import live_events
from atoll.services import events
from atoll.services.context import Context
from atoll.wire import live as w
from tests.conftest import MakeApp


def _add(ctx: Context, *ids: int, uuid: str = "u", created_at: float | None = None) -> None:
    with write_tx(ctx.engine) as conn:
        for i in ids:
            conn.execute(insert(live_events).values(id=i, dtable_uuid=uuid, event="update-dtable",
                                                    payload=json.dumps({"n": i}),
                                                    created_at=created_at or time.time()))


def _poller(ctx: Context) -> tuple[events.EventPoller, list[int]]:
    got: list[int] = []

    async def deliver(event: q.StoredEvent) -> None:
        got.append(event.id)

    return events.EventPoller(ctx, deliver, interval=0.01), got


def test_poller_delivers_in_id_order_and_picks_up_late_commits(make_app: MakeApp) -> None:
    ctx = make_app(started=False).ctx
    poller, got = _poller(ctx)

    async def run() -> None:
        await poller.start_from_now()
        assert poller.last == 0
        _add(ctx, 1, 3)  # 2 is still in a slower transaction
        await poller.poll_once()
        assert got == [1, 3] and set(poller.gaps) == {2}
        _add(ctx, 2, 4)
        await poller.poll_once()
        assert got == [1, 3, 2, 4] and not poller.gaps
        await poller.poll_once()
        assert got == [1, 3, 2, 4]  # nothing twice

    asyncio.run(run())


def test_poller_forgets_gaps_after_the_wait(make_app: MakeApp, monkeypatch: Any) -> None:
    ctx = make_app(started=False).ctx
    poller, got = _poller(ctx)
    monkeypatch.setattr(events, "GAP_WAIT_S", 0.0)

    async def run() -> None:
        await poller.start_from_now()
        _add(ctx, 1, 5)
        await poller.poll_once()
        await poller.poll_once()
        assert got == [1, 5] and not poller.gaps

    asyncio.run(run())


def test_poller_starts_after_the_stored_and_reads_full_batches(make_app: MakeApp, monkeypatch: Any) -> None:
    ctx = make_app(started=False).ctx
    _add(ctx, 1, 2)
    poller, got = _poller(ctx)
    monkeypatch.setattr(events, "MAX_EVENTS_PER_POLL", 2)

    async def run() -> None:
        await poller.start_from_now()
        _add(ctx, 3, 4, 5)
        assert await poller.poll_once() is True  # full: more may wait
        assert await poller.poll_once() is False
        assert got == [3, 4, 5]

    asyncio.run(run())


def test_poller_survives_a_failing_database(make_app: MakeApp) -> None:
    ctx = make_app(started=False).ctx
    poller, got = _poller(ctx)
    calls = {"n": 0}
    real = poller.poll_once

    async def flaky() -> bool:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise RuntimeError("database is down")
        return await real()

    poller.poll_once = flaky  # type: ignore[method-assign]

    async def run() -> None:
        await poller.start_from_now()
        _add(ctx, 1)
        task = asyncio.create_task(poller.run())
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task  # its database call, if one is running, finishes first
        assert got == [1] and calls["n"] >= 3

    asyncio.run(run())


def test_prune_deletes_by_age(make_app: MakeApp) -> None:
    ctx = make_app(started=False).ctx
    _add(ctx, 1, created_at=time.time() - events.EVENT_RETENTION_S - 10)
    _add(ctx, 2)
    assert asyncio.run(events.prune(ctx)) == 1
    with ctx.engine.connect() as conn:
        assert conn.execute(select(live_events.c.id)).scalars().all() == [2]


def _ops(ctx: Context, before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    with write_tx(ctx.engine) as conn:
        start = q.last_id(conn)
        events.doc_changed(conn, "u", events.doc_shape(before), after)
        return [json.loads(e.payload) for e in q.after(conn, start, [], 100)]


def test_structure_changes_become_seatable_ops(make_app: MakeApp) -> None:
    ctx = make_app(started=False).ctx
    col = {"key": "0000", "name": "Name", "type": "text", "data": None}
    t1 = {"_id": "0000", "name": "T", "columns": [col], "views": []}
    doc = {"tables": [t1]}
    renamed = {"tables": [{**t1, "columns": [{**col, "name": "Title"}]}]}
    assert _ops(ctx, doc, renamed) == [
        {"op_type": "rename_column", "table_id": "0000", "column_key": "0000", "new_column_name": "Title"}]
    retyped = {"tables": [{**t1, "columns": [{**col, "type": "number", "data": {"format": "number"}}]}]}
    [op] = _ops(ctx, doc, retyped)
    assert op["op_type"] == "modify_column_type" and op["new_column_type"] == "number"
    redata = {"tables": [{**t1, "columns": [{**col, "data": {"options": []}}]}]}
    assert _ops(ctx, doc, redata)[0]["op_type"] == "update_column"
    t2 = {"_id": "abcd", "name": "U", "columns": []}
    ops = _ops(ctx, doc, {"tables": [{**t1, "name": "T2"}, t2]})
    assert [o["op_type"] for o in ops] == ["rename_table", "insert_table"]
    assert _ops(ctx, doc, {"tables": []}) == [{"op_type": "delete_table", "table_id": "0000"}]
    views_only = {"tables": [{**t1, "views": [{"_id": "v"}]}]}
    assert _ops(ctx, doc, views_only) == []


def test_a_huge_operation_goes_out_without_its_cells() -> None:
    rows = [{"_id": str(i), "0000": "x" * 1000} for i in range(400)]
    op = json.loads(w.encode(w.append_rows("0000", rows)))
    assert op["truncated"] is True and "rows_data" not in op and len(op["row_ids"]) == 400
    small = json.loads(w.encode(w.append_rows("0000", rows[:2])))
    assert "truncated" not in small and small["rows_data"] == rows[:2]


def test_toast_is_a_new_notification(make_app: MakeApp) -> None:
    ctx = make_app(started=False).ctx
    toast = {"to_user": "a@auth.local", "toast_type": "success", "detail": {"msg": "hi"}}
    asyncio.run(events.publish_toast(ctx, "u", toast))
    with ctx.engine.connect() as conn:
        [event] = q.after(conn, 0, [], 10)
    assert event.event == "new-notification" and event.dtable_uuid == "u"
    assert json.loads(event.payload) == {"msg_type": "ui_toast", **toast}


def test_a_toast_object_works_too(make_app: MakeApp) -> None:
    """What the ui-toasts endpoint hands over: an object with to_user, toast_type, msg."""

    class Toast:
        to_user = "b@auth.local"
        toast_type = "danger"
        msg = "oops"

    ctx = make_app(started=False).ctx
    asyncio.run(events.publish_toast(ctx, "u", Toast()))
    with ctx.engine.connect() as conn:
        [event] = q.after(conn, 0, [], 10)
    assert json.loads(event.payload) == {"msg_type": "ui_toast", "to_user": "b@auth.local",
                                         "toast_type": "danger", "detail": {"msg": "oops"}}
