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

import contextlib
import enum
import io
import os
import secrets
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal, TypeVar
from urllib.parse import unquote

import httpx

from atoll.client import _shared as sh
from atoll.client.exceptions import (
    AtollHTTPError,
    TokenExpiredError,
    TransferError,
    TransferTimeoutError,
)
from atoll.wire import urls

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


def _transfer_error(exc: BaseException) -> TransferError:
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return TransferTimeoutError(f"timed out: {detail}")
    return TransferError(f"transfer failed: {detail}")


class _UploadSource:
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
            for i in range(0, self._bytes.nbytes, sh.CHUNK_SIZE):
                yield bytes(self._bytes[i : i + sh.CHUNK_SIZE])
        elif self._file is not None:
            remaining = self.size
            while remaining is None or remaining > 0:
                n = sh.CHUNK_SIZE if remaining is None else min(sh.CHUNK_SIZE, remaining)
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


class Base:
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

    # -- plumbing -------------------------------------------------------------------------

    def _timeout(self, timeout: TimeoutArg) -> httpx.Timeout:
        return httpx.Timeout(self.timeout if timeout is DEFAULT else timeout)

    def _sess(self) -> sh.Session:
        if self._session is None:
            self.auth()
        assert self._session is not None
        return self._session

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
                return op()
            except _StatusRetry as r:
                if attempt >= self.retries or not can_restart():
                    raise sh.http_error(r.status, r.content) from None
                delay = self._retry.delay(attempt, r.retry_after)
            except (httpx.TransportError, _Incomplete) as exc:
                safe = idempotent or isinstance(exc, _CONNECT_PHASE)
                if attempt >= self.retries or not safe or not can_restart():
                    raise _transfer_error(exc) from exc
                delay = self._retry.delay(attempt)
            self._sleep(delay)
            attempt += 1

    @staticmethod
    def _check_retry(response: httpx.Response, idempotent: bool) -> None:
        """Raise _StatusRetry for a transient status where repeating is safe. 429 is always
        safe: the server refused the request without acting on it."""
        status = response.status_code
        if sh.retryable_status(status) and (idempotent or status == 429):
            raise _StatusRetry(
                status, response.read(), sh.parse_retry_after(response.headers.get("retry-after"))
            )

    def _build(self, spec: sh.RequestSpec, timeout: TimeoutArg) -> httpx.Request:
        if spec.credential == "api_token":
            headers = sh.auth_headers(self.token)
        elif spec.credential == "access_token":
            headers = sh.auth_headers(self._sess().access_token)
        else:
            headers = {}
        return self._http.build_request(
            spec.method,
            spec.url,
            params=list(spec.params) if spec.params is not None else None,
            headers=headers,
            content=spec.body_bytes(),
            timeout=self._timeout(timeout),
        )

    def _call(self, spec_fn: Callable[[], sh.RequestSpec], timeout: TimeoutArg) -> Any:
        """One JSON exchange, with retries and one re-auth on an expired base token."""
        reauthed = False
        while True:
            spec = spec_fn()

            def op(spec: sh.RequestSpec = spec) -> Any:
                response = self._http.send(self._build(spec, timeout))
                self._check_retry(response, spec.idempotent)
                return sh.parse_json(response.status_code, response.content)

            try:
                return self._retrying(op, idempotent=spec.idempotent)
            except TokenExpiredError:
                if spec.credential != "access_token" or reauthed:
                    raise
                reauthed = True
                self.auth(timeout=timeout)

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

    # -- system assets --------------------------------------------------------------------

    def get_file_upload_link(self, *, timeout: TimeoutArg = DEFAULT) -> Any:
        """``{'upload_link', 'parent_path', 'img_relative_path', 'file_relative_path', ...}``"""
        self._sess()
        return self._call(lambda: sh.app_upload_link(self.server_url), timeout)

    def get_file_download_link(self, path: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        """A one-hour download link for ``path`` relative to the base's asset folder
        (e.g. ``files/2025-08/a.pdf``)."""
        self._sess()
        data = self._call(lambda: sh.app_download_link(self.server_url, path), timeout)
        return sh.expect_dict(data, "download link").get("download_link")

    def upload_bytes_file(
        self,
        name: str,
        content: ByteSource,
        relative_path: str | None = None,
        file_type: str = "file",
        replace: bool = False,
        *,
        progress: Progress | None = None,
        timeout: TimeoutArg = DEFAULT,
    ) -> dict[str, Any]:
        """Upload ``content`` (bytes, a binary file object or an iterator of bytes) as ``name``.

        Returns the file-cell dict ``{'type', 'size', 'name', 'url'}``. ``relative_path`` is
        accepted for signature compatibility and ignored, as in 4.0.0 (the server decides).
        """
        return self._upload_system(name, _UploadSource(content), file_type, replace, progress,
                                   timeout)

    def upload_local_file(
        self,
        file_path: str | os.PathLike[str],
        name: str | None = None,
        relative_path: str | None = None,
        file_type: str = "file",
        replace: bool = False,
        *,
        progress: Progress | None = None,
        timeout: TimeoutArg = DEFAULT,
    ) -> dict[str, Any]:
        """Upload a local file, streamed from disk. ``name`` defaults to its base name."""
        if file_type not in urls.FILE_TYPES:
            raise ValueError("file_type invalid.")
        if not name:
            name = sh.local_name(file_path)
        with open(file_path, "rb") as f:
            return self._upload_system(name, _UploadSource(f), file_type, replace, progress,
                                       timeout)

    def _upload_system(
        self,
        name: str,
        source: _UploadSource,
        file_type: str,
        replace: bool,
        progress: Progress | None,
        timeout: TimeoutArg,
    ) -> dict[str, Any]:
        if file_type not in urls.FILE_TYPES:
            raise ValueError("relative or file_type invalid.")
        link = sh.expect_dict(self.get_file_upload_link(timeout=timeout), "upload link")
        relative = str(link["img_relative_path" if file_type == "image" else "file_relative_path"])
        fields = sh.upload_fields(str(link["parent_path"]), relative, replace)
        answer = self._upload(
            str(link["upload_link"]), fields, name, source,
            idempotent=replace, progress=progress, timeout=timeout,
        )
        return sh.upload_cell(self._sess(), file_type, relative, name, answer)

    def _upload(
        self,
        upload_link: str,
        fields: Sequence[tuple[str, str | None]],
        name: str,
        source: _UploadSource,
        *,
        idempotent: bool,
        progress: Progress | None,
        timeout: TimeoutArg,
    ) -> dict[str, Any]:
        layout = sh.MultipartLayout(
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
            request = self._http.build_request(
                "POST", sh.upload_url(upload_link), headers=headers, content=body(),
                timeout=self._timeout(timeout),
            )
            response = self._http.send(request)
            self._check_retry(response, idempotent)
            return sh.parse_upload_response(response.status_code, response.content)

        return self._retrying(op, idempotent=idempotent, can_restart=source.can_restart)

    def download_file(
        self,
        url: str,
        save_path: str | os.PathLike[str],
        *,
        progress: Progress | None = None,
        timeout: TimeoutArg = DEFAULT,
    ) -> None:
        """Download the asset behind a cell URL to ``save_path`` (a file path, or a directory:
        then the file keeps its name). Streams to a temp file beside the target, then renames."""
        path = urls.asset_path_from_url(url, self._sess().dtable_uuid)
        link = self.get_file_download_link(path, timeout=timeout)
        self._fetch(str(link), save_path, urls.asset_name(path), progress, timeout)

    def download_asset(
        self,
        path: str,
        save_path: str | os.PathLike[str],
        *,
        progress: Progress | None = None,
        timeout: TimeoutArg = DEFAULT,
    ) -> Path:
        """atoll extension: download by asset path (relative to the base's asset folder, e.g.
        ``files/2025-08/a.pdf`` or ``custom/Main/x.png``). Returns the written path."""
        link = self.get_file_download_link(path, timeout=timeout)
        return self._fetch(str(link), save_path, urls.asset_name(path), progress, timeout)

    def _fetch(
        self,
        link: str,
        save_path: str | os.PathLike[str],
        name: str,
        progress: Progress | None,
        timeout: TimeoutArg,
    ) -> Path:
        target = sh.resolve_save_path(save_path, name)
        if os.fspath(save_path).endswith(("/", os.sep)):
            target.parent.mkdir(parents=True, exist_ok=True)

        def op() -> Path:
            request = self._http.build_request("GET", link, timeout=self._timeout(timeout))
            response = self._http.send(request, stream=True, follow_redirects=True)
            try:
                if response.status_code != 200:
                    self._check_retry(response, True)
                    raise sh.http_error(response.status_code, response.read())
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
                for chunk in response.iter_bytes(sh.CHUNK_SIZE):
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

    # -- custom folders -------------------------------------------------------------------

    def list_custom_assets(self, path: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        """``{'dir': [{'name'}...], 'file': [{'name'}...]}`` for a folder like ``/Main``."""
        self._sess()
        return self._call(lambda: sh.custom_asset_dir(self.server_url, path), timeout)

    def create_custom_folder(self, path: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        """atoll extension (not in SeaTable): create custom folder ``path`` (e.g. ``/Main``)."""
        self._sess()
        return self._call(lambda: sh.create_custom_dir(self.server_url, path), timeout)

    def get_custom_file_info(
        self, path: str, name: str, *, timeout: TimeoutArg = DEFAULT
    ) -> dict[str, Any]:
        """The file-cell dict for ``name`` in custom folder ``path`` (``custom-asset://`` URL)."""
        self._sess()
        data = self._call(lambda: sh.custom_asset_file(self.server_url, path, name), timeout)
        return sh.custom_file_cell(data)

    def get_custom_file_upload_link(self, path: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        self._sess()
        return self._call(lambda: sh.custom_upload_link(self.server_url, path), timeout)

    def get_custom_file_download_link(self, path: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        self._sess()
        data = self._call(lambda: sh.custom_download_link(self.server_url, path), timeout)
        return sh.expect_dict(data, "download link").get("download_link")

    def download_custom_file(
        self,
        path: str,
        save_path: str | os.PathLike[str],
        *,
        progress: Progress | None = None,
        timeout: TimeoutArg = DEFAULT,
    ) -> None:
        """Download custom-folder file ``path`` (e.g. ``/Main/sky.png``) to ``save_path``."""
        path = unquote(path)
        link = self.get_custom_file_download_link(path, timeout=timeout)
        self._fetch(str(link), save_path, urls.asset_name(path), progress, timeout)

    def upload_local_file_to_custom_folder(
        self,
        local_path: str | os.PathLike[str],
        custom_folder_path: str | None = None,
        name: str | None = None,
        *,
        progress: Progress | None = None,
        timeout: TimeoutArg = DEFAULT,
    ) -> dict[str, Any]:
        """Upload into a custom folder (which must exist); never replaces, so a clash gives
        ``name (1).ext``. Returns the file-cell dict with a ``custom-asset://`` URL."""
        if not name:
            name = sh.local_name(local_path)
        if not custom_folder_path:
            custom_folder_path = "/"
        link = sh.expect_dict(
            self.get_custom_file_upload_link(unquote(custom_folder_path), timeout=timeout),
            "upload link",
        )
        fields = [
            ("parent_dir", link.get("parent_path")),
            ("relative_path", link.get("relative_path")),
            ("replace", "0"),
        ]
        with open(local_path, "rb") as f:
            answer = self._upload(
                str(link.get("upload_link")), fields, name, _UploadSource(f),
                idempotent=False, progress=progress, timeout=timeout,
            )
        final = answer.get("name")
        return self.get_custom_file_info(
            custom_folder_path, final if isinstance(final, str) else name, timeout=timeout
        )

    # -- metadata, tables, columns --------------------------------------------------------

    def get_metadata(self, *, timeout: TimeoutArg = DEFAULT) -> Any:
        data = self._call(lambda: sh.get_metadata(self._sess()), timeout)
        return sh.expect_dict(data, "metadata").get("metadata")

    def list_tables(self, *, timeout: TimeoutArg = DEFAULT) -> Any:
        meta = self.get_metadata(timeout=timeout)
        return sh.expect_dict(meta, "metadata").get("tables") or []

    def get_table_by_name(self, table_name: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        for t in self.list_tables(timeout=timeout):
            if t.get("name") == table_name:
                return t
        return None

    def add_table(
        self,
        table_name: str,
        lang: str = "en",
        columns: Sequence[Any] | None = None,
        *,
        timeout: TimeoutArg = DEFAULT,
    ) -> Any:
        return self._call(lambda: sh.add_table(self._sess(), table_name, lang, columns), timeout)

    def rename_table(
        self, table_name: str, new_table_name: str, *, timeout: TimeoutArg = DEFAULT
    ) -> Any:
        return self._call(
            lambda: sh.rename_table(self._sess(), table_name, new_table_name), timeout
        )

    def delete_table(self, table_name: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        return self._call(lambda: sh.delete_table(self._sess(), table_name), timeout)

    def list_views(self, table_name: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        return self._call(lambda: sh.list_views(self._sess(), table_name), timeout)

    def list_columns(
        self, table_name: str, view_name: str | None = None, *, timeout: TimeoutArg = DEFAULT
    ) -> Any:
        data = self._call(lambda: sh.list_columns(self._sess(), table_name, view_name), timeout)
        return sh.expect_dict(data, "columns").get("columns")

    def get_column_by_name(
        self, table_name: str, column_name: str, *, timeout: TimeoutArg = DEFAULT
    ) -> Any:
        for col in self.list_columns(table_name, timeout=timeout) or []:
            if col.get("name") == column_name:
                return col
        return None

    def insert_column(
        self,
        table_name: str,
        column_name: str,
        column_type: Any,
        column_key: str | None = None,
        column_data: Any = None,
        *,
        timeout: TimeoutArg = DEFAULT,
    ) -> Any:
        """``column_type``: ``atoll.ColumnTypes``, seatable-api's ``ColumnTypes`` or a string."""
        sh.column_type_value(column_type)  # ValueError before any request, like 4.0.0
        return self._call(
            lambda: sh.insert_column(
                self._sess(), table_name, column_name, column_type, column_key, column_data
            ),
            timeout,
        )

    # -- rows -----------------------------------------------------------------------------

    def list_rows(
        self,
        table_name: str,
        view_name: str | None = None,
        order_by: str | None = None,
        desc: bool = False,
        start: int | None = None,
        limit: int | None = None,
        *,
        timeout: TimeoutArg = DEFAULT,
    ) -> Any:
        data = self._call(
            lambda: sh.list_rows(
                self._sess(), table_name, view_name, order_by, desc, start, limit
            ),
            timeout,
        )
        return sh.expect_dict(data, "rows").get("rows")

    def get_row(self, table_name: str, row_id: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        return self._call(lambda: sh.get_row(self._sess(), table_name, row_id), timeout)

    def append_row(
        self,
        table_name: str,
        row_data: dict[str, Any],
        apply_default: bool | None = None,
        *,
        timeout: TimeoutArg = DEFAULT,
    ) -> Any:
        """Returns the new row (``first_row``), as 4.0.0 does in api-gateway mode."""
        data = self._call(
            lambda: sh.append_rows(self._sess(), table_name, [row_data], apply_default), timeout
        )
        return sh.expect_dict(data, "append rows").get("first_row")

    def insert_row(
        self,
        table_name: str,
        row_data: dict[str, Any],
        anchor_row_id: str,
        apply_default: bool | None = None,
        *,
        timeout: TimeoutArg = DEFAULT,
    ) -> Any:
        """Appends (the api-gateway ignores ``anchor_row_id``, as in 4.0.0)."""
        return self.append_row(table_name, row_data, apply_default, timeout=timeout)

    def batch_append_rows(
        self,
        table_name: str,
        rows_data: Sequence[dict[str, Any]],
        apply_default: bool | None = None,
        *,
        timeout: TimeoutArg = DEFAULT,
    ) -> Any:
        return self._call(
            lambda: sh.append_rows(self._sess(), table_name, rows_data, apply_default), timeout
        )

    def update_row(
        self,
        table_name: str,
        row_id: str,
        row_data: dict[str, Any],
        *,
        timeout: TimeoutArg = DEFAULT,
    ) -> Any:
        return self._call(
            lambda: sh.update_row(self._sess(), table_name, row_id, row_data), timeout
        )

    def batch_update_rows(
        self, table_name: str, rows_data: Sequence[Any], *, timeout: TimeoutArg = DEFAULT
    ) -> Any:
        """``rows_data``: ``[{'row_id': ..., 'row': {...}}, ...]``"""
        return self._call(
            lambda: sh.batch_update_rows(self._sess(), table_name, rows_data), timeout
        )

    def delete_row(self, table_name: str, row_id: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        return self._call(lambda: sh.delete_rows(self._sess(), table_name, [row_id]), timeout)

    def batch_delete_rows(
        self, table_name: str, row_ids: Sequence[str], *, timeout: TimeoutArg = DEFAULT
    ) -> Any:
        return self._call(lambda: sh.delete_rows(self._sess(), table_name, row_ids), timeout)

    def query(
        self,
        sql: str,
        convert: bool = True,
        parameters: Sequence[Any] | None = None,
        *,
        timeout: TimeoutArg = DEFAULT,
    ) -> Any:
        """SQL through the api-gateway; returns ``results`` (keyed by column name when
        ``convert``)."""
        data = sh.expect_dict(
            self._call(lambda: sh.query(self._sess(), sql, convert, parameters), timeout), "sql"
        )
        if not data.get("success"):
            raise AtollHTTPError(200, str(data.get("error_message") or "query failed"))
        return data.get("results")
