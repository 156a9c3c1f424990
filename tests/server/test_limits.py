"""server/limits.py: the body deadline and minimum rate, and per-line header checks."""

from __future__ import annotations

import asyncio
from typing import Any

from atoll.server.limits import BodyLimits, Limits, header_violation

LIMITS = Limits(max_header_line_bytes=100, max_header_bytes=300, header_read_timeout_s=5,
                body_read_timeout_s=0.05, min_body_rate=1024, body_rate_window_s=5, max_connections=10)
UPLOAD = {"type": "http", "method": "POST", "path": "/", "raw_path": b"/", "query_string": b"",
          "headers": [(b"content-length", b"10")]}


def run(limits: Limits, messages: list[dict[str, Any]] | None,
        pause: float = 0) -> tuple[list[dict[str, Any]], list[Any]]:
    """Call an app that reads the whole body and answers 200; return what it saw and what was sent."""
    seen: list[dict[str, Any]] = []
    sent: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            seen.append(message)
            if message["type"] == "http.disconnect":
                raise ConnectionError("client gone")  # as an endpoint that gives up
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive() -> dict[str, Any]:
        if messages:
            await asyncio.sleep(pause)
            return messages.pop(0)
        await asyncio.Event().wait()  # a client that sends nothing more
        raise AssertionError

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(BodyLimits(app, limits)(UPLOAD, receive, send))
    return seen, sent


def test_a_complete_body_passes_through() -> None:
    body = [{"type": "http.request", "body": b"12345", "more_body": True},
            {"type": "http.request", "body": b"67890", "more_body": False}]
    seen, sent = run(LIMITS, list(body))
    assert seen == body
    assert sent[0]["status"] == 200


def test_a_stalled_body_is_cut_off_with_408_and_close() -> None:
    seen, sent = run(LIMITS, [{"type": "http.request", "body": b"1", "more_body": True}])
    assert seen[-1] == {"type": "http.disconnect"}
    assert sent[0]["status"] == 408 and (b"connection", b"close") in sent[0]["headers"]
    assert len([m for m in sent if m["type"] == "http.response.start"]) == 1


def test_a_body_below_the_minimum_rate_is_cut_off() -> None:
    # Each byte earns 1/1024 s of credit but costs a wait of 2/1000 s: the body falls behind.
    limits = Limits(**{**LIMITS.__dict__, "body_read_timeout_s": 60, "body_rate_window_s": 0.02})
    trickle = [{"type": "http.request", "body": b"x", "more_body": True} for _ in range(1000)]
    seen, sent = run(limits, trickle, pause=0.002)
    assert seen[-1] == {"type": "http.disconnect"}
    assert len(seen) < 1000, "cut off while bytes were still arriving, not by a stall"
    assert sent[0]["status"] == 408


def test_header_lines_are_checked_one_by_one_and_in_total() -> None:
    scope: dict[str, Any] = {"raw_path": b"/", "query_string": b"", "headers": [(b"a", b"b" * 50)]}
    assert header_violation(scope, LIMITS) is None
    assert header_violation({**scope, "query_string": b"q" * 200}, LIMITS) == 414
    assert header_violation({**scope, "headers": [(b"a", b"b" * 200)]}, LIMITS) == 431
    assert header_violation({**scope, "headers": [(b"a", b"b" * 90)] * 4}, LIMITS) == 431


def test_a_steady_body_outlasting_the_deadline_many_times_is_never_cut() -> None:
    # One timer per request: it fires while pieces keep coming and must move on, not cut.
    steady = [{"type": "http.request", "body": b"x" * 100, "more_body": True} for _ in range(40)]
    steady.append({"type": "http.request", "body": b"", "more_body": False})
    seen, sent = run(LIMITS, list(steady), pause=0.01)  # 0.4 s in all, deadline 0.05 s per wait
    assert seen == steady
    assert sent[0]["status"] == 200


def test_a_cancellation_from_outside_is_not_swallowed() -> None:
    async def scenario() -> None:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            await receive()

        async def receive() -> dict[str, Any]:
            await asyncio.Event().wait()
            raise AssertionError

        async def send(message: Any) -> None:
            raise AssertionError("nothing may be sent")

        limits = Limits(**{**LIMITS.__dict__, "body_read_timeout_s": 60})
        task = asyncio.create_task(BodyLimits(app, limits)(UPLOAD, receive, send))
        await asyncio.sleep(0.01)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return
        raise AssertionError("the outside cancellation was swallowed")

    asyncio.run(scenario())
