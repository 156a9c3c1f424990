"""``atoll.AsyncBase``: every method of ``atoll.Base``, same names and signatures, as coroutines
on ``httpx.AsyncClient``.

The methods are the very operations ``Base`` runs (``_core``, ``_files``): requests, parsing,
retries, resume and hashing are shared; only :class:`AsyncTransport`, which performs their I/O
effects with ``await``, is async. Local file reads and writes stay blocking (chunks of 256 KiB).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any, TypeVar, Unpack

import anyio
import httpx

from atoll.client import _requests as rq
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
        stepper = Stepper(op)
        try:
            while (effect := stepper.next()) is not None:
                try:
                    stepper.deliver(await self.perform(effect))
                except Exception as exc:
                    stepper.fail(exc)
            result: R = stepper.result
            return result
        finally:
            op.close()
            with anyio.CancelScope(shield=True):
                while self.open:
                    await self.open.pop().aclose()

    async def perform(self, effect: Effect) -> Any:
        if isinstance(effect, Exchange):
            content = effect.content
            request = self.http.build_request(
                effect.method, effect.url, params=effect.params, headers=effect.headers,
                content=content if content is None or isinstance(content, bytes) else _chunks(content),
                timeout=effect.timeout,
            )
            response = await self.http.send(
                request, stream=effect.stream, follow_redirects=effect.follow_redirects
            )
            if effect.stream:
                self.open.add(response)
            return response
        if isinstance(effect, ReadChunk):
            if effect.body.chunks is None:
                effect.body.chunks = effect.body.response.aiter_bytes(rq.CHUNK_SIZE)
            return await anext(effect.body.chunks, b"")
        if isinstance(effect, ReadAll):
            return await effect.response.aread()
        if isinstance(effect, Close):
            self.open.discard(effect.response)
            await effect.response.aclose()
            return None
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
