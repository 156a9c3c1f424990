"""HTTP Range requests (RFC 9110 §14) for stores that have no file to hand to FileResponse.

One range per request: a multi-range request is answered with the whole file (200), which the
RFC allows. An unsatisfiable range is a 416 with ``Content-Range: bytes */size``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


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
        length = min(int(last), size)
        if length == 0:
            raise RangeNotSatisfiable(size)
        return ByteRange(size - length, size)
    start = int(first)
    end = size if not last else min(int(last) + 1, size)
    if start >= size or (last and int(last) < start):
        raise RangeNotSatisfiable(size)
    return ByteRange(start, end)
