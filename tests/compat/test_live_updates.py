"""The official client's live updates: ``Base.auth(with_socket_io=True)`` against one server
process gets row and column changes made through another process (same database) within a
second. seatable-api 4.0.0 speaks Engine.IO 4 (python-socketio 5) on ``/api-gateway/socket.io/``;
2.6.11 bundles python-socketio 4 (Engine.IO 3) on ``/socket.io/`` (server/live_eio3.py).
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.compat.clients import SCENARIO_DIR
from tests.compat.harness import Client
from tests.live_server import LiveServer, two_processes
from tests.live_updates._live import WITHIN_S, LiveBase

#: How long the listener may take to connect and join.
JOIN_TIMEOUT_S = 30.0


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    root = tmp_path_factory.mktemp("live-compat")
    with two_processes(root / "data") as pair:
        yield pair


class OfficialListener:
    """``scenarios/live_listener.py`` in the client's venv; its JSON lines in a queue."""

    def __init__(self, client: Client, server: LiveServer, api_token: str) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        self.proc = subprocess.Popen(
            [client.python, str(SCENARIO_DIR / "live_listener.py"), server.url, api_token],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines: queue.Queue[dict[str, Any] | str] = queue.Queue()
        self.output: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            try:
                self.lines.put(json.loads(line))
            except json.JSONDecodeError:
                self.lines.put(line)

    def next_event(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            item = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            if isinstance(item, dict) and "event" in item:
                return item

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self.reader.join(10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


def _wait_joined(listener: OfficialListener, base: LiveBase) -> None:
    """The client emits join-room on connect with no ack: probe with changes until one arrives."""
    deadline = time.monotonic() + JOIN_TIMEOUT_S
    while time.monotonic() < deadline:
        base.send("POST", "rows/", {"table_name": "T", "rows": [{"Name": "probe"}]})
        try:
            listener.next_event(1.0)
        except queue.Empty:
            continue
        time.sleep(0.5)
        while True:  # drop the other probes' events
            try:
                listener.next_event(0.5)
            except queue.Empty:
                return
    raise AssertionError("the official client never received an event:\n" + "".join(listener.output))


@pytest.mark.parametrize("version", ["4.0.0", "2.6.11"])
def test_official_client_gets_changes_made_on_another_process(
    pair: tuple[LiveServer, LiveServer], official_clients: dict[str, Client], version: str
) -> None:
    base = LiveBase.make(pair[0], f"Official live {version}")
    listener = OfficialListener(official_clients[version], pair[0], base.api_token)
    try:
        other = base.on(pair[1])
        _wait_joined(listener, other)
        t = time.time()
        row_id = other.send("POST", "rows/", {"table_name": "T", "rows": [{"Name": "new"}]}).json()[
            "row_ids"][0]["_id"]
        got = listener.next_event(5)
        op = json.loads(got["data"])
        assert got["event"] == "update-dtable" and op["op_type"] == "append_rows"
        assert op["row_ids"] == [row_id] and op["rows_data"][0]["0000"] == "new"
        assert isinstance(got["index"], int) and got["t"] - t < WITHIN_S
        t = time.time()
        other.send("PUT", "rows/", {"table_name": "T", "updates": [{"row_id": row_id, "row": {"Name": "b"}}]})
        got = listener.next_event(5)
        assert json.loads(got["data"]) == {"op_type": "modify_row", "table_id": "0000", "row_id": row_id,
                                           "updated": {"0000": "b"}}
        assert got["t"] - t < WITHIN_S
        t = time.time()
        other.send("POST", "columns/", {"table_name": "T", "column_name": "N", "column_type": "number"})
        got = listener.next_event(5)
        assert json.loads(got["data"])["op_type"] == "insert_column" and got["t"] - t < WITHIN_S
    finally:
        listener.close()
