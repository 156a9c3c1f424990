"""Seafile's resumable upload headers on ``upload-api``: ``Content-Range: bytes a-b/total`` and
``Content-Disposition: attachment; filename="<percent-encoded name>"`` (wire contract §4.3.8)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from atoll.errors import InvalidInput

_RANGE = re.compile(r"^\s*bytes\s+(\d{1,19})-(\d{1,19})/(\d{1,19})\s*$")
_FILENAME = re.compile(r'filename\s*=\s*"((?:[^"\\]|\\.)*)"|filename\s*=\s*([^;\s]+)', re.IGNORECASE)


@dataclass(frozen=True)
class ChunkRange:
    first: int
    last: int
    total: int

    @property
    def size(self) -> int:
        return self.last - self.first + 1


def parse_content_range(header: str) -> ChunkRange:
    """``bytes a-b/total`` with ``a <= b < total``; anything else is a 400."""
    match = _RANGE.match(header)
    if match is None:
        raise InvalidInput("Invalid Content-Range: expected bytes <first>-<last>/<total>.")
    first, last, total = (int(g) for g in match.groups())
    if first > last or last >= total:
        raise InvalidInput(f"Invalid Content-Range: bytes {first}-{last}/{total} is not inside the file.")
    return ChunkRange(first, last, total)


def disposition_name(header: str | None) -> str | None:
    """The percent-decoded ``filename`` of a Content-Disposition request header, if any."""
    if not header:
        return None
    match = _FILENAME.search(header)
    if match is None:
        return None
    raw = match.group(1) if match.group(1) is not None else match.group(2)
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise InvalidInput("invalid fileName: the Content-Disposition filename is not UTF-8.") from None


def held_json(message: str, held: int) -> dict[str, object]:
    """A chunk that does not fit: the error and how many bytes the server holds."""
    return {"error": message, "uploadedBytes": held}


def uploaded_bytes_json(held: int) -> dict[str, int]:
    return {"uploadedBytes": held}
