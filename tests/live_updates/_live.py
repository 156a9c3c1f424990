"""Test helpers for live updates: a base with a table on a live server, and a socket.io listener."""

from __future__ import annotations

import json
import queue
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import socketio

from tests.live_server import LiveServer

#: Listeners must get an event within this many seconds of the change's response (the issue's bound).
WITHIN_S = 1.0
#: A poll interval and then some: what a poller that was due may still deliver after a join.
SETTLE_S = 0.4
#: How long a test waits to be sure an event does NOT come.
QUIET_S = 1.5


@dataclass
class LiveBase:
    """A base on ``server`` (its API token, access token, uuid) with table ``T`` (column ``Name``)."""

    server: LiveServer
    api_token: str
    access_token: str
    dtable_uuid: str

    @classmethod
    def make(cls, server: LiveServer, name: str) -> LiveBase:
        token = server.create_token(name)
        acc = httpx.get(server.url + "/api/v2.1/dtable/app-access-token/",
                        headers={"Authorization": f"Token {token}"}).json()
        base = cls(server, token, acc["access_token"], acc["dtable_uuid"])
        columns = [{"column_name": "Name", "column_type": "text"}]
        r = base.post("tables/", {"table_name": "T", "columns": columns})
        assert r.status_code == 200, r.text
        return base

    def on(self, server: LiveServer) -> LiveBase:
        """The same base through another server process."""
        return LiveBase(server, self.api_token, self.access_token, self.dtable_uuid)

    def url(self, path: str) -> str:
        return f"{self.server.url}/api-gateway/api/v2/dtables/{self.dtable_uuid}/{path}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.access_token}"}

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(self.url(path), json=body, headers=self.headers, timeout=30)

    def send(self, method: str, path: str, body: dict[str, Any]) -> httpx.Response:
        r = httpx.request(method, self.url(path), json=body, headers=self.headers, timeout=30)
        assert r.status_code == 200, r.text
        return r


@dataclass
class Listener:
    """A python-socketio client (long-polling, as the official client without websocket-client)."""

    server: LiveServer
    path: str = "/api-gateway/socket.io"
    events: queue.Queue[tuple[str, dict[str, Any], Any, float]] = field(default_factory=queue.Queue)

    def __post_init__(self) -> None:
        self.sio = socketio.Client(reconnection=True, reconnection_delay=0.2)
        for name in ("update-dtable", "new-notification"):
            self.sio.on(name, self._handler(name))
        self.sio.connect(self.server.url, socketio_path=self.path, transports=["polling"], wait_timeout=10)

    def _handler(self, name: str) -> Any:
        def handle(data: str, index: Any, *_: Any) -> None:
            self.events.put((name, json.loads(data), index, time.time()))

        return handle

    def join(self, dtable_uuid: Any, token: Any) -> dict[str, Any]:
        """Join, then drop what a poll that was due delivers of changes made before the join."""
        ack: dict[str, Any] = self.sio.call("join-room", (dtable_uuid, token), timeout=10)
        time.sleep(SETTLE_S)
        while not self.events.empty():
            self.events.get_nowait()
        return ack

    def next(self, timeout: float = 5.0) -> tuple[str, dict[str, Any], Any, float]:
        return self.events.get(timeout=timeout)

    def expect(self, op_type: str, *, after: float, timeout: float = 5.0) -> dict[str, Any]:
        """The next event, which must be ``op_type`` and arrive within ``WITHIN_S`` of ``after``."""
        name, op, _, at = self.next(timeout)
        assert op.get("op_type", op.get("msg_type")) == op_type, (op_type, name, op)
        assert at - after < WITHIN_S, f"{op_type} arrived {at - after:.3f}s after the change"
        return op

    def quiet(self, wait: float = QUIET_S) -> None:
        """No event arrives within ``wait`` seconds."""
        try:
            got = self.events.get(timeout=wait)
        except queue.Empty:
            return
        raise AssertionError(f"unexpected event {got}")

    def close(self) -> None:
        """Leave without waiting for the pending long-poll (the server ends it at its ping timeout)."""
        self.sio.eio.disconnect(abort=True)
