"""Access log, request ids and the log format of ``atoll serve`` (docs/deployment.md, "Logs").

``AccessLog`` is a pure ASGI middleware, the outermost layer of the app (outside Starlette's
500 handler, so a 500 passes through it too). Per HTTP request it

* takes the client's ``X-Request-Id`` when it is sane (1-64 characters of ``A-Z a-z 0-9 . _ : = + -``)
  or makes a short random one, keeps it in the scope (``request_id(scope)``) and in a context
  variable (so every record logged while the request runs carries it), and sets it on the
  response as ``X-Request-Id``;
* counts the response body's bytes as they pass (an int add per message; bodies are never
  buffered) and the request body's bytes;
* logs one line on ``atoll.access`` when the app returns (after the last byte): client, method,
  route template, redacted query, status, bytes, duration, request id.

Nothing secret reaches the line: the path is the matched route's template
(``/seafhttp/files/{ticket}/{name}``), an unmatched path has tickets and JWT-like segments
replaced, query parameters whose name looks like a credential (``token``, ``key``, ``secret``,
``sig``, ``ticket``, ``pass``, ``auth``, ``cred``) or whose value looks like a JWT are replaced,
and no header is logged at all (so neither ``Authorization`` nor cookies).
"""

from __future__ import annotations

import json
import logging
import random
import re
import sys
import time
import traceback
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atoll.server.signals import on_stop_signal

access_log = logging.getLogger("atoll.access")
log = logging.getLogger("atoll")

#: Where the request id lives in the ASGI scope.
SCOPE_KEY = "atoll.request_id"
HEADER = b"x-request-id"
_SAFE_ID = re.compile(rb"[A-Za-z0-9._:=+-]{1,64}")
#: The query string is cut to this many characters in a log line.
MAX_QUERY_CHARS = 512
REDACTED = "<redacted>"

_SECRET_NAME = re.compile(r"token|key|secret|sig|ticket|pass|auth|cred", re.IGNORECASE)
#: Three base64url segments: a JWT (access tokens and link tickets are JWTs).
_JWT = re.compile(r"[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
_TICKET_IN_PATH = re.compile(r"^(/seafhttp/(?:files|upload-api)/)[^/]+")
#: Characters left as they are when a path or query goes into a line (no spaces, no controls).
_PATH_SAFE = "/<>{}:@!$&'()*+,;=-._~"

_current: ContextVar[str] = ContextVar("atoll_request_id", default="")


def new_request_id() -> str:
    """12 hex digits: short enough to read out, unique enough to find one request in a log."""
    return f"{random.getrandbits(48):012x}"


def accept_request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's (or proxy's) ``X-Request-Id`` when it is sane, else a new one."""
    for name, value in headers:
        if name == HEADER:
            if _SAFE_ID.fullmatch(value):
                return value.decode("ascii")
            break
    return new_request_id()


def request_id(scope: Scope) -> str:
    """This request's id (empty outside ``AccessLog``)."""
    return str(scope.get(SCOPE_KEY, ""))


def current_request_id() -> str:
    """The id of the request being served by this task or thread ("" if none)."""
    return _current.get()


def loggable_path(path: str) -> str:
    """The request path with any link ticket replaced, so logs never hold a capability."""
    return _TICKET_IN_PATH.sub(r"\1<ticket>", path)


def redact_path(path: str) -> str:
    """An unmatched path for a log line: tickets and JWT-like segments out, controls escaped."""
    return quote(_JWT.sub(REDACTED, loggable_path(path)), safe=_PATH_SAFE)


def redact_query(raw: bytes) -> str:
    """The query string for a log line, with credentials replaced and cut to MAX_QUERY_CHARS."""
    if not raw:
        return ""
    parts = []
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if _SECRET_NAME.search(name) or _JWT.search(value):
            value = REDACTED
        parts.append(quote(name, safe=_PATH_SAFE) + "=" + quote(value, safe=_PATH_SAFE))
    text = "&".join(parts)
    return text if len(text) <= MAX_QUERY_CHARS else text[:MAX_QUERY_CHARS] + "..."


def route_path(scope: Scope) -> str:
    """The matched route's template, else the redacted raw path."""
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    if isinstance(template, str):
        return template
    return redact_path(str(scope.get("path", "")))


@dataclass
class Traffic:
    """Requests of one app: counted by ``AccessLog``, reported at shutdown."""

    in_flight: int = 0
    served: int = 0
    #: Requests in flight when the first SIGTERM/SIGINT arrived (None: no signal seen).
    in_flight_at_signal: int | None = None

    def stopped_line(self) -> str:
        drained = self.in_flight_at_signal if self.in_flight_at_signal is not None else 0
        line = (f"atoll stopped: drained {drained} request(s) in flight, "
                f"served {self.served} since start")
        if self.in_flight:
            line += f", {self.in_flight} cut off"
        return line


def watch_shutdown(traffic: Traffic) -> Callable[[], None]:
    """Note how many requests are in flight when the server is told to stop; returns an undo.

    Chains onto the handler the server installed for SIGTERM and SIGINT (uvicorn's
    ``handle_exit``; asyncio's no-op on granian's worker, whose loop still gets the signal), so
    the server's own shutdown is unchanged. Does nothing off the main thread (test clients).
    """

    def hear() -> None:
        if traffic.in_flight_at_signal is None:
            traffic.in_flight_at_signal = traffic.in_flight

    return on_stop_signal(hear)


class _Exchange:
    __slots__ = ("complete", "headers", "received", "sent", "status")

    def __init__(self) -> None:
        self.status = 0
        self.sent = 0
        self.received = 0
        self.complete = False
        self.headers: list[tuple[bytes, bytes]] = []


