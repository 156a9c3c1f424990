"""What ``Base`` and ``AsyncBase`` share: their state and every method, written once as an
operation (``@api``, see ``_api``): auth, metadata, tables, columns, rows, SQL. The file methods
are in ``_files``. Each builds its request in ``_requests``, sends it with ``_flows.send_json``
and parses the answer into what seatable-api 4.0.0 returns."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypedDict, TypeVar

from atoll.client import _requests as rq
from atoll.client import _tus as tus
from atoll.client._api import api
from atoll.client._effects import Op
from atoll.client._flows import send_json
from atoll.client._resume_store import ResumeStore, default_dir
from atoll.client._transport import DEFAULT, TimeoutArg, TransportState
from atoll.client.exceptions import AtollHTTPError, TokenExpiredError

T = TypeVar("T")


class Options(TypedDict, total=False):
    """The keyword-only options of ``Base(...)`` and ``AsyncBase(...)`` (docs/sdk.md)."""

    #: Seconds per socket operation; ``None``: no timeout.
    timeout: float | None
    #: How many times a transient failure is retried.
    retries: int
    #: Uploads of at least this many bytes use tus (resumable), when the server offers it.
    resumable_threshold: int
    #: Directory of the resume store; ``None`` disables it.
    resume_store: str | os.PathLike[str] | None
    #: A resumable upload gives up after this many seconds without progress.
    resume_patience_s: float


def transport_options(server_url: str, options: Options) -> dict[str, Any]:
    """The arguments of a transport (``TransportState``) from ``Base``'s."""
    return {
        "server_url": rq.normalize_server_url(server_url),
        "timeout": options.get("timeout", rq.DEFAULT_TIMEOUT),
        "retries": options.get("retries", rq.DEFAULT_RETRIES),
    }


