"""What an SDK operation asks of its driver: the few I/O steps ``Base`` and ``AsyncBase`` share.

Every operation (a JSON call, an upload, a download, a resumable upload with its retries) is
written once, as a generator that ``yield``s these effects and gets each one's result back
(or the ``httpx`` exception it raised, thrown in at the ``yield``). ``_transport.Transport``
performs them on an ``httpx.Client``, ``aio.AsyncTransport`` on an ``httpx.AsyncClient``; the
logic in between (retries, backoff, resume, hashing, parsing) is the same code for both.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from atoll.client._requests import CHUNK_SIZE

R = TypeVar("R")

#: An operation: yields effects, receives their results, returns ``R``.
Op = Generator["Effect", Any, R]


@dataclass(frozen=True)
class Exchange:
    """Send one request. The result is the ``httpx.Response``: with ``stream=False`` its body
    is read; with ``stream=True`` read it with :class:`ReadChunk` and :class:`Close` it.
    ``content`` may be an iterator of bytes (the async driver reads it chunk by chunk)."""

    method: str
    url: str
    timeout: httpx.Timeout
    headers: dict[str, str] | None = None
    params: tuple[tuple[str, str], ...] | None = None
    content: bytes | Iterator[bytes] | None = None
    stream: bool = False
    follow_redirects: bool = False


class Body:
    """The body of a streamed response, read chunk by chunk (the driver keeps its iterator)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.chunks: Any = None

    def iterate(self, chunks: Callable[[int], Any]) -> Any:
        """The iterator over the body: made once, by ``chunks(CHUNK_SIZE)``
        (``response.iter_bytes`` or ``response.aiter_bytes``)."""
        if self.chunks is None:
            self.chunks = chunks(CHUNK_SIZE)
        return self.chunks


@dataclass(frozen=True)
class ReadChunk:
    """The next decoded chunk of a streamed body (up to ``CHUNK_SIZE`` bytes); ``b""`` at its end."""

    body: Body


@dataclass(frozen=True)
class ReadAll:
    """The whole (rest of the) body of a streamed response."""

    response: httpx.Response


@dataclass(frozen=True)
class Close:
    """Close a streamed response (its connection goes back to the pool)."""

    response: httpx.Response


@dataclass(frozen=True)
class Sleep:
    """Wait (backoff between attempts)."""

    seconds: float


Effect = Exchange | ReadChunk | ReadAll | Close | Sleep
