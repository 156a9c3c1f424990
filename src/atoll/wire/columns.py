"""SeaTable's column types and the shape of a file-column cell: the one spelling of each.

The server accepts exactly ``COLUMN_TYPES``; the SDK's ``atoll.ColumnTypes`` names the same
types the way seatable-api 4.0.0 does (it adds ``"default"`` and lacks ``"digital-sign"``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ColumnType(StrEnum):
    """Every column type a table may hold (SeaTable 6.x)."""

    TEXT = "text"
    LONG_TEXT = "long-text"
    NUMBER = "number"
    CHECKBOX = "checkbox"
    DATE = "date"
    SINGLE_SELECT = "single-select"
    MULTIPLE_SELECT = "multiple-select"
    IMAGE = "image"
    FILE = "file"
    COLLABORATOR = "collaborator"
    LINK = "link"
    FORMULA = "formula"
    LINK_FORMULA = "link-formula"
    CREATOR = "creator"
    CTIME = "ctime"
    LAST_MODIFIER = "last-modifier"
    MTIME = "mtime"
    GEOLOCATION = "geolocation"
    AUTO_NUMBER = "auto-number"
    URL = "url"
    EMAIL = "email"
    DURATION = "duration"
    BUTTON = "button"
    RATE = "rate"
    DIGITAL_SIGN = "digital-sign"


#: The ``column_type`` values a new column may have.
COLUMN_TYPES: frozenset[str] = frozenset(t.value for t in ColumnType)

#: The column types whose cells hold files, and the ``type`` a file-cell entry carries.
FILE_CELL_TYPES: tuple[str, ...] = (ColumnType.FILE.value, ColumnType.IMAGE.value)
#: The keys of a file-cell entry, exactly.
FILE_CELL_KEYS = frozenset({"name", "size", "type", "url"})


def file_cell(file_type: str, size: int | None, name: str | None, url: str) -> dict[str, Any]:
    """A file-column cell entry (image columns store only ``url``)."""
    return {"type": file_type, "size": size, "name": name, "url": url}
