"""``atoll.Base``: a drop-in for ``seatable_api.Base`` (4.0.0) on ``httpx.Client``.

Same method names, positional signatures and return values as the official client, plus:

- uploads and downloads are streamed (never the whole file in memory); downloads go to a temp
  file beside the target and are renamed into place once the length checks out;
- ``timeout`` per socket operation (connect, each read, each write), for every call, and
  overridable per call with the keyword-only ``timeout=``;
- retries with capped exponential backoff on connection errors, 429, 502, 503 and 504, but only
  where a retry cannot duplicate data (reads, link requests, downloads, PUT/DELETE, uploads with
  ``replace=True``); anything else is retried only if the connection was never established;
- ``progress(done, total)`` callbacks for transfers (``total`` is ``None`` when unknown);
- typed exceptions (``atoll.client.exceptions``) with the HTTP status and the server's message;
- one automatic re-``auth()`` when the base token has expired; ``auth()`` happens lazily if a
  method is called before it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx

from atoll.client import _shared as sh
from atoll.client._files import FilesMixin
from atoll.client._rows import RowsMixin
from atoll.client._transport import DEFAULT, TimeoutArg


class Base(FilesMixin, RowsMixin):
    """A SeaTable base reached with an API token: ``Base(api_token, server_url).auth()``."""

    def __init__(
        self,
        api_token: str,
        server_url: str,
        *,
        timeout: float | None = sh.DEFAULT_TIMEOUT,
        retries: int = sh.DEFAULT_RETRIES,
        http: httpx.Client | None = None,
    ) -> None:
        self.token = api_token
        self.server_url = sh.normalize_server_url(server_url)
        self.timeout = timeout
        self.retries = retries
        self._retry = sh.RetryPolicy(retries=retries)
        self._own_http = http is None
        self._http = http if http is not None else httpx.Client(follow_redirects=False)
        self._sleep: Callable[[float], None] = time.sleep
        self._session: sh.Session | None = None
        self._reached = False
        # the official client's public attributes, filled by auth()
        self.jwt_token: str | None = None
        self.headers: dict[str, str] | None = None
        self.workspace_id: int | str | None = None
        self.dtable_uuid: str | None = None
        self.dtable_name: str | None = None
        self.dtable_server_url: str | None = None
        self.dtable_db_url: str | None = None
        self.use_api_gateway = False
        self.is_authed = False

    def __str__(self) -> str:
        return f"<SeaTable Base [ {self.dtable_name} ]>"

    def __repr__(self) -> str:
        return f"<atoll.Base {self.dtable_name!r} at {self.server_url}>"

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP connection pool (only if this Base created it)."""
        if self._own_http:
            self._http.close()

    def __enter__(self) -> Base:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- auth -----------------------------------------------------------------------------

    def auth(self, with_socket_io: bool = False, *, timeout: TimeoutArg = DEFAULT) -> Any:
        """Exchange the API token for a base token. Returns the server's JSON like 4.0.0."""
        if with_socket_io:
            raise NotImplementedError("atoll.Base does not support socket.io")
        data = self._call(lambda: sh.app_access_token(self.server_url), timeout)
        s = sh.parse_auth(self.server_url, data)
        self._session = s
        self.jwt_token = s.access_token
        self.headers = sh.auth_headers(s.access_token)
        self.workspace_id = s.workspace_id
        self.dtable_uuid = s.dtable_uuid
        self.dtable_name = s.dtable_name
        self.dtable_server_url = s.dtable_server_url
        self.dtable_db_url = s.dtable_db_url
        self.use_api_gateway = s.use_api_gateway
        self.is_authed = True
        return data
