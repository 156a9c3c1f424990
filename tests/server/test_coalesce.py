"""CoalescingTransport: the small writes of one loop turn leave as one write, bounded."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from atoll.server.coalesce import COALESCE_MAX_BYTES, CoalescingTransport


class Recording:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.events: list[str] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))
        self.events.append("write")

    def writelines(self, lines: list[bytes]) -> None:  # one vectored send, as uvloop's
        self.write(b"".join(lines))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.events.append("close")
        self.closing = True

    def write_eof(self) -> None:
        self.events.append("eof")

    def abort(self) -> None:
        self.events.append("abort")
        self.closing = True

    def get_write_buffer_size(self) -> int:
        return 7

    def pause_reading(self) -> None:
        self.events.append("pause")


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def _turn(loop: asyncio.AbstractEventLoop) -> None:
    loop.run_until_complete(asyncio.sleep(0))


def test_small_writes_of_one_turn_leave_as_one(loop: asyncio.AbstractEventLoop) -> None:
    raw = Recording()
    t = CoalescingTransport(raw, loop)  # type: ignore[arg-type]
    t.write(b"HTTP/1.1 200 OK\r\n\r\n")
    t.write(bytearray(b"body"))
    assert raw.writes == [] and t.get_write_buffer_size() == 7 + 23
    _turn(loop)
    assert raw.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
    t.write(b"next")
    _turn(loop)
    assert raw.writes[-1] == b"next" and len(raw.writes) == 2


def test_a_large_write_goes_out_at_once_after_what_is_held(loop: asyncio.AbstractEventLoop) -> None:
    raw = Recording()
    t = CoalescingTransport(raw, loop)  # type: ignore[arg-type]
    big = b"x" * COALESCE_MAX_BYTES
    t.write(b"head")
    t.write(big)
    assert raw.writes == [b"head" + big]  # at once: flow control sees it
    t.write(big)
    assert raw.writes[-1] is big  # nothing held: passed on as is, no copy
    _turn(loop)
    assert len(raw.writes) == 2


def test_held_bytes_stay_under_the_bound(loop: asyncio.AbstractEventLoop) -> None:
    raw = Recording()
    t = CoalescingTransport(raw, loop)  # type: ignore[arg-type]
    piece = b"y" * 1000
    for _ in range(200):  # 200 KB in one turn, as a stream that never yields would write
        t.write(piece)
        assert t.get_write_buffer_size() - 7 < COALESCE_MAX_BYTES
    _turn(loop)
    assert b"".join(raw.writes) == piece * 200


def test_close_and_eof_send_what_is_held_first_abort_drops_it(loop: asyncio.AbstractEventLoop) -> None:
    raw = Recording()
    t = CoalescingTransport(raw, loop)  # type: ignore[arg-type]
    t.write(b"answer")
    t.write_eof()
    t.write(b"last")
    t.close()
    assert raw.events == ["write", "eof", "write", "close"]
    assert raw.writes == [b"answer", b"last"]
    other = Recording()
    t2 = CoalescingTransport(other, loop)  # type: ignore[arg-type]
    t2.write(b"never")
    t2.abort()
    _turn(loop)
    assert other.writes == [] and other.events == ["abort"]


def test_nothing_is_sent_on_a_closing_connection_and_the_rest_is_proxied(
    loop: asyncio.AbstractEventLoop,
) -> None:
    raw = Recording()
    t = CoalescingTransport(raw, loop)  # type: ignore[arg-type]
    t.write(b"late")
    raw.closing = True  # the peer went away before the turn ended
    _turn(loop)
    assert raw.writes == []
    t.pause_reading()
    assert raw.events == ["pause"]
