"""The moving of bytes for ``atoll.Base``: a :class:`Transport` (held by ``Base``, not inherited)
owns the ``httpx.Client``, timeouts and retries with backoff; it sends one JSON exchange, the
streamed multipart upload body, or streams a download into a temp file renamed into place.
Credentials and the re-``auth()`` on an expired base token are ``Base``'s."""

from __future__ import annotations

import contextlib
import enum
import io
import os
import secrets
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Literal, TypeVar

import httpx

from atoll.client import _requests as rq
from atoll.client.exceptions import AtollHTTPError, TransferError, TransferTimeoutError

T = TypeVar("T")

Progress = Callable[[int, int | None], None]
ByteSource = bytes | bytearray | memoryview | IO[bytes] | Iterable[bytes]


class _Default(enum.Enum):
    TOKEN = 0


DEFAULT = _Default.TOKEN
TimeoutArg = float | None | Literal[_Default.TOKEN]

_CONNECT_PHASE = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class _StatusRetry(Exception):
    def __init__(self, status: int, content: bytes, retry_after: float | None) -> None:
        super().__init__(status)
        self.status = status
        self.content = content
        self.retry_after = retry_after


class _Incomplete(Exception):
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


def _transfer_error(exc: BaseException, server_url: str) -> TransferError:
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
                        raise _Incomplete(f"file shrank while uploading ({remaining} bytes short)")
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


class Transport:
    """The retrying ``httpx.Client`` every request of one ``atoll.Base`` goes through."""

    def __init__(
        self,
        server_url: str,
        *,
        timeout: float | None,
        retries: int,
        http: httpx.Client | None,
    ) -> None:
        self.server_url = server_url
        self.timeout = timeout
        self.retries = retries
        self.retry = rq.RetryPolicy(retries=retries)
        self.own_http = http is None
        self.http = http if http is not None else httpx.Client(follow_redirects=False)
        self.sleep: Callable[[float], None] = time.sleep
        #: Set once any server answered: before that, a refused connection is not retried (a
        #: wrong URL or a stopped server fails at once instead of after seconds of backoff).
        self.reached = False

    def close(self) -> None:
        """Close the connection pool, if this transport created it."""
        if self.own_http:
            self.http.close()

    def _timeout(self, timeout: TimeoutArg) -> httpx.Timeout:
        return httpx.Timeout(self.timeout if timeout is DEFAULT else timeout)

    def _retrying(
        self,
        op: Callable[[], T],
        *,
        idempotent: bool,
        can_restart: Callable[[], bool] = lambda: True,
    ) -> T:
        attempt = 0
        while True:
            try:
                result = op()
            except _StatusRetry as r:
                self.reached = True
                if attempt >= self.retries or not can_restart():
                    raise rq.http_error(r.status, r.content) from None
                delay = self.retry.delay(attempt, r.retry_after)
            except AtollHTTPError:
                self.reached = True  # an answer, if not a welcome one
                raise
            except (httpx.TransportError, _Incomplete) as exc:
                connect_phase = isinstance(exc, _CONNECT_PHASE)
                if not connect_phase:
                    self.reached = True
                # a connection that never worked is not transient: no retry until one did
                safe = (idempotent or connect_phase) and self.reached
                if attempt >= self.retries or not safe or not can_restart():
                    raise _transfer_error(exc, self.server_url) from exc
                delay = self.retry.delay(attempt)
            else:
                self.reached = True
                return result
            self.sleep(delay)
            attempt += 1

    @staticmethod
    def _check_retry(response: httpx.Response, idempotent: bool) -> None:
        """Raise _StatusRetry for a transient status where repeating is safe. 429 is always
        safe: the server refused the request without acting on it."""
        status = response.status_code
        if rq.retryable_status(status) and (idempotent or status == 429):
            raise _StatusRetry(
                status, response.read(), rq.parse_retry_after(response.headers.get("retry-after"))
            )

    def send_json(self, spec: rq.RequestSpec, headers: dict[str, str], timeout: TimeoutArg) -> Any:
        """One JSON exchange with retries: the parsed answer, or the typed error."""

        def op() -> Any:
            request = self.http.build_request(
                spec.method,
                spec.url,
                params=list(spec.params) if spec.params is not None else None,
                headers=headers,
                content=spec.body_bytes(),
                timeout=self._timeout(timeout),
            )
            response = self.http.send(request)
            self._check_retry(response, spec.idempotent)
            return rq.parse_json(response.status_code, response.content)

        return self._retrying(op, idempotent=spec.idempotent)

    def upload(
        self,
        upload_link: str,
        fields: Sequence[tuple[str, str | None]],
        name: str,
        source: UploadSource,
        *,
        idempotent: bool,
        progress: Progress | None,
        timeout: TimeoutArg,
    ) -> dict[str, Any]:
        """Stream one multipart upload; the file server's answer for the file."""
        layout = rq.MultipartLayout(
            [(k, v) for k, v in fields if v is not None], name, boundary=secrets.token_hex(16)
        )
        total = source.size

        def body() -> Iterator[bytes]:
            yield layout.head
            sent = 0
            if progress:
                progress(0, total)
            for chunk in source.chunks():
                yield chunk
                sent += len(chunk)
                if progress:
                    progress(sent, total)
            yield layout.tail

        def op() -> dict[str, Any]:
            headers = {"Content-Type": layout.content_type}
            if total is not None:
                headers["Content-Length"] = str(layout.content_length(total))
            request = self.http.build_request(
                "POST", rq.upload_url(upload_link), headers=headers, content=body(),
                timeout=self._timeout(timeout),
            )
            response = self.http.send(request)
            self._check_retry(response, idempotent)
            return rq.parse_upload_response(response.status_code, response.content)

        return self._retrying(op, idempotent=idempotent, can_restart=source.can_restart)

    def fetch(
        self,
        link: str,
        save_path: str | os.PathLike[str],
        name: str,
        progress: Progress | None,
        timeout: TimeoutArg,
    ) -> Path:
        """Stream ``link`` to ``save_path`` (a directory receives ``name``); the path written."""
        target = rq.resolve_save_path(save_path, name)
        if os.fspath(save_path).endswith(("/", os.sep)):
            target.parent.mkdir(parents=True, exist_ok=True)

        def op() -> Path:
            request = self.http.build_request("GET", link, timeout=self._timeout(timeout))
            response = self.http.send(request, stream=True, follow_redirects=True)
            try:
                if response.status_code != 200:
                    self._check_retry(response, True)
                    raise rq.http_error(response.status_code, response.read())
                self._stream_to(response, target, progress)
            finally:
                response.close()
            return target

        return self._retrying(op, idempotent=True)

    @staticmethod
    def _stream_to(response: httpx.Response, target: Path, progress: Progress | None) -> None:
        encoded = response.headers.get("content-encoding", "identity").lower() != "identity"
        length = response.headers.get("content-length")
        total = int(length) if length and length.isdigit() and not encoded else None
        tmp = target.parent / f".{target.name}.{secrets.token_hex(4)}.part"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as f:
                received = 0
                if progress:
                    progress(0, total)
                # decoded bytes; with identity encoding that is the raw body
                for chunk in response.iter_bytes(rq.CHUNK_SIZE):
                    f.write(chunk)
                    received += len(chunk)
                    if progress:
                        progress(received, total)
            if total is not None and received != total:
                raise _Incomplete(f"received {received} of {total} bytes")
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
