"""``atoll.Base``: a drop-in for ``seatable_api.Base`` (4.0.0) on ``httpx.Client``.

Same method names, positional signatures and return values as the official client, plus:

- uploads and downloads are streamed (never the whole file in memory); downloads go to a temp
  file beside the target and are renamed into place once the length checks out, and resume
  with ``Range`` after a broken connection;
- large files (``resumable_threshold``) and upload-and-attach go through tus: resumable after
  a cut, a server restart or a new run (the resume store), SHA-256 checked end to end;
- ``timeout`` per socket operation (connect, each read, each write), for every call, and
  overridable per call with the keyword-only ``timeout=``;
- retries with capped exponential backoff on connection errors, 429, 502, 503 and 504, but only
  where a retry cannot duplicate data (reads, link requests, downloads, PUT/DELETE, uploads with
  ``replace=True``); anything else is retried only if the connection was never established;
- ``progress(done, total)`` callbacks for transfers (``total`` is ``None`` when unknown);
- typed exceptions (``atoll.client.exceptions``) with the HTTP status and the server's message;
- one automatic re-``auth()`` when the base token has expired; ``auth()`` happens lazily if a
  method is called before it.

The methods themselves are in ``_core`` and ``_files``, shared with ``atoll.AsyncBase``.
"""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar, Unpack

import httpx

from atoll.client._api import SyncRunner
from atoll.client._core import Options, transport_options
from atoll.client._effects import Op
from atoll.client._files import FileOps
from atoll.client._transport import Transport

R = TypeVar("R")


class Base(SyncRunner, FileOps):
    """A SeaTable base reached with an API token: ``Base(api_token, server_url).auth()``.

    Options (keyword-only, docs/sdk.md): ``timeout``, ``retries``, ``http`` (your own
    ``httpx.Client``), ``resumable_threshold``, ``resume_store``, ``resume_patience_s``."""

    _transport: Transport

    def __init__(
        self,
        api_token: str,
        server_url: str,
        *,
        http: httpx.Client | None = None,
        **options: Unpack[Options],
    ) -> None:
        self._setup(api_token, Transport(**transport_options(server_url, options), http=http), options)

    def _run(self, op: Op[R]) -> R:
        return self._transport.run(op)

    def close(self) -> None:
        """Close the HTTP connection pool (only if this Base created it)."""
        self._transport.close()

    def __enter__(self) -> Base:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
