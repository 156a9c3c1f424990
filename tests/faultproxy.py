"""A small HTTP proxy on 127.0.0.1 that injects faults into chosen requests (threads, stdlib only).

Each client connection carries one request (the proxy asks both sides for ``Connection: close``).
A ``Fault`` names which requests it hits (method, a substring of the request target) and, from the
``nth`` match on, for ``times`` matches: answer 500, answer 503 SlowDown, reset the connection,
stall without answering for ``stall_s``, or pipe the exchange but break it after ``cut_after``
bytes of the request (``cut``: the client's connection is reset) or of the answer (``cut_reply``:
the client's connection is closed, so it reads exactly those bytes, then a premature end), so that
the server gets part of a body, or the client part of an answer. (A reset would let the client's
kernel drop answer bytes it had not read yet: how many arrive would be left to chance.)
Everything else is piped to the upstream server.
"""

from __future__ import annotations

import contextlib
import select
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlparse

Kind = Literal["500", "slowdown", "reset", "stall", "cut", "cut_reply"]
HEAD_LIMIT = 64 * 1024
PIPE_BYTES = 256 * 1024
BODIES: dict[str, tuple[str, str]] = {
    "500": ("500 Internal Server Error", "InternalError"),
    "slowdown": ("503 Slow Down", "SlowDown"),
}


@dataclass
class Fault:
    kind: Kind
    method: str = ""
    target_contains: str = ""
    target_excludes: str = "\0"
    nth: int = 1
    times: int = 1
    stall_s: float = 3.0
    cut_after: int = 0
    seen: int = 0
    hits: int = 0

    def matches(self, method: str, target: str) -> bool:
        if self.method and method != self.method:
            return False
        return self.target_contains in target and self.target_excludes not in target

    def take(self, method: str, target: str) -> bool:
        """Count a matching request; True if this one gets the fault."""
        if not self.matches(method, target):
            return False
        self.seen += 1
        if self.nth <= self.seen < self.nth + self.times:
            self.hits += 1
            return True
        return False


@dataclass
class FaultProxy:
    upstream: tuple[str, int]
    faults: list[Fault] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    #: the headers of each of ``requests`` (names in lower case)
    request_headers: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy.serve(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _fault_for(self, method: str, target: str, headers: dict[str, str]) -> Fault | None:
        with self._lock:
            self.requests.append((method, target))
            self.request_headers.append(headers)
            for fault in self.faults:
                if fault.take(method, target):
                    return fault
        return None

    def serve(self, client: socket.socket) -> None:
        head, rest = _read_head(client)
        if not head:
            return
        lines = head.decode("latin-1").split("\r\n")
        method, target = lines[0].split(" ")[:2]
        headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
        fault = self._fault_for(method, target, headers)
        if fault is None or fault.kind in ("cut", "cut_reply"):
            self._pipe(client, lines, rest, fault)
        elif fault.kind == "reset":
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()
        elif fault.kind == "stall":  # take the body, never answer
            deadline = time.monotonic() + fault.stall_s
            client.settimeout(fault.stall_s)
            if "100-continue" in headers.get("expect", ""):
                client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            with contextlib.suppress(OSError):
                _drain(client, int(headers.get("content-length", "0")) - len(rest))
            time.sleep(max(0.0, deadline - time.monotonic()))
        else:
            if "100-continue" not in headers.get("expect", ""):
                _drain(client, int(headers.get("content-length", "0")) - len(rest))
            status, code = BODIES[fault.kind]
            body = f"<?xml version='1.0'?><Error><Code>{code}</Code><Message>injected</Message></Error>"
            client.sendall(
                f"HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {len(body)}\r\n"
                f"Connection: close\r\n\r\n{body}".encode()
            )

    def _pipe(self, client: socket.socket, lines: list[str], rest: bytes, fault: Fault | None) -> None:
        kept = [x for x in lines[1:] if x and not x.lower().startswith("connection:")]
        head = "\r\n".join([lines[0], *kept, "Connection: close", "", ""]).encode("latin-1")
        # bytes of the request body (cut) or of the answer (cut_reply) still to pass
        budget = {"cut": -1, "cut_reply": -1}
        if fault is not None:
            budget[fault.kind] = fault.cut_after
        with socket.create_connection(self.upstream) as upstream:
            first = rest if budget["cut"] < 0 else rest[: budget["cut"]]
            upstream.sendall(head + first)
            if budget["cut"] >= 0:
                budget["cut"] -= len(first)
                if budget["cut"] == 0:
                    return _reset(client, upstream)
            socks = [client, upstream]
            while True:
                readable, _, _ = select.select(socks, [], [], 30)
                if not readable:
                    return
                for sock in readable:
                    data = sock.recv(PIPE_BYTES)
                    if not data:
                        if sock is upstream:
                            return
                        socks.remove(client)  # the client is done (or gone): so is its request
                        with contextlib.suppress(OSError):
                            upstream.shutdown(socket.SHUT_WR)
                        continue
                    key = "cut" if sock is client else "cut_reply"
                    if budget[key] >= 0:
                        data = data[: budget[key]]
                        budget[key] -= len(data)
                    (upstream if sock is client else client).sendall(data)
                    if budget[key] == 0:
                        return _reset(client, upstream, graceful=key == "cut_reply")


def _reset(client: socket.socket, upstream: socket.socket, *, graceful: bool = False) -> None:
    """Break the exchange: the client's connection closes with RST (SO_LINGER 0), a broken
    connection, or with FIN when ``graceful``; the upstream's with FIN, so the server reads every
    byte passed before its end (an RST could discard what is still in its receive buffer,
    nondeterministically)."""
    with contextlib.suppress(OSError):
        if not graceful:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
    with contextlib.suppress(OSError):
        upstream.shutdown(socket.SHUT_WR)
        upstream.close()


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(PIPE_BYTES)
        if not data or len(buf) > HEAD_LIMIT:
            return b"", b""
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head, rest


def _drain(sock: socket.socket, remaining: int) -> None:
    with contextlib.suppress(OSError):
        while remaining > 0:
            data = sock.recv(min(remaining, PIPE_BYTES))
            if not data:
                return
            remaining -= len(data)


@contextlib.contextmanager
def in_front_of(endpoint: str) -> Iterator[FaultProxy]:
    """A fault proxy in front of ``endpoint`` (http://host:port) for the ``with`` block."""
    parsed = urlparse(endpoint)
    proxy = FaultProxy((parsed.hostname or "127.0.0.1", parsed.port or 80))
    try:
        yield proxy
    finally:
        proxy.close()
