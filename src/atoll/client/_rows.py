"""``atoll.Base``'s api-gateway methods: metadata, tables, views, columns, rows and SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from atoll.client import _requests_rows as rr
from atoll.client import _shared as sh
from atoll.client._transport import DEFAULT, TimeoutArg, TransportMixin
from atoll.client.exceptions import AtollHTTPError


class RowsMixin(TransportMixin):
    """Metadata, tables, columns, rows and SQL of ``atoll.Base``."""

    # -- metadata, tables, columns --------------------------------------------------------

    def get_metadata(self, *, timeout: TimeoutArg = DEFAULT) -> Any:
        data = self._call(lambda: rr.get_metadata(self._sess()), timeout)
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
        return self._call(lambda: rr.add_table(self._sess(), table_name, lang, columns), timeout)

    def rename_table(
        self, table_name: str, new_table_name: str, *, timeout: TimeoutArg = DEFAULT
    ) -> Any:
        return self._call(
            lambda: rr.rename_table(self._sess(), table_name, new_table_name), timeout
        )

    def delete_table(self, table_name: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        return self._call(lambda: rr.delete_table(self._sess(), table_name), timeout)

    def list_views(self, table_name: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        return self._call(lambda: rr.list_views(self._sess(), table_name), timeout)

    def list_columns(
        self, table_name: str, view_name: str | None = None, *, timeout: TimeoutArg = DEFAULT
    ) -> Any:
        data = self._call(lambda: rr.list_columns(self._sess(), table_name, view_name), timeout)
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
        rr.column_type_value(column_type)  # ValueError before any request, like 4.0.0
        return self._call(
            lambda: rr.insert_column(
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
            lambda: rr.list_rows(
                self._sess(), table_name, view_name, order_by, desc, start, limit
            ),
            timeout,
        )
        return sh.expect_dict(data, "rows").get("rows")

    def get_row(self, table_name: str, row_id: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        return self._call(lambda: rr.get_row(self._sess(), table_name, row_id), timeout)

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
            lambda: rr.append_rows(self._sess(), table_name, [row_data], apply_default), timeout
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
            lambda: rr.append_rows(self._sess(), table_name, rows_data, apply_default), timeout
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
            lambda: rr.update_row(self._sess(), table_name, row_id, row_data), timeout
        )

    def batch_update_rows(
        self, table_name: str, rows_data: Sequence[Any], *, timeout: TimeoutArg = DEFAULT
    ) -> Any:
        """``rows_data``: ``[{'row_id': ..., 'row': {...}}, ...]``"""
        return self._call(
            lambda: rr.batch_update_rows(self._sess(), table_name, rows_data), timeout
        )

    def delete_row(self, table_name: str, row_id: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        return self._call(lambda: rr.delete_rows(self._sess(), table_name, [row_id]), timeout)

    def batch_delete_rows(
        self, table_name: str, row_ids: Sequence[str], *, timeout: TimeoutArg = DEFAULT
    ) -> Any:
        return self._call(lambda: rr.delete_rows(self._sess(), table_name, row_ids), timeout)

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
            self._call(lambda: rr.query(self._sess(), sql, convert, parameters), timeout), "sql"
        )
        if not data.get("success"):
            raise AtollHTTPError(200, str(data.get("error_message") or "query failed"))
        return data.get("results")
