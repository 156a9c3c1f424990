"""socket.io for live updates (docs/live-updates.md), served by the same ASGI app.

The official client connects to ``/api-gateway/socket.io/`` (seatable-api 4.x) or
``/socket.io/`` (2.x) and emits ``join-room`` with ``(dtable_uuid, access_token)``. A token that
verifies as the rest of the server checks it (``services.access``) and names that base joins
the base's room; anything else joins nothing (the ack, if asked for, says why). The poller
(``services.events``) sends each base's events to its room.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import socketio
from starlette.types import ASGIApp, Receive, Scope, Send

from atoll.db.events import StoredEvent
from atoll.errors import AtollError
from atoll.server.live_eio3 import Eio3, is_eio3
from atoll.server.signals import on_stop_signal
from atoll.services import access
from atoll.services.context import Context
from atoll.services.events import EventPoller, prune_periodically
from atoll.wire import live as w

log = logging.getLogger("atoll.live")

#: Where clients connect: seatable-api 4.x, then 2.x (python-socketio's default path).
SOCKET_IO_PATHS = ("api-gateway/socket.io", "socket.io")
#: The longest dtable uuid or token ``join-room`` looks at (anything longer joins nothing).
MAX_JOIN_ARG_CHARS = 4096


class LiveUpdates:
    """The socket.io server and the event poller of one server process."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*",
                                        logger=False, engineio_logger=False)
        self.mounts = [socketio.ASGIApp(self.sio, socketio_path=path) for path in SOCKET_IO_PATHS]
        interval = max(ctx.settings.live_poll_interval_ms, 1) / 1000
        self.poller = EventPoller(ctx, self.deliver, interval=interval)
        self._running = False
        self._starting = asyncio.Lock()
        self._poll: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._unwatch: Callable[[], None] = lambda: None
        self.sio.on(w.JOIN_ROOM, self.join_room)
        #: seatable-api 2.x's Engine.IO 3 long-polling (``server.live_eio3``).
        self.eio3 = Eio3(self.check_join)

    async def join_room(self, sid: str, dtable_uuid: Any = None, token: Any = None,
                        *_: Any) -> dict[str, Any]:
        """Join the base's room if ``token`` is an access token of that base."""
        ack, room = await self.check_join(sid, dtable_uuid, token)
        if room is not None:
            await self.sio.enter_room(sid, room)
        return ack

    async def check_join(self, sid: str, dtable_uuid: Any, token: Any) -> tuple[dict[str, Any], str | None]:
        """(the ack, the room to join or None) for ``join-room`` with these arguments."""
        if not (isinstance(dtable_uuid, str) and isinstance(token, str)) or max(
                len(dtable_uuid), len(token)) > MAX_JOIN_ARG_CHARS:
            return _refused("join-room expects (dtable_uuid, access_token)."), None
        try:
            principal = await access.authenticate_access_token(self.ctx, token)
            access.require_base(principal, dtable_uuid)
        except AtollError as exc:
            log.info("live updates: join-room refused for %s: %s", sid, exc)
            return _refused(str(exc) or type(exc).__name__), None
        await self._ensure_polling()  # before joining: no event after the join is missed
        return {"success": True}, principal.dtable.uuid

    async def deliver(self, event: StoredEvent) -> None:
        self.eio3.emit(event.dtable_uuid, event.event, event.payload, event.id)
        await self.sio.emit(event.event, (event.payload, event.id), room=event.dtable_uuid)

    async def start(self) -> None:
        """At start-up: the pruner. The poller starts with the first listener (``join_room``)."""
        self._running = True
        self._tasks.append(asyncio.create_task(prune_periodically(self.ctx), name="atoll-live-prune"))
        self._unwatch = _on_stop_signal(asyncio.get_running_loop(), self.close_sockets)

    async def close_sockets(self) -> None:
        """Close every socket now: the server's graceful stop would otherwise wait for each
        long-polling request to time out (tens of seconds). Clients reconnect elsewhere."""
        self.eio3.close_all()
        with contextlib.suppress(Exception):
            await self.sio.eio.disconnect()

    async def _ensure_polling(self) -> None:
        async with self._starting:
            if self._running and self._poll is None and self.ctx.settings.live_updates:
                await self.poller.start_from_now()
                self._poll = asyncio.create_task(self.poller.run(), name="atoll-live-poller")
                self._tasks.append(self._poll)

    async def stop(self) -> None:
        self._running = False
        self._unwatch()
        await self.close_sockets()
        await self.sio.shutdown()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self._poll = None


def _on_stop_signal(loop: asyncio.AbstractEventLoop, stopping: Callable[[], Any]) -> Callable[[], None]:
    """Run the coroutine function ``stopping`` on ``loop`` when SIGTERM or SIGINT arrives
    (``signals.on_stop_signal``); returns an undo."""

    def hear() -> None:
        loop.call_soon_threadsafe(lambda: loop.create_task(stopping()))

    return on_stop_signal(hear)


def _refused(message: str) -> dict[str, Any]:
    return {"success": False, "error_message": message}


class LiveMount:
    """ASGI middleware: socket.io's paths go to the socket.io server, the rest to ``app``."""

    def __init__(self, app: ASGIApp, live: LiveUpdates) -> None:
        self.app = app
        self.live = live

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.live.ctx.settings.live_updates:
            path = scope["path"]
            for prefix, mount in zip(SOCKET_IO_PATHS, self.live.mounts, strict=True):
                if path.startswith(f"/{prefix}/") or path == f"/{prefix}":
                    if scope["type"] == "http" and is_eio3(scope):
                        await self.live.eio3(scope, receive, send)
                    else:
                        await mount(scope, receive, send)
                    return
        await self.app(scope, receive, send)
