"""Engine.IO 3 long-polling for seatable-api 2.x (python-socketio 4 / python-engineio 3).

python-socketio 5 serves Engine.IO 4 only; the 2.6.11 client speaks protocol 3 and polls
``/socket.io/?EIO=3&transport=polling``. This module serves just what that client uses: the
open handshake (no upgrades), client pings, ``join-room`` (same check as ``server.live``), and
the events of the joined base. Binary payload framing as python-engineio 3 writes it.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from starlette.types import Receive, Scope, Send

#: Announced to the client: it pings this often, and gives up after this long without a pong.
PING_INTERVAL_MS = 25_000
PING_TIMEOUT_MS = 60_000
#: A GET with nothing to send is answered with a no-op after this long (below the client's
#: read timeout: max(interval, timeout) + 5 s).
HOLD_S = 25.0
#: A session not polled for this long is dropped (the client is gone).
IDLE_S = (PING_INTERVAL_MS + PING_TIMEOUT_MS) / 1000
#: Packets queued for one session at most; a client that falls this far behind is dropped.
MAX_QUEUED = 1000
#: Sessions at most, and the largest POST body read.
MAX_SESSIONS = 10_000
MAX_POST_BYTES = 64 * 1024

OPEN, CLOSE, PING, PONG, MESSAGE, NOOP = "0", "1", "2", "3", "4", "6"
SIO_CONNECT, SIO_EVENT, SIO_ACK = "0", "2", "3"

Join = Callable[[str, Any, Any], Awaitable[tuple[dict[str, Any], str | None]]]


@dataclass
class Session:
    sid: str
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    room: str | None = None
    seen: float = field(default_factory=time.monotonic)
    closed: bool = False

    def put(self, packet: str) -> bool:
        if self.queue.qsize() >= MAX_QUEUED:
            return False
        self.queue.put_nowait(packet)
        return True


def is_eio3(scope: Scope) -> bool:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return query.get("EIO") == ["3"]


def encode_payload(packets: list[str]) -> bytes:
    """python-engineio 3's binary framing: 0x00, the length's decimal digits as bytes, 0xff."""
    out = bytearray()
    for text in packets:
        data = text.encode()
        out += b"\x00" + bytes(int(d) for d in str(len(data))) + b"\xff" + data
    return bytes(out)


def decode_payload(body: bytes) -> list[str]:
    """Binary framing (above) or text framing (``<chars>:<packet>``)."""
    packets: list[str] = []
    if body[:1] in (b"\x00", b"\x01"):
        i = 0
        while i < len(body):
            i += 1
            length = 0
            while i < len(body) and body[i] != 0xFF:
                length = length * 10 + body[i]
                i += 1
            if i + 1 + length > len(body):
                raise ValueError("a packet is longer than the payload")
            packets.append(body[i + 1 : i + 1 + length].decode())
            i += 1 + length
        return packets
    text = body.decode()
    while text:
        colon = text.index(":")
        length = int(text[:colon])
        if colon + 1 + length > len(text):
            raise ValueError("a packet is longer than the payload")
        packets.append(text[colon + 1 : colon + 1 + length])
        text = text[colon + 1 + length :]
    return packets


class Eio3:
    """The sessions of Engine.IO 3 clients in one server process."""

    def __init__(self, join: Join) -> None:
        self.join = join
        self.sessions: dict[str, Session] = {}

    def emit(self, room: str, event: str, *args: Any) -> None:
        packet = MESSAGE + SIO_EVENT + json.dumps([event, *args], separators=(",", ":"))
        for session in list(self.sessions.values()):
            if session.room == room and not session.put(packet):
                self._drop(session)

    def close_all(self) -> None:
        for session in list(self.sessions.values()):
            session.put(CLOSE)
            session.closed = True

    def _drop(self, session: Session) -> None:
        session.closed = True
        self.sessions.pop(session.sid, None)

    def _reap(self) -> None:
        now = time.monotonic()
        for session in list(self.sessions.values()):
            if now - session.seen > IDLE_S:
                self._drop(session)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._reap()
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if query.get("transport") != ["polling"]:
            await _respond(send, 400, b"Engine.IO 3: only the polling transport is served")
            return
        sid = query.get("sid", [None])[0]
        method = scope.get("method", "GET")
        if sid is None:
            if method != "GET" or len(self.sessions) >= MAX_SESSIONS:
                await _respond(send, 400, b"Engine.IO 3: cannot open a session")
                return
            await self._open(send)
            return
        session = self.sessions.get(sid)
        if session is None or session.closed:
            await _respond(send, 400, b"Engine.IO 3: unknown session")
            return
        session.seen = time.monotonic()
        if method == "GET":
            await self._poll(session, send)
        elif method == "POST":
            await self._post(session, receive, send)
        else:
            await _respond(send, 405, b"method not allowed")

    async def _open(self, send: Send) -> None:
        session = Session(secrets.token_urlsafe(15))
        self.sessions[session.sid] = session
        handshake = {"sid": session.sid, "upgrades": [], "pingInterval": PING_INTERVAL_MS,
                     "pingTimeout": PING_TIMEOUT_MS}
        await _respond(send, 200, encode_payload([OPEN + json.dumps(handshake), MESSAGE + SIO_CONNECT]),
                       binary=True)

    async def _poll(self, session: Session, send: Send) -> None:
        try:
            first = await asyncio.wait_for(session.queue.get(), HOLD_S)
        except TimeoutError:
            first = NOOP
        packets = [first]
        while not session.queue.empty() and len(packets) < MAX_QUEUED:
            packets.append(session.queue.get_nowait())
        if CLOSE in packets:
            self._drop(session)
        session.seen = time.monotonic()
        await _respond(send, 200, encode_payload(packets), binary=True)

    async def _post(self, session: Session, receive: Receive, send: Send) -> None:
        body = bytearray()
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_POST_BYTES:
                await _respond(send, 413, b"payload too large")
                return
        try:
            packets = decode_payload(bytes(body))
        except (ValueError, UnicodeDecodeError):
            await _respond(send, 400, b"Engine.IO 3: bad payload")
            return
        for packet in packets:
            await self._packet(session, packet)
        await _respond(send, 200, b"ok")

    async def _packet(self, session: Session, packet: str) -> None:
        kind, data = packet[:1], packet[1:]
        if kind == PING:
            session.put(PONG + data)
        elif kind == CLOSE:
            self._drop(session)
        elif kind == MESSAGE and data[:1] == SIO_EVENT:
            body = data[1:]
            digits = len(body) - len(body.lstrip("0123456789"))
            ack_id, body = body[:digits], body[digits:]
            try:
                call = json.loads(body)
            except (ValueError, RecursionError):  # not JSON, or nested past the decoder's depth
                return
            if not isinstance(call, list) or not call or call[0] != "join-room":
                return
            args = call[1:]
            ack, room = await self.join(session.sid, *[*args, None, None][:2])
            if room is not None:
                session.room = room
            if ack_id:
                session.put(MESSAGE + SIO_ACK + ack_id + json.dumps([ack], separators=(",", ":")))


async def _respond(send: Send, status: int, body: bytes, *, binary: bool = False) -> None:
    content_type = b"application/octet-stream" if binary else b"text/plain; charset=UTF-8"
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
