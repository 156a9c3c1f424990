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

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, TypeVar
from urllib.parse import unquote

import httpx

from atoll.client import _requests as rq
from atoll.client._requests import FileCell
from atoll.client._transport import (
    DEFAULT,
    ByteSource,
    Progress,
    TimeoutArg,
    Transport,
    UploadSource,
)
from atoll.client.exceptions import AtollHTTPError, TokenExpiredError
from atoll.wire import links
from atoll.wire.columns import FILE_CELL_TYPES, ColumnType

T = TypeVar("T")


class _OnTransport(Generic[T]):
    """A ``Base`` attribute that lives on its transport (read and set through the Base)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, base: Base, owner: type[Base]) -> T:
        value: T = getattr(base._transport, self.name)
        return value

    def __set__(self, base: Base, value: T) -> None:
        setattr(base._transport, self.name, value)


class Base:
    """A SeaTable base reached with an API token: ``Base(api_token, server_url).auth()``.

    One method per operation: each builds its request in ``_requests`` and sends it through
    ``self._transport``."""

    def __init__(
        self,
        api_token: str,
        server_url: str,
        *,
        timeout: float | None = rq.DEFAULT_TIMEOUT,
        retries: int = rq.DEFAULT_RETRIES,
        http: httpx.Client | None = None,
    ) -> None:
        self.token = api_token
        self._transport = Transport(
            rq.normalize_server_url(server_url), timeout=timeout, retries=retries, http=http
        )
        self._session: rq.Session | None = None
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

    #: The server's URL, without a trailing slash; errors name it.
    server_url = _OnTransport[str]("server_url")
    #: Seconds per socket operation (the default of every call's ``timeout=``).
    timeout = _OnTransport[float | None]("timeout")
    #: How many times a transient failure is retried.
    retries = _OnTransport[int]("retries")

    def __str__(self) -> str:
        return f"<SeaTable Base [ {self.dtable_name} ]>"

    def __repr__(self) -> str:
        return f"<atoll.Base {self.dtable_name!r} at {self.server_url}>"

    # -- lifecycle ------------------------------------------------------------------------

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

    # -- auth -----------------------------------------------------------------------------

    def auth(self, with_socket_io: bool = False, *, timeout: TimeoutArg = DEFAULT) -> Any:
        """Exchange the API token for a base token. Returns the server's JSON like 4.0.0."""
        if with_socket_io:
            raise NotImplementedError("atoll.Base does not support socket.io")
        data = self._call(lambda: rq.app_access_token(self.server_url), timeout)
        s = rq.parse_auth(self.server_url, data)
        self._session = s
        self.jwt_token = s.access_token
        self.headers = rq.auth_headers(s.access_token)
        self.workspace_id = s.workspace_id
        self.dtable_uuid = s.dtable_uuid
        self.dtable_name = s.dtable_name
        self.dtable_server_url = s.dtable_server_url
        self.dtable_db_url = s.dtable_db_url
        self.use_api_gateway = s.use_api_gateway
        self.is_authed = True
        return data

    # -- plumbing -------------------------------------------------------------------------

    def _ensure_auth(self) -> None:
        """Every method works before ``auth()``: it authenticates first."""
        if self._session is None:
            self.auth()

    def _base_session(self) -> rq.Session:
        """What ``auth()`` established (after authenticating, if it has not happened)."""
        self._ensure_auth()
        assert self._session is not None
        return self._session

    def _headers(self, spec: rq.RequestSpec) -> dict[str, str]:
        if spec.credential == "api_token":
            return rq.auth_headers(self.token)
        if spec.credential == "access_token":
            return rq.auth_headers(self._base_session().access_token)
        return {}

    def _call(self, build: Callable[[], rq.RequestSpec], timeout: TimeoutArg) -> Any:
        """One JSON exchange, with retries and one re-auth on an expired base token."""
        reauthed = False
        while True:
            spec = build()
            try:
                return self._transport.send_json(spec, self._headers(spec), timeout)
            except TokenExpiredError:
                if spec.credential != "access_token" or reauthed:
                    raise
                reauthed = True
                self.auth(timeout=timeout)

    # -- metadata, tables, columns --------------------------------------------------------

    def get_metadata(self, *, timeout: TimeoutArg = DEFAULT) -> Any:
        data = self._call(lambda: rq.get_metadata(self._base_session()), timeout)
        return rq.expect_dict(data, "metadata").get("metadata")

    def list_tables(self, *, timeout: TimeoutArg = DEFAULT) -> Any:
        meta = self.get_metadata(timeout=timeout)
        return rq.expect_dict(meta, "metadata").get("tables") or []

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
        return self._call(lambda: rq.add_table(self._base_session(), table_name, lang, columns), timeout)

    def rename_table(
        self, table_name: str, new_table_name: str, *, timeout: TimeoutArg = DEFAULT
    ) -> Any:
        return self._call(
            lambda: rq.rename_table(self._base_session(), table_name, new_table_name), timeout
        )

    def delete_table(self, table_name: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        return self._call(lambda: rq.delete_table(self._base_session(), table_name), timeout)

    def list_views(self, table_name: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        return self._call(lambda: rq.list_views(self._base_session(), table_name), timeout)

    def list_columns(
        self, table_name: str, view_name: str | None = None, *, timeout: TimeoutArg = DEFAULT
    ) -> Any:
        data = self._call(lambda: rq.list_columns(self._base_session(), table_name, view_name), timeout)
        return rq.expect_dict(data, "columns").get("columns")

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
        rq.column_type_value(column_type)  # ValueError before any request, like 4.0.0
        return self._call(
            lambda: rq.insert_column(
                self._base_session(), table_name, column_name, column_type, column_key, column_data
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
            lambda: rq.list_rows(
                self._base_session(), table_name, view_name, order_by, desc, start, limit
            ),
            timeout,
        )
        return rq.expect_dict(data, "rows").get("rows")

    def get_row(self, table_name: str, row_id: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        return self._call(lambda: rq.get_row(self._base_session(), table_name, row_id), timeout)

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
            lambda: rq.append_rows(self._base_session(), table_name, [row_data], apply_default), timeout
        )
        return rq.expect_dict(data, "append rows").get("first_row")

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
            lambda: rq.append_rows(self._base_session(), table_name, rows_data, apply_default), timeout
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
            lambda: rq.update_row(self._base_session(), table_name, row_id, row_data), timeout
        )

    def batch_update_rows(
        self, table_name: str, rows_data: Sequence[Any], *, timeout: TimeoutArg = DEFAULT
    ) -> Any:
        """``rows_data``: ``[{'row_id': ..., 'row': {...}}, ...]``"""
        return self._call(
            lambda: rq.batch_update_rows(self._base_session(), table_name, rows_data), timeout
        )

    def delete_row(self, table_name: str, row_id: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        return self._call(lambda: rq.delete_rows(self._base_session(), table_name, [row_id]), timeout)

    def batch_delete_rows(
        self, table_name: str, row_ids: Sequence[str], *, timeout: TimeoutArg = DEFAULT
    ) -> Any:
        return self._call(lambda: rq.delete_rows(self._base_session(), table_name, row_ids), timeout)

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
        data = rq.expect_dict(
            self._call(lambda: rq.query(self._base_session(), sql, convert, parameters), timeout), "sql"
        )
        if not data.get("success"):
            raise AtollHTTPError(200, str(data.get("error_message") or "query failed"))
        return data.get("results")

    # -- system assets --------------------------------------------------------------------

    def get_file_upload_link(self, *, timeout: TimeoutArg = DEFAULT) -> Any:
        """``{'upload_link', 'parent_path', 'img_relative_path', 'file_relative_path', ...}``"""
        self._ensure_auth()
        return self._call(lambda: rq.app_upload_link(self.server_url), timeout)

    def get_file_download_link(self, path: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        """A one-hour download link for ``path`` relative to the base's asset folder
        (e.g. ``files/2025-08/a.pdf``)."""
        self._ensure_auth()
        data = self._call(lambda: rq.app_download_link(self.server_url, path), timeout)
        return rq.expect_dict(data, "download link").get("download_link")

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
    ) -> FileCell:
        """Upload ``content`` (bytes, a binary file object or an iterator of bytes) as ``name``.

        Returns the file-cell dict ``{'type', 'size', 'name', 'url'}``. ``relative_path`` is
        accepted for signature compatibility and ignored, as in 4.0.0 (the server decides).
        """
        return self._upload_system(name, UploadSource(content), file_type, replace, progress,
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
    ) -> FileCell:
        """Upload a local file, streamed from disk. ``name`` defaults to its base name."""
        if file_type not in FILE_CELL_TYPES:
            raise ValueError("file_type invalid.")
        if not name:
            name = rq.local_name(file_path)
        with open(file_path, "rb") as f:
            return self._upload_system(name, UploadSource(f), file_type, replace, progress,
                                       timeout)

    def _upload_system(
        self,
        name: str,
        source: UploadSource,
        file_type: str,
        replace: bool,
        progress: Progress | None,
        timeout: TimeoutArg,
    ) -> FileCell:
        if file_type not in FILE_CELL_TYPES:
            raise ValueError("relative or file_type invalid.")
        link = rq.expect_dict(self.get_file_upload_link(timeout=timeout), "upload link")
        relative = str(link["img_relative_path" if file_type == ColumnType.IMAGE else "file_relative_path"])
        fields = rq.upload_fields(str(link["parent_path"]), relative, replace)
        answer = self._transport.upload(
            str(link["upload_link"]), fields, name, source,
            idempotent=replace, progress=progress, timeout=timeout,
        )
        return rq.upload_cell(self._base_session(), file_type, relative, name, answer)

    def download_file(
        self,
        url: str,
        save_path: str | os.PathLike[str],
        *,
        progress: Progress | None = None,
        timeout: TimeoutArg = DEFAULT,
    ) -> Path:
        """Download the asset behind a cell URL to ``save_path`` (a file path, or a directory:
        then the file keeps its name). Streams to a temp file beside the target, then renames.
        Returns the written path (4.0.0 returns ``None``)."""
        path = links.asset_path_from_url(url, dtable_uuid=self._base_session().dtable_uuid)
        return self.download_asset(path, save_path, progress=progress, timeout=timeout)

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
        return self._transport.fetch(str(link), save_path, links.asset_name(path), progress, timeout)

    # -- custom folders -------------------------------------------------------------------

    def list_custom_assets(self, path: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        """``{'dir': [{'name'}...], 'file': [{'name'}...]}`` for a folder like ``/Main``."""
        self._ensure_auth()
        return self._call(lambda: rq.custom_asset_dir(self.server_url, path), timeout)

    def create_custom_folder(self, path: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        """atoll extension (not in SeaTable): create custom folder ``path`` (e.g. ``/Main``)."""
        self._ensure_auth()
        return self._call(lambda: rq.create_custom_dir(self.server_url, path), timeout)

    def get_custom_file_info(
        self, path: str, name: str, *, timeout: TimeoutArg = DEFAULT
    ) -> FileCell:
        """The file-cell dict for ``name`` in custom folder ``path`` (``custom-asset://`` URL)."""
        self._ensure_auth()
        data = self._call(lambda: rq.custom_asset_file(self.server_url, path, name), timeout)
        return rq.custom_file_cell(data)

    def get_custom_file_upload_link(self, path: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        self._ensure_auth()
        return self._call(lambda: rq.custom_upload_link(self.server_url, path), timeout)

    def get_custom_file_download_link(self, path: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        self._ensure_auth()
        data = self._call(lambda: rq.custom_download_link(self.server_url, path), timeout)
        return rq.expect_dict(data, "download link").get("download_link")

    def download_custom_file(
        self,
        path: str,
        save_path: str | os.PathLike[str],
        *,
        progress: Progress | None = None,
        timeout: TimeoutArg = DEFAULT,
    ) -> Path:
        """Download custom-folder file ``path`` (e.g. ``/Main/sky.png``) to ``save_path``.
        Returns the written path (4.0.0 returns ``None``)."""
        path = unquote(path)
        link = self.get_custom_file_download_link(path, timeout=timeout)
        return self._transport.fetch(str(link), save_path, links.asset_name(path), progress, timeout)

    def upload_local_file_to_custom_folder(
        self,
        local_path: str | os.PathLike[str],
        custom_folder_path: str | None = None,
        name: str | None = None,
        *,
        progress: Progress | None = None,
        timeout: TimeoutArg = DEFAULT,
    ) -> FileCell:
        """Upload into a custom folder (which must exist); never replaces, so a clash gives
        ``name (1).ext``. Returns the file-cell dict with a ``custom-asset://`` URL."""
        if not name:
            name = rq.local_name(local_path)
        if not custom_folder_path:
            custom_folder_path = "/"
        link = rq.expect_dict(
            self.get_custom_file_upload_link(unquote(custom_folder_path), timeout=timeout),
            "upload link",
        )
        fields = [
            ("parent_dir", link.get("parent_path")),
            ("relative_path", link.get("relative_path")),
            ("replace", "0"),
        ]
        with open(local_path, "rb") as f:
            answer = self._transport.upload(
                str(link.get("upload_link")), fields, name, UploadSource(f),
                idempotent=False, progress=progress, timeout=timeout,
            )
        final = answer.get("name")
        return self.get_custom_file_info(
            custom_folder_path, final if isinstance(final, str) else name, timeout=timeout
        )
