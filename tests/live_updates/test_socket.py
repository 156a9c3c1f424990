"""Live updates over socket.io against live server processes: every kind of change made through
one process reaches the listeners of its base on another process within a second; joins with a
wrong token join nothing; no event leaks to another base."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import socketio

from atoll.services import notify
from atoll.services.context import Context
from tests.live_server import LiveServer, two_processes
from tests.live_updates._live import SETTLE_S, WITHIN_S, Listener, LiveBase


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    root = tmp_path_factory.mktemp("live")
    with two_processes(root / "data") as pair:
        yield pair


@pytest.fixture
def listener(pair: tuple[LiveServer, LiveServer]) -> Iterator[Listener]:
    listening = Listener(pair[0])
    yield listening
    listening.close()


def test_every_change_made_on_another_process_reaches_the_listener(
    pair: tuple[LiveServer, LiveServer], listener: Listener
) -> None:
    base = LiveBase.make(pair[0], "Changes")
    assert listener.join(base.dtable_uuid, base.access_token) == {"success": True}
    other = base.on(pair[1])  # every change goes through the second process

    t = time.time()
    other.send("POST", "columns/", {"table_name": "T", "column_name": "Qty", "column_type": "number"})
    op = listener.expect("insert_column", after=t)
    assert op["table_id"] == "0000" and op["column_data"]["name"] == "Qty"
    qty = op["column_key"]

    t = time.time()
    row_id = other.send("POST", "rows/", {"table_name": "T", "rows": [{"Name": "a", "Qty": 2}]}).json()[
        "row_ids"][0]["_id"]
    op = listener.expect("append_rows", after=t)
    assert op["row_ids"] == [row_id]
    assert op["rows_data"][0]["_id"] == row_id and op["rows_data"][0][qty] == 2

    t = time.time()
    other.send("PUT", "rows/", {"table_name": "T", "updates": [{"row_id": row_id, "row": {"Qty": 5}}]})
    op = listener.expect("modify_row", after=t)
    assert op["row_id"] == row_id and op["updated"] == {qty: 5}

    t = time.time()
    other.send("PUT", "columns/", {"table_name": "T", "column": "Qty", "op_type": "rename_column",
                                   "new_column_name": "Count"})
    op = listener.expect("rename_column", after=t)
    assert op["column_key"] == qty and op["new_column_name"] == "Count"

    t = time.time()
    other.send("DELETE", "rows/", {"table_name": "T", "row_ids": [row_id]})
    op = listener.expect("delete_row", after=t)
    assert op["row_id"] == row_id

    t = time.time()
    other.send("DELETE", "columns/", {"table_name": "T", "column": "Count"})
    assert listener.expect("delete_column", after=t)["column_key"] == qty

    auth = {"Authorization": f"Token {base.api_token}"}
    link = httpx.get(pair[1].url + "/api/v2.1/dtable/app-upload-link/", headers=auth).json()
    t = time.time()
    r = httpx.post(link["upload_link"] + "?ret-json=1", files={"file": ("a.txt", b"hello")},
                   data={"parent_dir": link["parent_path"], "relative_path": "files/live"})
    assert r.status_code == 200, r.text
    op = listener.expect("upload_file", after=t)
    assert op == {"op_type": "upload_file", "path": "/files/live/a.txt", "size": 5}

    t = time.time()
    r = httpx.delete(pair[1].url + "/api/v2.1/dtable/app-asset/", params={"path": "files/live/a.txt"},
                     headers=auth)
    assert r.status_code == 200, r.text
    assert listener.expect("delete_file", after=t) == {"op_type": "delete_file", "path": "/files/live/a.txt"}
    listener.quiet(0.5)


def test_a_batch_is_one_event_in_order(pair: tuple[LiveServer, LiveServer], listener: Listener) -> None:
    base = LiveBase.make(pair[0], "Batch")
    listener.join(base.dtable_uuid, base.access_token)
    other = base.on(pair[1])
    ids = [r["_id"] for r in other.send("POST", "rows/", {
        "table_name": "T", "rows": [{"Name": str(i)} for i in range(3)]}).json()["row_ids"]]
    other.send("PUT", "rows/", {"table_name": "T", "updates": [
        {"row_id": i, "row": {"Name": "x"}} for i in ids]})
    other.send("DELETE", "rows/", {"table_name": "T", "row_ids": ids})
    seen = [listener.next() for _ in range(3)]
    ops = [op for _, op, _, _ in seen]
    assert [op["op_type"] for op in ops] == ["append_rows", "modify_rows", "delete_rows"]
    assert ops[0]["row_ids"] == ids and ops[1]["row_ids"] == ids and ops[2]["row_ids"] == ids
    assert ops[1]["updated"] == {i: {"0000": "x"} for i in ids}
    indexes = [index for _, _, index, _ in seen]
    assert indexes == sorted(indexes)  # the second argument: the event's number, increasing


def test_a_wrong_token_joins_nothing(pair: tuple[LiveServer, LiveServer], listener: Listener) -> None:
    base = LiveBase.make(pair[0], "Guarded")
    other_base = LiveBase.make(pair[0], "Other")
    forged = base.access_token[:-4] + ("AAAA" if not base.access_token.endswith("AAAA") else "BBBB")
    cases = {
        "garbage": (base.dtable_uuid, "not-a-token"),
        "other base": (base.dtable_uuid, other_base.access_token),
        "forged": (base.dtable_uuid, forged),
        "api token": (base.dtable_uuid, base.api_token),
        "no args": (None, None),
        "huge": (base.dtable_uuid, "x" * 100_000),
    }
    for case, args in cases.items():
        ack = listener.join(*args)
        assert ack["success"] is False and ack["error_message"], (case, ack)
    base.on(pair[1]).send("POST", "rows/", {"table_name": "T", "rows": [{"Name": "secret"}]})
    listener.quiet()
    # the other base's token opens the other base only
    assert listener.join(other_base.dtable_uuid, other_base.access_token)["success"]
    base.on(pair[1]).send("POST", "rows/", {"table_name": "T", "rows": [{"Name": "secret"}]})
    listener.quiet()


def test_no_event_leaks_to_another_base(pair: tuple[LiveServer, LiveServer]) -> None:
    one, two = LiveBase.make(pair[0], "Leak one"), LiveBase.make(pair[0], "Leak two")
    first, second = Listener(pair[0]), Listener(pair[1])
    try:
        assert first.join(one.dtable_uuid, one.access_token)["success"]
        assert second.join(two.dtable_uuid, two.access_token)["success"]
        t = time.time()
        one.on(pair[1]).send("POST", "rows/", {"table_name": "T", "rows": [{"Name": "one"}]})
        assert first.expect("append_rows", after=t)["rows_data"][0]["0000"] == "one"
        second.quiet()
        t = time.time()
        two.send("POST", "rows/", {"table_name": "T", "rows": [{"Name": "two"}]})
        assert second.expect("append_rows", after=t)["rows_data"][0]["0000"] == "two"
        first.quiet()
    finally:
        first.close()
        second.close()


def test_websocket_transport_and_the_legacy_path(pair: tuple[LiveServer, LiveServer]) -> None:
    """A websocket client on ``/socket.io`` (python-socketio's default path) gets events too."""
    base = LiveBase.make(pair[0], "Websocket")

    async def listen() -> tuple[dict[str, object], list[tuple[str, float]]]:
        sio = socketio.AsyncClient()
        got: asyncio.Queue[tuple[str, float]] = asyncio.Queue()
        sio.on("update-dtable", lambda data, index: got.put_nowait((data, time.time())))
        await sio.connect(pair[1].url, socketio_path="/socket.io", transports=["websocket"])
        try:
            ack = await sio.call("join-room", (base.dtable_uuid, base.access_token), timeout=10)
            await asyncio.sleep(SETTLE_S)  # the table's creation may still arrive: drop it
            while not got.empty():
                got.get_nowait()
            t = time.time()
            await asyncio.to_thread(base.send, "POST", "rows/", {"table_name": "T", "rows": [{"Name": "w"}]})
            data, at = await asyncio.wait_for(got.get(), 5)
            return ack, [(data, at - t)]
        finally:
            await sio.disconnect()

    ack, [(data, delay)] = asyncio.run(listen())
    assert ack == {"success": True}
    assert json.loads(data)["op_type"] == "append_rows" and delay < WITHIN_S


def test_socket_io_off(tmp_path: Path) -> None:
    """ATOLL_LIVE_UPDATES=false: no socket.io endpoint (404), the rest of the server as usual."""
    with LiveServer(tmp_path / "data", env={"ATOLL_LIVE_UPDATES": "false"}) as server:
        r = httpx.get(server.url + "/api-gateway/socket.io/", params={"EIO": "4", "transport": "polling"})
        assert r.status_code == 404
        assert httpx.get(server.url + "/api2/ping/").status_code == 200


def test_a_toast_reaches_the_listener_as_new_notification(
    pair: tuple[LiveServer, LiveServer], listener: Listener
) -> None:
    """``services.notify.publish_toast`` (what ``ui-toasts`` calls), here from a third process."""
    base = LiveBase.make(pair[0], "Toast")
    assert listener.join(base.dtable_uuid, base.access_token)["success"]
    ctx = Context.open(pair[1].settings)
    toast = {"to_user": "someone@auth.local", "toast_type": "warning", "detail": {"msg": "careful"}}
    t = time.time()
    try:
        asyncio.run(notify.publish_toast(ctx, base.dtable_uuid, toast))
    finally:
        ctx.engine.dispose()
    name, op, _, at = listener.next()
    assert name == "new-notification" and op == {"msg_type": "ui_toast", **toast}
    assert at - t < WITHIN_S


def test_granian_serves_socket_io_too(tmp_path: Path) -> None:
    """The same app under granian: long-polling and websocket listeners get events; a stop
    (SIGTERM) with listeners connected is prompt."""
    with LiveServer(tmp_path / "data", server="granian") as server:
        base = LiveBase.make(server, "Granian")
        listener = Listener(server)
        try:
            assert listener.join(base.dtable_uuid, base.access_token)["success"]
            t = time.time()
            base.send("POST", "rows/", {"table_name": "T", "rows": [{"Name": "g"}]})
            assert listener.expect("append_rows", after=t)["rows_data"][0]["0000"] == "g"

            async def over_websocket() -> str:
                sio = socketio.AsyncClient()
                got: asyncio.Queue[str] = asyncio.Queue()
                sio.on("update-dtable", lambda data, index: got.put_nowait(data))
                await sio.connect(server.url, socketio_path="/api-gateway/socket.io",
                                  transports=["websocket"])
                try:
                    await sio.call("join-room", (base.dtable_uuid, base.access_token), timeout=10)
                    await asyncio.sleep(SETTLE_S)
                    row = {"table_name": "T", "rows": [{"Name": "h"}]}
                    await asyncio.to_thread(base.send, "POST", "rows/", row)
                    return await asyncio.wait_for(got.get(), 5)
                finally:
                    await sio.disconnect()

            assert json.loads(asyncio.run(over_websocket()))["rows_data"][0]["0000"] == "h"
        finally:
            listener.close()
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 5
