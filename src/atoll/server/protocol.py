"""uvicorn's httptools protocol with header limits enforced where the bytes arrive.

uvicorn (0.54) has no limit on a request head with httptools: a 32 MiB header was parsed and
answered, and a client trickling header bytes kept its connection for ever. This subclass adds,
per connection:

* a **head size cap**: bytes fed to the parser while a request's head is incomplete are counted;
  beyond ``max_header_bytes`` the answer is 431 and the connection closes, so an unfinished head
  costs at most the cap plus one read (uvloop reads up to 256 KiB at a time);
* a **per-line cap**: the request target (414) and each header line, name plus value (431);
* a **head deadline**: from the connection's opening, and from the first byte of each further
  request, the head must be complete within ``header_read_timeout_s`` (else 408 and close);
* a **connection cap**: a connection beyond ``max_connections`` gets 503 and is closed at once.

It also wraps each connection's transport in ``server.coalesce.CoalescingTransport``, so that
a response's head and a small body leave in one send.

It relies on these parts of ``uvicorn.protocols.http.httptools_impl.HttpToolsProtocol``, pinned
by tests/server/test_protocol.py: the parser callbacks ``on_message_begin``, ``on_url``,
``on_header``, ``on_headers_complete``, ``on_message_complete``; ``data_received`` turning an
exception raised in a callback into ``send_400_response``; and the attributes ``transport``,
``connections``, ``loop``, ``client``, ``cycle`` (``response_complete``, ``keep_alive``) and
``url``. Each refusal carries a request id (``X-Request-Id`` and the body) and gets an access line.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from atoll.server.accesslog import log_refusal, new_request_id
from atoll.server.coalesce import CoalescingTransport
from atoll.server.limits import REASONS, Limits, plain_body

log = logging.getLogger("atoll")

#: After a refusal, seconds to keep reading (and dropping) what the client still sends, so the
#: answer reaches it instead of being lost to a reset (nginx's lingering close).
LINGER_S = 2.0


class PendingBody:
    """Request-body chunks received but not yet taken by the app, in arrival order.

    uvicorn's cycle keeps them in a bytearray (one copy per chunk, and regrowth) and then copies
    that into the ASGI message with ``bytes(...)``. Set in its place, this object makes that
    ``bytes(...)`` the only copy: a join of the chunks, or none at all for a single chunk.
    A fresh one starts after each hand-over (uvicorn then puts back an empty bytearray)."""

    __slots__ = ("chunks", "size")

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0

    def add(self, chunk: bytes) -> None:
        self.chunks.append(chunk)
        self.size += len(chunk)

    def __len__(self) -> int:
        return self.size

    def __bytes__(self) -> bytes:
        if len(self.chunks) == 1:
            return self.chunks[0]
        return b"".join(self.chunks)


class _Refused(Exception):
    """Raised in a parser callback to stop parsing; uvicorn then calls send_400_response."""


def _answer(status: int, request_id: str) -> bytes:
    body = plain_body(status, request_id)
    return (f"HTTP/1.1 {status} {REASONS[status]}\r\ncontent-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\nx-request-id: {request_id}\r\nconnection: close\r\n\r\n"
            ).encode() + body


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """Set ``limits`` on a subclass (``protocol_class``); uvicorn makes one per connection."""

    limits: Limits

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_open = True  # waiting for (the rest of) a request head
        self._head_bytes = 0  # raw bytes fed while the head was open
        self._head_size = 0  # the head's size as parsed so far
        self._head_timer: asyncio.TimerHandle | None = None
        self._refusal: int | None = None

    # -- connection ------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # small writes of one loop turn (a response's head and body) go out as one send
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
        if len(self.connections) > self.limits.max_connections:
            log.warning("connection limit (%d) reached: 503", self.limits.max_connections)
            self._refuse(503)
            return
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refusal is not None:
            return
        if self._head_open:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._head_open and self._head_bytes > self.limits.max_header_bytes and self._refusal is None:
            self._refuse(431)

    def send_400_response(self, msg: str) -> None:
        if self._refusal is None:
            super().send_400_response(msg)
        else:
            self._refuse(self._refusal)

    # -- parser callbacks ------------------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_open = True
        self._head_size = 0
        if self._head_timer is None:
            self._arm_head_timer()

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.limits.max_header_line_bytes:
            self._refusal = 414
            raise _Refused

    def on_header(self, name: bytes, value: bytes) -> None:
        line = len(name) + len(value)
        self._head_size += line + 4
        if line > self.limits.max_header_line_bytes or (
            len(self.url) + self._head_size > self.limits.max_header_bytes
        ):
            self._refusal = 431
            raise _Refused
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._head_open = False
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._head_open = True
        self._head_bytes = 0

    def on_body(self, body: bytes) -> None:
        """uvicorn's, with the high-water mark ``body_buffer_bytes``: reading pauses once that
        many body bytes wait for the app (uvicorn: 64 KiB). The bytes wait as the chunks that
        arrived (``PendingBody``), joined once when the app takes them."""
        cycle = self.cycle
        if (self.parser.should_upgrade() and self._should_upgrade()) or cycle.response_complete:
            return
        pending: object = cycle.body
        if not isinstance(pending, PendingBody):
            pending = PendingBody()
            cycle.body = pending  # type: ignore[assignment]
        pending.add(body)
        if len(pending) > self.limits.body_buffer_bytes:
            self.flow.pause_reading()
        cycle.message_event.set()

    # -- limits ----------------------------------------------------------------------------
    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.limits.header_read_timeout_s, self._head_timeout)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _busy(self) -> bool:
        """A response on this connection is still being sent."""
        return self.cycle is not None and not self.cycle.response_complete

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self._head_open and self._refusal is None:
            self._refuse(408)

    def _refuse(self, status: int) -> None:
        """Answer ``status`` and close; after the response in progress if there is one."""
        self._refusal = status
        self._cancel_head_timer()
        if self.transport.is_closing():
            return
        if self._busy():
            self.cycle.keep_alive = False
            self.transport.pause_reading()
            return
        rid = new_request_id()
        log_refusal(status, self.client[0] if self.client else "-", rid)
        self.transport.write(_answer(status, rid))
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(LINGER_S, self.transport.close)
        else:
            self.transport.close()


def protocol_class(limits: Limits) -> type[LimitedHttpToolsProtocol]:
    """A protocol class for ``uvicorn.run(http=...)`` carrying these limits."""
    return type("AtollHttpToolsProtocol", (LimitedHttpToolsProtocol,), {"limits": limits})
