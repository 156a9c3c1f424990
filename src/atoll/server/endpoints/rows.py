"""Tables, columns, rows and views of one base, for the gateway (v2) and v1 families.

Both families share these handlers; ``wire.rows`` shapes the answer per family. Arguments come
from the query string and the JSON body merged (the body wins): the client sends JSON on GET
and DELETE too (wire contract Q11). A handler parses the request, calls one use case
(``services.*``, which checks the principal's permission itself) and renders its answer.
Read-only tokens get 403 on every write before the body is read (the use case checks again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from atoll.errors import InvalidInput
from atoll.models import Principal
from atoll.server.auth import base_principal, context
from atoll.server.bodies import query_bool, read_json
from atoll.services import access
from atoll.services import columns as column_service
from atoll.services import rows as row_service
from atoll.services import tables as table_service
from atoll.services import views as view_service
from atoll.services.context import Context
from atoll.services.structure import TableRef
from atoll.wire import json_bounds
from atoll.wire import rows as wire_rows
from atoll.wire import tables as wire_tables
from atoll.wire.errors import Family, family_for_path

WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})


@dataclass(frozen=True)
class Call:
    ctx: Context
    principal: Principal
    body: dict[str, Any]
    args: dict[str, Any]  # query string, then the body on top
    gateway: bool

    @property
    def table(self) -> TableRef:
        return TableRef.from_args(self.args)

    def int_arg(self, name: str, default: int, *, minimum: int = json_bounds.INT64_MIN) -> int:
        """A number from the query string or the body (the body wins), bounded to 64 bits."""
        return json_bounds.as_int(self.args.get(name), name, default, minimum=minimum)


async def _call(request: Request, *, write: bool | None = None) -> Call:
    principal = await base_principal(request, request.path_params["dtable_uuid"])
    if write if write is not None else request.method in WRITE_METHODS:
        access.require_write(principal)
    body = await read_json(request, required=False)
    args: dict[str, Any] = {**request.query_params, **body}
    gateway = family_for_path(request.url.path) is Family.GATEWAY
    return Call(context(request), principal, body, args, gateway)


def _json(value: object) -> Response:
    return JSONResponse(value)


def _success() -> Response:
    return _json(wire_rows.success_json())


# ---- metadata and tables -------------------------------------------------------------------


async def metadata(request: Request) -> Response:
    call = await _call(request)
    md = await table_service.get_metadata(call.ctx, call.principal)
    return _json(wire_tables.metadata_json(md.version, md.tables, md.settings))


async def tables(request: Request) -> Response:
    call = await _call(request)
    ctx, principal, args = call.ctx, call.principal, call.args
    if request.method == "POST":
        table = await table_service.add_table(
            ctx, principal, table_name=args.get("table_name"), columns=args.get("columns")
        )
        return _json(wire_tables.table_json(table))
    if request.method == "PUT":
        await table_service.rename_table(ctx, principal, call.table, new_name=args.get("new_table_name"))
        return _success()
    await table_service.delete_table(ctx, principal, call.table)
    return _success()


# ---- columns -------------------------------------------------------------------------------


async def columns(request: Request) -> Response:
    call = await _call(request)
    ctx, principal, args = call.ctx, call.principal, call.args
    if request.method == "GET":
        found = await column_service.list_columns(ctx, principal, call.table, view_name=args.get("view_name"))
        return _json(wire_tables.columns_json(found))
    if request.method == "POST":
        column = await column_service.insert_column(
            ctx,
            principal,
            call.table,
            column_name=args.get("column_name"),
            column_type=args.get("column_type"),
            data=args.get("column_data"),
            anchor_column=args.get("anchor_column"),
        )
        return _json(wire_tables.column_json(column))
    if request.method == "PUT":
        column = await column_service.update_column(
            ctx, principal, call.table, op_type=args.get("op_type"), column_ref=args.get("column"), args=args
        )
        return _json(wire_tables.column_json(column))
    await column_service.delete_column(ctx, principal, call.table, column_ref=args.get("column"))
    return _success()


async def column_options(request: Request) -> Response:
    """POST column-options/ ``{table_name, column, options}`` (add_column_options)."""
    call = await _call(request)
    await column_service.add_column_options(
        call.ctx,
        call.principal,
        call.table,
        column_ref=call.args.get("column"),
        options=call.args.get("options"),
    )
    return _success()


async def batch_append_columns(request: Request) -> Response:
    """POST batch-append-columns/ ``{table_name, columns}`` -> ``{"columns": [the new ones]}``."""
    call = await _call(request)
    made = await column_service.batch_append_columns(
        call.ctx, call.principal, call.table, columns=call.args.get("columns")
    )
    return _json(wire_tables.columns_json(made))


# ---- rows ----------------------------------------------------------------------------------


async def rows(request: Request) -> Response:
    if request.method == "GET":
        return await _list_rows(request)
    call = await _call(request)
    if request.method == "POST":
        return await _append(call)
    if request.method == "PUT":
        return await _update(call, wire_rows.updates_from_body(call.args))
    return await _delete(call, wire_rows.row_ids_from_body(call.args))


async def _list_rows(request: Request) -> Response:
    call = await _call(request)
    max_page = call.ctx.settings.max_rows_per_page
    limit = call.int_arg("limit", max_page)
    page = await row_service.list_rows(
        call.ctx,
        call.principal,
        call.table,
        view_name=call.args.get("view_name"),
        order_by=call.args.get("order_by"),
        direction=call.args.get("direction"),
        start=call.int_arg("start", 0, minimum=0),
        limit=min(limit, max_page) if limit > 0 else max_page,
    )
    by_name = query_bool(request, "convert_keys")
    return _json(wire_rows.rows_json(page.rows, page.columns, gateway=call.gateway, by_name=by_name))


async def row(request: Request) -> Response:
    call = await _call(request)
    page = await row_service.get_row(
        call.ctx, call.principal, call.table, row_id=request.path_params["row_id"]
    )
    by_name = query_bool(request, "convert_keys")
    return _json(wire_rows.row_json(page.rows[0], page.columns, gateway=call.gateway, by_name=by_name))


async def _append(call: Call) -> Response:
    """Gateway: ``rows: [...]`` -> count, ids, first_row. v1: ``row`` -> the raw row;
    ``anchor_row_id`` (v1 insert_row) places it after that row."""
    if "rows" in call.args:
        made = await row_service.append_rows(call.ctx, call.principal, call.table, rows=call.args["rows"])
        if call.gateway:
            return _json(wire_rows.gateway_append_json(made))
        return _json(wire_rows.batch_append_json(len(made)))
    if "row" not in call.args:
        raise InvalidInput("rows invalid.")
    made = await row_service.append_rows(
        call.ctx,
        call.principal,
        call.table,
        rows=[call.args["row"]],
        anchor_row_id=call.args.get("anchor_row_id"),
    )
    if call.gateway:
        return _json(wire_rows.gateway_append_json(made))
    return _json(wire_rows.raw_row(made[0]))


async def _update(call: Call, updates: object) -> Response:
    await row_service.update_rows(call.ctx, call.principal, call.table, updates=updates)
    return _success()


async def _delete(call: Call, row_ids: object) -> Response:
    deleted = await row_service.delete_rows(call.ctx, call.principal, call.table, row_ids=row_ids)
    return _json(wire_rows.delete_rows_json(deleted, gateway=call.gateway))


async def batch_append_rows(request: Request) -> Response:
    call = await _call(request)
    made = await row_service.append_rows(call.ctx, call.principal, call.table, rows=call.args.get("rows"))
    return _json(wire_rows.batch_append_json(len(made)))


async def batch_update_rows(request: Request) -> Response:
    call = await _call(request)
    return await _update(call, call.args.get("updates"))


async def batch_delete_rows(request: Request) -> Response:
    call = await _call(request)
    return await _delete(call, call.args.get("row_ids"))


async def filtered_rows(request: Request) -> Response:
    """GET (or POST) with a JSON body ``{filters, filter_conjunction}``; rows keyed by name."""
    call = await _call(request, write=False)
    page = await row_service.filter_rows(
        call.ctx,
        call.principal,
        call.table,
        filters=call.args.get("filters"),
        conjunction=call.args.get("filter_conjunction") or "And",
        view_name=call.args.get("view_name"),
        limit=call.ctx.settings.max_rows_per_page,
    )
    return _json(wire_rows.rows_json(page.rows, page.columns, gateway=call.gateway, by_name=True))


# ---- views ---------------------------------------------------------------------------------


async def views(request: Request) -> Response:
    call = await _call(request)
    if request.method == "GET":
        return _json(
            wire_tables.views_json(await view_service.list_views(call.ctx, call.principal, call.table))
        )
    made = await view_service.add_view(
        call.ctx, call.principal, call.table, name=call.body.get("name"), view_type=call.body.get("type")
    )
    return _json(wire_tables.view_json(made))


async def view(request: Request) -> Response:
    call = await _call(request)
    ctx, principal, name = call.ctx, call.principal, request.path_params["view_name"]
    if request.method == "GET":
        return _json(
            wire_tables.view_json(await view_service.get_view(ctx, principal, call.table, name=name))
        )
    if request.method == "PUT":
        changed = await view_service.update_view(ctx, principal, call.table, name=name, changes=call.body)
        return _json(wire_tables.view_json(changed))
    await view_service.delete_view(ctx, principal, call.table, name=name)
    return _success()
