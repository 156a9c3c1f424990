"""The smaller calls of the official client and dtable-sdk (issue 11 item 6): bulk insert,
cascade settings, toasts, related users and user info, the whole-base document, and the
explicit refusals (workflows, third-party accounts). See docs/misc-calls.md."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from atoll.errors import InvalidInput
from atoll.server.auth import any_principal, api_principal, base_principal, context
from atoll.server.bodies import read_json
from atoll.services import access, app_users, bulk_insert, cascade, notify, whole_base
from atoll.services.structure import TableRef
from atoll.wire import misc as w
from atoll.wire.rows import success_json


async def _args(request: Request) -> dict[str, Any]:
    body = await read_json(request, required=False)
    return {**request.query_params, **body}


async def insert_rows(request: Request) -> Response:
    """POST add-archived-rows/ (gateway) and dtable-db insert-rows/<uuid>/ (v1):
    ``{table_name, rows}`` -> ``{"inserted_row_count": N}``."""
    principal = await base_principal(request, request.path_params["dtable_uuid"])
    access.require_write(principal)
    args = await _args(request)
    count = await bulk_insert.insert_rows(
        context(request), principal, TableRef.from_args(args), rows=args.get("rows")
    )
    return JSONResponse(w.inserted_json(count))


async def cascade_settings(request: Request) -> Response:
    """POST column-cascade-settings/ ``{table_name, child_column, parent_column, cascade_settings}``."""
    principal = await base_principal(request, request.path_params["dtable_uuid"])
    access.require_write(principal)
    args = await _args(request)
    await cascade.add_cascade_settings(
        context(request),
        principal,
        TableRef.from_args(args),
        child=args.get("child_column"),
        parent=args.get("parent_column"),
        settings=args.get("cascade_settings"),
    )
    return JSONResponse(success_json())


async def ui_toasts(request: Request) -> Response:
    """POST ui-toasts/ ``{to_user, toast_type, detail: {msg}}`` -> ``{"success": true}``."""
    principal = await base_principal(request, request.path_params["dtable_uuid"])
    args = await _args(request)
    await notify.send_toast(context(request), principal, args)
    return JSONResponse(success_json())


async def related_users(request: Request) -> Response:
    principal = await base_principal(request, request.path_params["dtable_uuid"])
    users = await app_users.related_users(context(request), principal)
    return JSONResponse(w.related_users_json(users))


async def departments(request: Request) -> Response:
    """dtable-sdk reads the base's departments after loading it; atoll has none."""
    await base_principal(request, request.path_params["dtable_uuid"])
    return JSONResponse(w.departments_json())


async def user_info(request: Request) -> Response:
    principal = await api_principal(request)
    name = await app_users.user_info(context(request), principal, request.query_params.get("username"))
    return JSONResponse(w.user_info_json(name))


async def whole_base_document(request: Request) -> Response:
    principal = await base_principal(request, request.path_params["dtable_uuid"])
    pieces = await whole_base.whole_base(context(request), principal)
    return StreamingResponse(pieces, media_type="application/json")


async def third_party_account(request: Request) -> Response:
    """send_email / send_wechat_msg: refused (400), after the token is checked."""
    await api_principal(request)
    raise InvalidInput(w.THIRD_PARTY_UNSUPPORTED)


async def workflow_task(request: Request) -> Response:
    """add_workflow_task(_with_existed_row): refused (400), after the token is checked."""
    await any_principal(request)
    raise InvalidInput(w.WORKFLOWS_UNSUPPORTED)
