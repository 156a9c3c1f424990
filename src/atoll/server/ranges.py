"""HTTP Range requests (RFC 9110 §14) for stores that have no file to hand to FileResponse.

One range per request: a multi-range request is answered with the whole file (200), which the
RFC allows. An unsatisfiable range is a 416 with ``Content-Range: bytes */size``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RANGE = re.compile(r"^\s*bytes\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*$", re.IGNORECASE)
#: Positions longer than this are larger than any file; they saturate instead of being converted
#: (``int()`` refuses more than 4300 digits, and a long conversion is quadratic).
MAX_POSITION_DIGITS = 19
_HUGE = 2**63


def _position(digits: str) -> int:
    return int(digits) if len(digits) <= MAX_POSITION_DIGITS else _HUGE


class RangeNotSatisfiable(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(f"bytes */{size}")
        self.size = size


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # exclusive

    @property
    def length(self) -> int:
        return self.end - self.start

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end - 1}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range asked for, or None for the whole file (no header, multi-range, malformed)."""
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None  # malformed or several ranges: serve the whole file
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        length = min(_position(last), size)
        if length == 0:
            raise RangeNotSatisfiable(size)
        return ByteRange(size - length, size)
    start = _position(first)
    end = size if not last else min(_position(last) + 1, size)
    if start >= size or (last and _position(last) < start):
        raise RangeNotSatisfiable(size)
    return ByteRange(start, end)