def _content_length(headers: list[tuple[bytes, bytes]]) -> int:
    for name, value in headers:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


class AccessLog:
    """ASGI middleware: request id, ``X-Request-Id`` on every response, one access line each."""

    def __init__(self, app: ASGIApp, traffic: Traffic) -> None:
        self.app = app
        self.traffic = traffic

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = accept_request_id(scope["headers"])
        scope[SCOPE_KEY] = rid
        token = _current.set(rid)
        rid_header = (HEADER, rid.encode("ascii"))
        ex = _Exchange()

        async def counting_receive() -> Message:
            message = await receive()
            body = message.get("body")
            if body:
                ex.received += len(body)
            return message

        async def tagging_send(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.body":
                ex.sent += len(message.get("body", b""))
                if not message.get("more_body", False):
                    ex.complete = True
            elif kind == "http.response.start":
                ex.status = message["status"]
                ex.headers = [*message.get("headers", ()), rid_header]
                message = {**message, "headers": ex.headers}
            elif kind == "http.response.pathsend":
                ex.sent += _content_length(ex.headers)
                ex.complete = True
            await send(message)

        traffic = self.traffic
        traffic.in_flight += 1
        began = time.perf_counter()
        try:
            await self.app(scope, counting_receive, tagging_send)
        finally:
            elapsed = time.perf_counter() - began
            traffic.in_flight -= 1
            traffic.served += 1
            _current.reset(token)
            if access_log.isEnabledFor(logging.INFO):
                _log_access(scope, rid, ex, elapsed)


def _log_access(scope: Scope, rid: str, ex: _Exchange, elapsed: float) -> None:
    client = scope.get("client")
    fields: dict[str, Any] = {
        "client": client[0] if client else "-",
        "method": scope.get("method", "-"),
        "path": route_path(scope),
        "query": redact_query(scope.get("query_string", b"")),
        "status": ex.status,
        "bytes": ex.sent,
        "bytes_in": ex.received,
        "duration_ms": round(elapsed * 1000, 1),
        "complete": ex.complete,
        "request_id": rid,
    }
    _emit("%s %s %s", (fields["method"], fields["path"], ex.status), fields)


def _emit(msg: str, args: tuple[Any, ...], fields: dict[str, Any]) -> None:
    """``access_log.info(msg, *args, extra={"access": fields})`` without the caller lookup."""
    record = logging.LogRecord(access_log.name, logging.INFO, __file__, 0, msg, args, None)
    record.access = fields
    access_log.handle(record)


def log_refusal(status: int, peer: str, rid: str) -> None:
    """The access line for a request refused before it reached the app (head limits)."""
    if access_log.isEnabledFor(logging.INFO):
        _emit("- - %s", (status,), {
            "client": peer, "method": "-", "path": "-", "query": "", "status": status,
            "bytes": 0, "bytes_in": 0, "duration_ms": 0.0, "complete": True,
            "request_id": rid,
        })


# -- formatting ---------------------------------------------------------------------------------
_second: list[Any] = [-1, ""]  # the last whole second formatted, and its text


def _timestamp(record: logging.LogRecord) -> str:
    """ISO 8601 UTC with milliseconds; the seconds part is formatted once per second."""
    second = int(record.created)
    if second != _second[0]:
        _second[:] = [second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))]
    return f"{_second[1]}.{int(record.msecs):03d}Z"


def _access_text(fields: dict[str, Any]) -> str:
    path = fields["path"] + ("?" + fields["query"] if fields["query"] else "")
    line = (f"{fields['client']} {fields['method']} {path} {fields['status']} {fields['bytes']}B "
            f"{fields['duration_ms']}ms rid={fields['request_id']}")
    if fields["bytes_in"]:
        line += f" in={fields['bytes_in']}B"
    if not fields["complete"]:
        line += " incomplete"
    return line


def _one_line(text: str) -> str:
    """A message for a text line: newlines and other controls escaped (no forged lines)."""
    if text.isprintable():
        return text
    return text.encode("unicode_escape").decode("ascii")


class TextFormatter(logging.Formatter):
    """``2025-06-01T12:00:00.123Z 127.0.0.1 GET /api2/ping/ 200 6B 0.4ms rid=…`` for access
    lines, ``<time> WARNING atoll: <message> rid=…`` for the rest (traceback on the next lines)."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "access", None)
        if isinstance(fields, dict):
            return _timestamp(record) + " " + _access_text(fields)
        rid = _current.get()
        line = (f"{_timestamp(record)} {record.levelname} {record.name}: "
                f"{_one_line(record.getMessage())}" + (f" rid={rid}" if rid else ""))
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, and for access lines
    client, method, path, query, status, bytes, bytes_in, duration_ms, complete; ``exc`` holds a
    traceback."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, "access", None)
        if isinstance(fields, dict):
            out["message"] = "access"
            out.update(fields)
        else:
            out["message"] = record.getMessage()
            rid = _current.get()
            if rid:
                out["request_id"] = rid
        if record.exc_info:
            out["exc"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(out, ensure_ascii=True, default=str)


_HANDLER_MARK = "_atoll_handler"


def configure_logging(log_format: str, level: str) -> None:
    """One stderr handler on the root logger with the chosen format; idempotent.

    ``atoll`` loggers log from ``level``; other libraries (uvicorn, granian, boto) from
    ``warning`` or ``level`` if that is higher, through the same handler.
    """
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, _HANDLER_MARK, False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        setattr(handler, _HANDLER_MARK, True)
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    # Neither format shows thread or process names: skip looking them up for every record.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    numeric = logging.getLevelName(level.upper())
    logging.getLogger("atoll").setLevel(numeric)
    root.setLevel(max(numeric, logging.WARNING))
