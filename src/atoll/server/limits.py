"""Connection limits in our own ASGI layer, the same on every server (docs/deployment.md).

``BodyLimits`` wraps ``receive`` while a request body is being read: the next piece must come
within ``body_read_timeout_s``, and the client may fall behind ``min_body_rate`` by at most
``body_rate_window_s`` seconds' worth of bytes (a credit that each piece refills and waiting
spends, capped at the window). Only time spent waiting for the client counts, never time the
endpoint spends storing bytes. A body that breaks either rule is cut off: the endpoint sees a
disconnect (so an upload aborts and stores nothing) and the client gets 408 with
``Connection: close``, unless a response had already started.

Header limits are enforced where the bytes arrive (``server/protocol.py`` on uvicorn; granian's
own buffer limit); ``header_lines`` here checks the parsed head line by line for servers whose
parser has no per-line limit.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atoll.config import Settings
from atoll.server.accesslog import request_id
from atoll.wire.errors import with_request_id

#: The answer's first line when a head breaks a limit, by status.
REASONS = {
    408: "Request Timeout",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class Limits:
    max_header_line_bytes: int
    max_header_bytes: int
    header_read_timeout_s: float
    body_read_timeout_s: float
    min_body_rate: int
    body_rate_window_s: float
    max_connections: int
    body_buffer_bytes: int = 64 * 1024

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            max_header_line_bytes=settings.max_header_line_bytes,
            max_header_bytes=settings.max_header_bytes,
            header_read_timeout_s=settings.header_read_timeout_s,
            body_read_timeout_s=settings.body_read_timeout_s,
            min_body_rate=settings.min_body_rate,
            body_rate_window_s=settings.body_rate_window_s,
            max_connections=settings.max_connections,
            body_buffer_bytes=settings.body_buffer_bytes,
        )


def header_violation(scope: Scope, limits: Limits) -> int | None:
    """414 or 431 when the parsed head breaks a per-line or total limit, else None."""
    target = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
    if target > limits.max_header_line_bytes:
        return 414
    total = target
    for name, value in scope["headers"]:
        line = len(name) + len(value)
        if line > limits.max_header_line_bytes:
            return 431
        total += line + 4
    return 431 if total > limits.max_header_bytes else None


def has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return value.strip() not in (b"0", b"")
        if name == b"transfer-encoding":
            return True
    return False


def plain_body(status: int, request_id: str = "") -> bytes:
    """``Request Timeout. (request id …)`` and a newline."""
    return (with_request_id(REASONS.get(status, "Error") + ".", request_id) + "\n").encode()


async def send_plain(send: Send, status: int, request_id: str = "") -> None:
    """A short text answer that also closes the connection (``AccessLog`` adds X-Request-Id)."""
    body = plain_body(status, request_id)
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]})
    await send({"type": "http.response.body", "body": body})


class _BodyGuard:
    """``receive``/``send`` for one request whose body is still coming.

    One lazily moved timer per request watches the waits (not one per piece: a timer armed and
    cancelled for every piece cost about 9 µs each, measured): each wait records its deadline,
    and the timer, when it fires, either cuts the wait that is past its deadline (cancelling the
    waiting task, which ``receive`` turns into a disconnect) or moves itself to the current one.
    """

    def __init__(self, receive: Receive, send: Send, limits: Limits) -> None:
        self._receive = receive
        self._send = send
        self._limits = limits
        self._loop = asyncio.get_running_loop()
        self._credit = float(limits.body_rate_window_s)
        self._done = False
        self._timer: asyncio.TimerHandle | None = None
        self._waiter: asyncio.Task[object] | None = None  # the task waiting in receive, if any
        self._deadline = 0.0  # when that wait must end
        self.cut = False
        self.started = False

    def _allowed(self) -> float:
        if self._limits.min_body_rate <= 0:
            return self._limits.body_read_timeout_s
        return max(0.0, min(self._limits.body_read_timeout_s, self._credit))

    def _arm(self) -> None:
        if self._timer is not None and self._timer.when() <= self._deadline:
            return  # it fires first and then moves itself to this deadline
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_at(self._deadline, self._fire)

    def _fire(self) -> None:
        self._timer = None
        if self._waiter is None:
            return  # not waiting for the client now: the next wait re-arms
        if self._loop.time() >= self._deadline:
            self.cut = True
            self._waiter.cancel()
        else:
            self._timer = self._loop.call_at(self._deadline, self._fire)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def receive(self) -> Message:
        if self.cut:
            return {"type": "http.disconnect"}
        if self._done:
            return await self._receive()
        began = self._loop.time()
        self._deadline = began + self._allowed()
        self._waiter = asyncio.current_task()
        self._arm()
        try:
            message = await self._receive()
        except asyncio.CancelledError:
            if not self.cut or self._waiter is None:
                raise
            self._waiter.uncancel()  # our own cut, not a cancellation from outside
            return {"type": "http.disconnect"}
        finally:
            self._waiter = None
        if message["type"] != "http.request":
            return message
        if not message.get("more_body", False):
            self._done = True
            self.close()
            return message
        if self._limits.min_body_rate > 0:
            earned = len(message.get("body", b"")) / self._limits.min_body_rate
            self._credit = min(float(self._limits.body_rate_window_s),
                               self._credit - (self._loop.time() - began) + earned)
            if self._credit <= 0:
                self.cut = True
                self.close()
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if self.cut:
            return  # the client gets 408 once the endpoint has given up
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


class BodyLimits:
    """ASGI middleware: body deadline and minimum rate; per-line header checks if asked."""

    def __init__(self, app: ASGIApp, limits: Limits, *, check_header_lines: bool = False) -> None:
        self.app = app
        self.limits = limits
        self.check_header_lines = check_header_lines

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.check_header_lines:
            status = header_violation(scope, self.limits)
            if status is not None:
                await send_plain(send, status, request_id(scope))
                return
        if not has_body(scope):
            await self.app(scope, receive, send)
            return
        guard = _BodyGuard(receive, send, self.limits)
        try:
            await self.app(scope, guard.receive, guard.send)
        except Exception:
            if not guard.cut:
                raise
        finally:
            guard.close()
        if guard.cut and not guard.started:
            await send_plain(send, 408, request_id(scope))
