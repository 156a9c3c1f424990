"""server/protocol.py on uvicorn's httptools protocol, driven without sockets.

These also pin what the subclass relies on in uvicorn (private API): if an upgrade changes it,
they fail here rather than the limits silently stopping to work.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from atoll.server.limits import Limits
from atoll.server.protocol import LimitedHttpToolsProtocol, PendingBody, protocol_class

LIMITS = Limits(max_header_line_bytes=100, max_header_bytes=400, header_read_timeout_s=5,
                body_read_timeout_s=5, min_body_rate=0, body_rate_window_s=5, max_connections=2)


class FakeTransport:
    def __init__(self) -> None:
        self.written = bytearray()
        self.closing = False
        self.eof = False

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 5000)}.get(name, default)


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def connect(loop: asyncio.AbstractEventLoop, state: ServerState | None = None) -> tuple[Any, FakeTransport]:
    config = Config(app=_ok, lifespan="off", log_level="critical")
    proto = protocol_class(LIMITS)(config=config, server_state=state or ServerState(), app_state={},
                                   _loop=loop)
    transport = FakeTransport()
    proto.connection_made(transport)  # type: ignore[arg-type]
    return proto, transport


def status_of(transport: FakeTransport) -> bytes:
    return bytes(transport.written).split(b"\r\n", 1)[0]


def test_uvicorn_still_has_what_the_subclass_uses() -> None:
    for name in ("on_message_begin", "on_url", "on_header", "on_headers_complete", "on_message_complete",
                 "data_received", "send_400_response", "connection_made", "connection_lost"):
        assert callable(getattr(HttpToolsProtocol, name, None)), name
    source = inspect.getsource(HttpToolsProtocol)
    for needle in ("self.url += url", "except httptools.HttpParserError", "self.send_400_response(msg)",
                   "self.connections.add(self)", "self.cycle: RequestResponseCycle",
                   # on_body, which the subclass re-states with its own high-water mark:
                   "self.cycle.body += body", "self.flow.pause_reading()", "self.cycle.message_event.set()"):
        assert needle in source, needle
    assert issubclass(LimitedHttpToolsProtocol, HttpToolsProtocol)
    # PendingBody stands in for the cycle's bytearray: the cycle must only take len() and bytes()
    receive = inspect.getsource(RequestResponseCycle.receive)
    assert '"body": bytes(self.body)' in receive and "self.body = bytearray()" in receive


def test_pending_body_hands_over_one_chunk_as_is_and_joins_several() -> None:
    one = PendingBody()
    chunk = b"a" * 1000
    one.add(chunk)
    assert len(one) == 1000 and bytes(one) is chunk  # no copy for a single chunk
    several = PendingBody()
    for part in (b"ab", b"", b"cde", b"f"):
        several.add(part)
    assert len(several) == 6 and bytes(several) == b"abcdef"


def test_a_body_in_many_chunks_reaches_the_app_whole_and_in_order(loop: asyncio.AbstractEventLoop) -> None:
    got = bytearray()
    sizes: list[int] = []

    async def echo_size(scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            assert isinstance(message["body"], bytes)
            got.extend(message["body"])
            sizes.append(len(message["body"]))
            if not message.get("more_body"):
                break
        await _ok(scope, receive, send)

    limits = dataclasses.replace(LIMITS, body_buffer_bytes=10_000)
    config = Config(app=echo_size, lifespan="off", log_level="critical")
    proto = protocol_class(limits)(config=config, server_state=ServerState(), app_state={}, _loop=loop)
    transport = PausingTransport()
    proto.connection_made(transport)  # type: ignore[arg-type]
    body = bytes(range(256)) * 200  # 51,200 bytes
    proto.data_received(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % len(body))
    for start in range(0, len(body), 3000):
        proto.data_received(body[start:start + 3000])
        if start % 12000 == 0:
            loop.run_until_complete(asyncio.sleep(0))  # the app takes what waits so far
    loop.run_until_complete(asyncio.sleep(0.05))
    assert bytes(got) == body
    assert max(sizes) > 3000  # chunks that waited together came as one message
    assert status_of(transport) == b"HTTP/1.1 200 OK"
    proto.connection_lost(None)


def test_a_normal_request_is_served(loop: asyncio.AbstractEventLoop) -> None:
    proto, transport = connect(loop)
    proto.data_received(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    loop.run_until_complete(asyncio.sleep(0.01))
    assert status_of(transport) == b"HTTP/1.1 200 OK"
    assert not transport.closing


@pytest.mark.parametrize(("head", "status"), [
    (b"GET /" + b"u" * 200 + b" HTTP/1.1\r\n\r\n", b"414"),
    (b"GET / HTTP/1.1\r\nX-A: " + b"v" * 200 + b"\r\n\r\n", b"431"),
    (b"GET / HTTP/1.1\r\n" + (b"X-A: " + b"v" * 68 + b"\r\n") * 8 + b"\r\n", b"431"),
])
def test_oversized_heads_are_refused(loop: asyncio.AbstractEventLoop, head: bytes, status: bytes) -> None:
    proto, transport = connect(loop)
    proto.data_received(head)
    assert status_of(transport).startswith(b"HTTP/1.1 " + status) and transport.eof
    proto.data_received(b"more")  # read and dropped after the refusal
    answer = bytes(transport.written)
    assert answer.count(b"HTTP/1.1") == 1 and len(answer) < 300
    rid = answer.split(b"x-request-id: ", 1)[1].split(b"\r\n", 1)[0]  # the id is in head and body
    assert answer.endswith(b"(request id " + rid + b")\n")


def test_an_unfinished_head_is_refused_once_over_the_total(loop: asyncio.AbstractEventLoop) -> None:
    proto, transport = connect(loop)
    proto.data_received(b"GET / HTTP/1.1\r\nX-A: ")
    for _ in range(5):  # 500 bytes of one unfinished value: httptools holds them, not on_header
        proto.data_received(b"v" * 100)
    assert b"431" in status_of(transport)


def test_header_deadline_answers_408(loop: asyncio.AbstractEventLoop) -> None:
    proto, transport = connect(loop)
    proto.data_received(b"GET / HTTP/1.1\r\nX-A: b")
    assert proto._head_timer is not None
    proto._head_timeout()  # as the timer does when it fires
    assert b"408" in status_of(transport)


def test_connection_cap_answers_503(loop: asyncio.AbstractEventLoop) -> None:
    state = ServerState()
    first = [connect(loop, state) for _ in range(LIMITS.max_connections)]
    _, third = connect(loop, state)
    assert b"503" in status_of(third)
    assert all(not t.written for _, t in first)


class PausingTransport(FakeTransport):
    def __init__(self) -> None:
        super().__init__()
        self.pauses = 0

    def pause_reading(self) -> None:
        self.pauses += 1


@pytest.mark.parametrize(("buffer", "pauses"), [(1024, True), (64 * 1024, False)])
def test_body_buffer_bytes_is_the_high_water_mark(loop: asyncio.AbstractEventLoop, buffer: int,
                                                  pauses: bool) -> None:
    """Reading pauses once more than ``body_buffer_bytes`` of body wait for the app."""
    limits = dataclasses.replace(LIMITS, body_buffer_bytes=buffer)
    gate = asyncio.Event()

    async def reads_later(scope: Any, receive: Any, send: Any) -> None:
        await gate.wait()
        await _ok(scope, receive, send)

    config = Config(app=reads_later, lifespan="off", log_level="critical")
    proto = protocol_class(limits)(config=config, server_state=ServerState(), app_state={}, _loop=loop)
    transport = PausingTransport()
    proto.connection_made(transport)  # type: ignore[arg-type]
    proto.data_received(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 40000\r\n\r\n")
    for _ in range(10):
        proto.data_received(b"x" * 4000)  # the app has not read any of it
    assert (transport.pauses > 0) is pauses
    gate.set()
    loop.run_until_complete(asyncio.sleep(0.05))  # the app answers; its task ends
    assert status_of(transport) == b"HTTP/1.1 200 OK"
    proto.connection_lost(None)