class _OnTransport(Generic[T]):
    """A ``Base`` attribute that lives on its transport (read and set through the Base)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, base: BaseCore, owner: type[BaseCore]) -> T:
        value: T = getattr(base._transport, self.name)
        return value

    def __set__(self, base: BaseCore, value: T) -> None:
        setattr(base._transport, self.name, value)


class BaseCore:
    """State and operations of a SeaTable base reached with an API token."""

    _transport: TransportState

    def _setup(self, api_token: str, transport: TransportState, options: Options) -> None:
        self.token = api_token
        self._transport = transport
        self._session: rq.Session | None = None
        self.resumable_threshold = options.get("resumable_threshold", tus.DEFAULT_THRESHOLD)
        self.resume_patience_s = options.get("resume_patience_s", tus.DEFAULT_PATIENCE_S)
        store = options.get("resume_store", default_dir())
        self.resume_store = None if store is None else ResumeStore(store)
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
        return f"<atoll.{type(self).__name__} {self.dtable_name!r} at {self.server_url}>"

    # -- auth and plumbing ----------------------------------------------------------------

    @api
    def auth(self, with_socket_io: bool = False, *, timeout: TimeoutArg = DEFAULT) -> Op[Any]:
        """Exchange the API token for a base token. Returns the server's JSON like 4.0.0."""
        if with_socket_io:
            raise NotImplementedError("atoll.Base does not support socket.io")
        data = yield from self._web(rq.app_access_token(self.server_url), timeout, authed=False)
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

    def _base_session(self, timeout: TimeoutArg = DEFAULT) -> Op[rq.Session]:
        """What ``auth()`` established (every method works before ``auth()``: it
        authenticates first)."""
        if self._session is None:
            yield from BaseCore.auth.fn(self, timeout=timeout)
        assert self._session is not None
        return self._session

    def _web(self, spec: rq.RequestSpec, timeout: TimeoutArg, *, authed: bool = True) -> Op[Any]:
        """A dtable-web call with the API token (after ``auth()`` unless ``authed=False``)."""
        if authed:
            yield from self._base_session(timeout)
        headers = rq.auth_headers(self.token) if spec.credential == "api_token" else {}
        return (yield from send_json(self._transport, spec, headers, timeout))

    def _gw(self, build: Callable[[rq.Session], rq.RequestSpec], timeout: TimeoutArg) -> Op[Any]:
        """An api-gateway call with the base token, re-authenticating once if it expired."""
        reauthed = False
        while True:
            s = yield from self._base_session(timeout)
            try:
                return (
                    yield from send_json(
                        self._transport, build(s), rq.auth_headers(s.access_token), timeout
                    )
                )
            except TokenExpiredError:
                if reauthed:
                    raise
                reauthed = True
                yield from BaseCore.auth.fn(self, timeout=timeout)

    # -- metadata, tables, columns --------------------------------------------------------

    @api
    def get_metadata(self, *, timeout: TimeoutArg = DEFAULT) -> Op[Any]:
        data = yield from self._gw(rq.get_metadata, timeout)
        return rq.expect_dict(data, "metadata").get("metadata")

    @api
    def list_tables(self, *, timeout: TimeoutArg = DEFAULT) -> Op[Any]:
        meta = yield from BaseCore.get_metadata.fn(self, timeout=timeout)
        return rq.expect_dict(meta, "metadata").get("tables") or []

    @api
    def get_table_by_name(self, table_name: str, *, timeout: TimeoutArg = DEFAULT) -> Op[Any]:
        for t in (yield from BaseCore.list_tables.fn(self, timeout=timeout)):
            if t.get("name") == table_name:
                return t
        return None

    @api
    def add_table(
        self,
        table_name: str,
        lang: str = "en",
        columns: Sequence[Any] | None = None,
        *,
        timeout: TimeoutArg = DEFAULT,
    ) -> Op[Any]:
        return (yield from self._gw(lambda s: rq.add_table(s, table_name, lang, columns), timeout))

    @api
    def rename_table(
        self, table_name: str, new_table_name: str, *, timeout: TimeoutArg = DEFAULT
    ) -> Op[Any]:
        return (yield from self._gw(lambda s: rq.rename_table(s, table_name, new_table_name), timeout))

    @api
    def delete_table(self, table_name: str, *, timeout: TimeoutArg = DEFAULT) -> Op[Any]:
        return (yield from self._gw(lambda s: rq.delete_table(s, table_name), timeout))

    @api
    def list_views(self, table_name: str, *, timeout: TimeoutArg = DEFAULT) -> Op[Any]:
        return (yield from self._gw(lambda s: rq.list_views(s, table_name), timeout))

    @api
    def list_columns(
        self, table_name: str, view_name: str | None = None, *, timeout: TimeoutArg = DEFAULT
    ) -> Op[Any]:
        data = yield from self._gw(lambda s: rq.list_columns(s, table_name, view_name), timeout)
        return rq.expect_dict(data, "columns").get("columns")

    @api
    def get_column_by_name(
        self, table_name: str, column_name: str, *, timeout: TimeoutArg = DEFAULT
    ) -> Op[Any]:
        for col in (yield from BaseCore.list_columns.fn(self, table_name, timeout=timeout)) or []:
            if col.get("name") == column_name:
                return col
        return None

    @api
    def insert_column(
        self,
        table_name: str,
        column_name: str,
        column_type: Any,
        column_key: str | None = None,
        column_data: Any = None,
        *,
        timeout: TimeoutArg = DEFAULT,
    ) -> Op[Any]:
        """``column_type``: ``atoll.ColumnTypes``, seatable-api's ``ColumnTypes`` or a string."""
        rq.column_type_value(column_type)  # ValueError before any request, like 4.0.0
        return (
            yield from self._gw(
                lambda s: rq.insert_column(s, table_name, column_name, column_type, column_key,
                                           column_data),
                timeout,
            )
        )

    # -- rows -----------------------------------------------------------------------------

    @api
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
    ) -> Op[Any]:
        data = yield from self._gw(
            lambda s: rq.list_rows(s, table_name, view_name, order_by, desc, start, limit), timeout
        )
        return rq.expect_dict(data, "rows").get("rows")

    @api
    def get_row(self, table_name: str, row_id: str, *, timeout: TimeoutArg = DEFAULT) -> Op[Any]:
        return (yield from self._gw(lambda s: rq.get_row(s, table_name, row_id), timeout))

    @api
    def append_row(
        self,
        table_name: str,
        row_data: dict[str, Any],
        apply_default: bool | None = None,
        *,
        timeout: TimeoutArg = DEFAULT,
    ) -> Op[Any]:
        """Returns the new row (``first_row``), as 4.0.0 does in api-gateway mode."""
        data = yield from self._gw(
            lambda s: rq.append_rows(s, table_name, [row_data], apply_default), timeout
        )
        return rq.expect_dict(data, "append rows").get("first_row")

    @api
    def insert_row(
        self,
        table_name: str,
        row_data: dict[str, Any],
        anchor_row_id: str,
        apply_default: bool | None = None,
        *,
        timeout: TimeoutArg = DEFAULT,
    ) -> Op[Any]:
        """Appends (the api-gateway ignores ``anchor_row_id``, as in 4.0.0)."""
        return (
            yield from BaseCore.append_row.fn(self, table_name, row_data, apply_default,
                                              timeout=timeout)
        )

    @api
    def batch_append_rows(
        self,
        table_name: str,
        rows_data: Sequence[dict[str, Any]],
        apply_default: bool | None = None,
        *,
        timeout: TimeoutArg = DEFAULT,
    ) -> Op[Any]:
        return (
            yield from self._gw(
                lambda s: rq.append_rows(s, table_name, rows_data, apply_default), timeout
            )
        )

    @api
    def update_row(
        self,
        table_name: str,
        row_id: str,
        row_data: dict[str, Any],
        *,
        timeout: TimeoutArg = DEFAULT,
    ) -> Op[Any]:
        return (yield from self._gw(lambda s: rq.update_row(s, table_name, row_id, row_data), timeout))

    @api
    def batch_update_rows(
        self, table_name: str, rows_data: Sequence[Any], *, timeout: TimeoutArg = DEFAULT
    ) -> Op[Any]:
        """``rows_data``: ``[{'row_id': ..., 'row': {...}}, ...]``"""
        return (yield from self._gw(lambda s: rq.batch_update_rows(s, table_name, rows_data), timeout))

    @api
    def delete_row(self, table_name: str, row_id: str, *, timeout: TimeoutArg = DEFAULT) -> Op[Any]:
        return (yield from self._gw(lambda s: rq.delete_rows(s, table_name, [row_id]), timeout))

    @api
    def batch_delete_rows(
        self, table_name: str, row_ids: Sequence[str], *, timeout: TimeoutArg = DEFAULT
    ) -> Op[Any]:
        return (yield from self._gw(lambda s: rq.delete_rows(s, table_name, row_ids), timeout))

    @api
    def query(
        self,
        sql: str,
        convert: bool = True,
        parameters: Sequence[Any] | None = None,
        *,
        timeout: TimeoutArg = DEFAULT,
    ) -> Op[Any]:
        """SQL through the api-gateway; returns ``results`` (keyed by column name when
        ``convert``)."""
        data = rq.expect_dict(
            (yield from self._gw(lambda s: rq.query(s, sql, convert, parameters), timeout)), "sql"
        )
        if not data.get("success"):
            raise AtollHTTPError(200, str(data.get("error_message") or "query failed"))
        return data.get("results")
