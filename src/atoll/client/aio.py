"""``atoll.AsyncBase``: every method of ``atoll.Base``, same names and signatures, as coroutines
on ``httpx.AsyncClient``.

The methods are the very operations ``Base`` runs (``_core``, ``_files``): requests, parsing,
retries, resume and hashing are shared; only :class:`AsyncTransport`, which performs their I/O
effects with ``await``, is async. Local file reads and writes stay blocking (chunks of 256 KiB).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any, TypeVar, Unpack

import anyio
import httpx

from atoll.client._api import AsyncRunner
from atoll.client._core import Options, transport_options
from atoll.client._effects import Close, Effect, Exchange, Op, ReadAll, ReadChunk
from atoll.client._files import FileOps
from atoll.client._transport import Stepper, TransportState

R = TypeVar("R")


async def _chunks(content: Iterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in content:
        yield chunk


class AsyncTransport(TransportState):
    """Performs operations' effects on an ``httpx.AsyncClient`` (one per ``AsyncBase``)."""

    def __init__(
        self, server_url: str, timeout: float | None, retries: int, http: httpx.AsyncClient | None
    ) -> None:
        super().__init__(server_url, timeout, retries)
        self.own_http = http is None
        self.http = http if http is not None else httpx.AsyncClient(follow_redirects=False)
        self.sleep: Callable[[float], Awaitable[None]] = anyio.sleep

    async def aclose(self) -> None:
        if self.own_http:
            await self.http.aclose()

    async def run(self, op: Op[R]) -> R:
        async with self._abandoning():
            with Stepper(op) as stepper:
                for effect in stepper:
                    await stepper.asettle(self.perform, effect)
                return stepper.result

    @contextlib.asynccontextmanager
    async def _abandoning(self) -> AsyncIterator[None]:
        """Close the streamed responses an abandoned (failed, cancelled) operation left open."""
        try:
            yield
        finally:
            with anyio.CancelScope(shield=True):
                while self.open:
                    await self.open.pop().aclose()

    async def perform(self, effect: Effect) -> Any:
        if isinstance(effect, Exchange):
            content: Any = effect.content
            if content is not None and not isinstance(content, bytes):
                content = _chunks(content)
            request = self.build(self.http, effect, content)
            sent = await self.http.send(request, stream=effect.stream,
                                        follow_redirects=effect.follow_redirects)
            return self.opened(effect, sent)
        if isinstance(effect, ReadChunk):
            return await anext(effect.body.iterate(effect.body.response.aiter_bytes), b"")
        if isinstance(effect, ReadAll):
            return await effect.response.aread()
        if isinstance(effect, Close):
            await self.closing(effect).aclose()
        else:
            await self.sleep(effect.seconds)
        return None


class AsyncBase(AsyncRunner, FileOps):
    """``atoll.Base`` with ``async`` methods: ``async with AsyncBase(token, url) as base:
    await base.list_rows("Table1")``. Options as ``Base``'s; ``http`` is an
    ``httpx.AsyncClient``."""

    _transport: AsyncTransport

    def __init__(
        self,
        api_token: str,
        server_url: str,
        *,
        http: httpx.AsyncClient | None = None,
        **options: Unpack[Options],
    ) -> None:
        self._setup(
            api_token, AsyncTransport(**transport_options(server_url, options), http=http), options
        )

    def _run(self, op: Op[R]) -> Awaitable[R]:
        return self._transport.run(op)

    async def aclose(self) -> None:
        """Close the HTTP connection pool (only if this AsyncBase created it)."""
        await self._transport.aclose()

    #: ``Base.close``'s counterpart: ``await base.close()`` is ``await base.aclose()``.
    close = aclose

    async def __aenter__(self) -> AsyncBase:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
