"""SeaTable's JSON for SQL (``POST …/sql``, v1 ``dtable-db/api/v1/query/<uuid>/``).

Recorded shape (seatable-snapshots/test_base_operations/test_querySQL*.json): ``success``,
``error_message`` (``""``), ``is_join_stmt`` (false), ``metadata`` (the columns the results
show: ``key, name, type, data``) and ``results``. Writes (UPDATE, DELETE, INSERT) answer the same
envelope with empty lists and ``affected_rows``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NotRequired, TypedDict

from atoll.wire.schema import open_shape


@open_shape
class SqlColumn(TypedDict):
    key: str
    name: str
    type: str
    data: Any


class SqlReply(TypedDict):
    success: bool
    error_message: str
    is_join_stmt: bool
    metadata: list[SqlColumn]
    results: list[dict[str, Any]]
    affected_rows: NotRequired[int]


class SqlBody(TypedDict):
    sql: str
    parameters: NotRequired[list[Any]]
    convert_keys: NotRequired[bool]
    server_only: NotRequired[bool]


def column_json(column: dict[str, Any]) -> SqlColumn:
    return {"key": column["key"], "name": column["name"], "type": column["type"], "data": column.get("data")}


def sql_json(
    metadata: Sequence[dict[str, Any]], results: list[dict[str, Any]], affected_rows: int | None = None
) -> SqlReply:
    out: SqlReply = {
        "success": True,
        "error_message": "",
        "is_join_stmt": False,
        "metadata": [column_json(c) for c in metadata],
        "results": results,
    }
    if affected_rows is not None:
        out["affected_rows"] = affected_rows
    return out


#: v1 SQL (seatable-api <= 3.x): under the ``dtable_db`` URL that app-access-token answers.
V1_QUERY = "/dtable-db/api/v1/query/{dtable_uuid}/"
