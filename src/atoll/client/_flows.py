"""Retries, one JSON exchange and the streamed multipart upload, as operations (``_effects``)
that ``Base`` and ``AsyncBase`` both run: the logic once, the I/O in the two transports."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import httpx

from atoll.client import _requests as rq
from atoll.client._effects import Exchange, Op, Sleep
from atoll.client._transport import (
    CONNECT_PHASE,
    Incomplete,
    Progress,
    StatusRetry,
    TimeoutArg,
    TransportState,
    UploadSource,
    transfer_error,
)
from atoll.client.exceptions import AtollHTTPError

T = TypeVar("T")


def retrying(
    t: TransportState,
    attempt: Callable[[], Op[T]],
    *,
    idempotent: bool,
    can_restart: Callable[[], bool] = lambda: True,
    progressed: Callable[[], bool] = lambda: False,
) -> Op[T]:
    """Run ``attempt()`` until it returns, retrying transient failures where that is safe,
    with capped exponential backoff. ``progressed()`` true after a failed attempt (a download
    that got further) starts the count of retries again."""
    failures = 0
    while True:
        try:
            result = yield from attempt()
        except StatusRetry as r:
            t.reached = True
            if failures >= t.retries or not can_restart():
                raise rq.http_error(r.status, r.content) from None
            delay = t.retry.delay(failures, r.retry_after)
        except AtollHTTPError:
            t.reached = True  # an answer, if not a welcome one
            raise
        except (httpx.TransportError, Incomplete) as exc:
            connect_phase = isinstance(exc, CONNECT_PHASE)
            if not connect_phase:
                t.reached = True
            if progressed():
                failures = 0
            # a connection that never worked is not transient: no retry until one did
            safe = (idempotent or connect_phase) and t.reached
            if failures >= t.retries or not safe or not can_restart():
                raise transfer_error(exc, t.server_url) from exc
            delay = t.retry.delay(failures)
        else:
            t.reached = True
            return result
        yield Sleep(delay)
        failures += 1


def check_retry(response: httpx.Response, idempotent: bool) -> None:
    """Raise StatusRetry for a transient status where repeating is safe (the body must have
    been read). 429 is always safe: the server refused the request without acting on it."""
    status = response.status_code
    if rq.retryable_status(status) and (idempotent or status == 429):
        raise StatusRetry(
            status, response.content, rq.parse_retry_after(response.headers.get("retry-after"))
        )


def send_json(
    t: TransportState, spec: rq.RequestSpec, headers: dict[str, str], timeout: TimeoutArg
) -> Op[Any]:
    """One JSON exchange with retries: the parsed answer, or the typed error."""

    def attempt() -> Op[Any]:
        response: httpx.Response = yield Exchange(
            spec.method, spec.url, t.httpx_timeout(timeout), headers=headers,
            params=tuple(spec.params) if spec.params is not None else None,
            content=spec.body_bytes(),
        )
        check_retry(response, spec.idempotent)
        return rq.parse_json(response.status_code, response.content)

    return (yield from retrying(t, attempt, idempotent=spec.idempotent))


def upload(
    t: TransportState,
    upload_link: str,
    fields: Sequence[tuple[str, str | None]],
    name: str,
    source: UploadSource,
    *,
    idempotent: bool,
    progress: Progress | None,
    timeout: TimeoutArg,
) -> Op[dict[str, Any]]:
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

    def attempt() -> Op[dict[str, Any]]:
        headers = {"Content-Type": layout.content_type}
        if total is not None:
            headers["Content-Length"] = str(layout.content_length(total))
        response: httpx.Response = yield Exchange(
            "POST", rq.upload_url(upload_link), t.httpx_timeout(timeout), headers=headers,
            content=body(),
        )
        check_retry(response, idempotent)
        return rq.parse_upload_response(response.status_code, response.content)

    return (yield from retrying(t, attempt, idempotent=idempotent, can_restart=source.can_restart))
