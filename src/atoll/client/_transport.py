"""The moving of bytes for ``atoll.Base``: a :class:`Transport` (held by ``Base``, not inherited)
owns the ``httpx.Client`` and performs the effects (``_effects``) an operation yields; what to
send, retries and resume are the operations' (``_flows``, ``_download``, ``_resumable``), shared
with ``AsyncBase``, whose ``aio.AsyncTransport`` performs the same effects on ``httpx.AsyncClient``.
:class:`TransportState` is what both transports hold: the server URL, the default timeout, the
retry policy. Credentials and the re-``auth()`` on an expired base token are the operations'."""

from __future__ import annotations

import contextlib
import enum
import io
import os
import stat
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import IO, Any, Generic, Literal, TypeVar

import httpx

from atoll.client import _requests as rq
from atoll.client._effects import Close, Effect, Exchange, Op, ReadAll, ReadChunk
from atoll.client.exceptions import TransferError, TransferTimeoutError

T = TypeVar("T")

Progress = Callable[[int, int | None], None]
ByteSource = bytes | bytearray | memoryview | IO[bytes] | Iterable[bytes]


class _Default(enum.Enum):
    TOKEN = 0


DEFAULT = _Default.TOKEN
TimeoutArg = float | None | Literal[_Default.TOKEN]

CONNECT_PHASE = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class StatusRetry(Exception):
    def __init__(self, status: int, content: bytes, retry_after: float | None) -> None:
        super().__init__(status)
        self.status = status
        self.content = content
        self.retry_after = retry_after


class Incomplete(Exception):
    """The body ended before Content-Length bytes (or the source changed size mid-upload)."""


def _where(exc: BaseException, server_url: str) -> str:
    """The URL to name in a message: the server URL the caller gave, or the origin of another
    host (a file server); never the path or query (a link's path carries its ticket)."""
    request = getattr(exc, "_request", None)
    if not isinstance(request, httpx.Request):
        return server_url
    url = str(request.url)
    if url == server_url or url.startswith(server_url + "/"):
        return server_url
    return f"{request.url.scheme}://{request.url.netloc.decode('ascii', 'replace')}"


def transfer_error(exc: BaseException, server_url: str) -> TransferError:
    detail = str(exc) or type(exc).__name__
    where = _where(exc, server_url)
    if isinstance(exc, httpx.ConnectTimeout):
        return TransferTimeoutError(f"timed out connecting to {where}: {detail}")
    if isinstance(exc, httpx.TimeoutException):
        return TransferTimeoutError(f"timed out talking to {where}: {detail}")
    if isinstance(exc, httpx.ConnectError):
        return TransferError(f"cannot connect to {where}: {detail}")
    return TransferError(f"transfer from/to {where} failed: {detail}")


class UploadSource:
    """Bytes, a binary file object or an iterator of bytes, read in chunks.

    ``size`` is known for bytes, regular files and seekable streams (then the body gets a
    Content-Length and can be re-sent on retry); iterators are sent chunked, once.
    """

    def __init__(self, content: ByteSource) -> None:
        self._bytes: memoryview | None = None
        self._file: IO[bytes] | None = None
        self._iter: Iterable[bytes] | None = None
        self._start = 0
        self.size: int | None = None
        self.started = False
        if isinstance(content, str):
            raise TypeError("content must be bytes, a binary file object or an iterator of bytes")
        if isinstance(content, (bytes, bytearray, memoryview)):
            self._bytes = memoryview(content).cast("B")
            self.size = self._bytes.nbytes
        elif hasattr(content, "read"):
            f: IO[bytes] = content  # type: ignore[assignment]
            if isinstance(f, io.TextIOBase):
                raise TypeError("file object must be opened in binary mode ('rb')")
            self._file = f
            self._measure(f)
        elif isinstance(content, Iterable):
            self._iter = content
        else:
            raise TypeError(f"cannot upload content of type {type(content).__name__}")

    def _measure(self, f: IO[bytes]) -> None:
        try:
            if not f.seekable():
                return
            self._start = f.tell()
            try:
                st = os.fstat(f.fileno())
                if stat.S_ISREG(st.st_mode) and st.st_size >= self._start:
                    self.size = st.st_size - self._start
                    return
            except (OSError, ValueError, io.UnsupportedOperation):
                pass
            end = f.seek(0, io.SEEK_END)
            f.seek(self._start)
            self.size = end - self._start
        except (OSError, ValueError, io.UnsupportedOperation):
            self.size = None

    @property
    def rewindable(self) -> bool:
        return self._bytes is not None or (self._file is not None and self.size is not None)

    def can_restart(self) -> bool:
        return self.rewindable or not self.started

    def chunks(self) -> Iterator[bytes]:
        if self.started and self._file is not None and self.size is not None:
            self._file.seek(self._start)
        self.started = True
        if self._bytes is not None:
            for i in range(0, self._bytes.nbytes, rq.CHUNK_SIZE):
                yield bytes(self._bytes[i : i + rq.CHUNK_SIZE])
        elif self._file is not None:
            remaining = self.size
            while remaining is None or remaining > 0:
                n = rq.CHUNK_SIZE if remaining is None else min(rq.CHUNK_SIZE, remaining)
                chunk = self._file.read(n)
                if not chunk:
                    if remaining:
                        raise Incomplete(f"file shrank while uploading ({remaining} bytes short)")
                    return
                if not isinstance(chunk, (bytes, bytearray)):
                    raise TypeError("file object must be opened in binary mode ('rb')")
                if remaining is not None:
                    remaining -= len(chunk)
                yield bytes(chunk)
        else:
            assert self._iter is not None
            for chunk in self._iter:
                if not isinstance(chunk, (bytes, bytearray, memoryview)):
                    raise TypeError("an upload iterator must yield bytes")
                if chunk:
                    yield bytes(chunk)




