"""``download_zip``: the zip of a table's, view's or column's files (atoll's ``app-zip``
endpoint), streamed to a file (a temp file beside it, renamed at the end) or a binary file
object, with ``progress(done, None)`` (the archive's size is not known in advance). A broken
connection starts the archive again from its first byte (the server builds it anew)."""

from __future__ import annotations

from pathlib import Path

import httpx

from atoll.client import _requests as rq
from atoll.client._download import SaveTarget, _Download, _Sink
from atoll.client._effects import Body, Close, Exchange, Op, ReadAll, ReadChunk
from atoll.client._flows import check_retry, retrying
from atoll.client._transport import Progress, TimeoutArg, TransportState
from atoll.wire import endpoints as ep


def zip_params(
    table_name: str,
    *,
    view_name: str | None,
    column: str | None,
    row_ids: list[str] | None,
    template: str | None,
    compression: str | None,
) -> tuple[tuple[str, str], ...]:
    pairs = [("table_name", table_name), ("view_name", view_name), ("column", column),
             ("row_ids", ",".join(row_ids) if row_ids else None), ("template", template),
             ("compression", compression)]  # fmt: skip
    return tuple((k, v) for k, v in pairs if v)


def zip_download(
    t: TransportState,
    server_url: str,
    api_token: str,
    params: tuple[tuple[str, str], ...],
    save_path: SaveTarget,
    progress: Progress | None,
    timeout: TimeoutArg,
) -> Op[Path]:
    name = dict(params)["table_name"] + ".zip"
    dl = _Download(_Sink(save_path, name), progress)
    headers = rq.auth_headers(api_token, json_content=False)

    def attempt() -> Op[None]:
        if dl.received:
            dl.start_over()
        response: httpx.Response = yield Exchange(
            "GET", server_url + ep.APP_ZIP, t.httpx_timeout(timeout), headers=headers, params=params,
            stream=True,
        )  # fmt: skip
        try:
            if response.status_code != 200:
                yield ReadAll(response)
                check_retry(response, True)
                raise rq.http_error(response.status_code, response.content)
            body = Body(response)
            while chunk := (yield ReadChunk(body)):
                dl.got(chunk)
        except Exception:
            yield Close(response)
            raise
        yield Close(response)

    try:
        yield from retrying(t, attempt, idempotent=True)
        return dl.sink.finish()
    except BaseException:
        dl.sink.abort()
        raise
