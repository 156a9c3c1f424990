"""Tables, columns, rows and views (placeholder until the rows slice lands)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


async def _todo(request: Request) -> Response:
    return JSONResponse({"error_msg": "not implemented"}, status_code=501)


metadata = tables = columns = rows = row = _todo
batch_append_rows = batch_update_rows = batch_delete_rows = _todo
views = view = filtered_rows = _todo