class TransportState:
    """What the sync and the async transport share: the server URL errors name, the default
    timeout, the retry policy, and whether the server has answered yet."""

    def __init__(self, server_url: str, timeout: float | None, retries: int) -> None:
        self.server_url = server_url
        self.timeout = timeout
        self.retries = retries
        self.retry = rq.RetryPolicy(retries=retries)
        #: Set once any server answered: before that, a refused connection is not retried (a
        #: wrong URL or a stopped server fails at once instead of after seconds of backoff).
        self.reached = False
        #: Seconds since some epoch; resumable uploads measure their patience with it.
        self.clock: Callable[[], float] = time.monotonic
        #: Streamed responses not closed yet: closed by the driver if an operation is abandoned.
        self.open: set[httpx.Response] = set()

    def httpx_timeout(self, timeout: TimeoutArg) -> httpx.Timeout:
        return httpx.Timeout(self.timeout if timeout is DEFAULT else timeout)

    @staticmethod
    def build(http: httpx.Client | httpx.AsyncClient, effect: Exchange, content: Any) -> httpx.Request:
        """The request of an ``Exchange`` (``content`` as the client can send it)."""
        return http.build_request(
            effect.method, effect.url, params=effect.params, headers=effect.headers,
            content=content, timeout=effect.timeout,
        )

    def opened(self, effect: Exchange, response: httpx.Response) -> httpx.Response:
        """Note a streamed response, to close it if the operation is abandoned."""
        if effect.stream:
            self.open.add(response)
        return response

    def closing(self, effect: Close) -> httpx.Response:
        self.open.discard(effect.response)
        return effect.response


class Stepper(Generic[T]):
    """Drives one operation: iterating it gives its effects; ``settle`` hands it each one's
    result (or exception); ``result`` is its return value. Leaving the ``with`` closes it."""

    def __init__(self, op: Op[T]) -> None:
        self.op = op
        self.result: T
        self._value: Any = None
        self._error: Exception | None = None

    def __enter__(self) -> Stepper[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.op.close()

    def __iter__(self) -> Iterator[Effect]:
        while True:
            try:
                if self._error is not None:
                    error, self._error = self._error, None
                    effect = self.op.throw(error)
                else:
                    effect = self.op.send(self._value)
            except StopIteration as stop:
                self.result = stop.value
                return
            self._value = None
            yield effect

    def settle(self, perform: Callable[[Effect], Any], effect: Effect) -> None:
        try:
            self._value = perform(effect)
        except Exception as exc:  # the operation sees it at its ``yield``
            self._error = exc

    async def asettle(self, perform: Callable[[Effect], Awaitable[Any]], effect: Effect) -> None:
        try:
            self._value = await perform(effect)
        except Exception as exc:
            self._error = exc


class Transport(TransportState):
    """Performs operations' effects on an ``httpx.Client`` (one per ``atoll.Base``)."""

    def __init__(
        self, server_url: str, *, timeout: float | None, retries: int, http: httpx.Client | None
    ) -> None:
        super().__init__(server_url, timeout=timeout, retries=retries)
        self.own_http = http is None
        self.http = http if http is not None else httpx.Client(follow_redirects=False)
        self.sleep: Callable[[float], None] = time.sleep

    def close(self) -> None:
        """Close the connection pool, if this transport created it."""
        if self.own_http:
            self.http.close()

    def run(self, op: Op[T]) -> T:
        """Run an operation to its end; its return value (or its exception)."""
        with Stepper(op) as stepper, self._abandoning():
            for effect in stepper:
                stepper.settle(self.perform, effect)
            return stepper.result

    @contextlib.contextmanager
    def _abandoning(self) -> Iterator[None]:
        try:
            yield
        finally:
            while self.open:
                self.open.pop().close()

    def perform(self, effect: Effect) -> Any:
        if isinstance(effect, Exchange):
            request = self.build(self.http, effect, effect.content)
            sent = self.http.send(request, stream=effect.stream, follow_redirects=effect.follow_redirects)
            return self.opened(effect, sent)
        if isinstance(effect, ReadChunk):
            return next(effect.body.iterate(effect.body.response.iter_bytes), b"")
        if isinstance(effect, ReadAll):
            return effect.response.read()
        if isinstance(effect, Close):
            self.closing(effect).close()
            return None
        self.sleep(effect.seconds)
        return None
