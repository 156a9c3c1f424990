"""The column-type vocabulary is spelled once, in ``atoll.wire.columns``; the SDK's
``ColumnTypes`` names the same types as seatable-api 4.0.0 does."""

from __future__ import annotations

import atoll
from atoll.wire import columns


def test_sdk_column_types_are_wire_types_as_seatable_api_names_them() -> None:
    sdk = {t.value for t in atoll.ColumnTypes}
    assert sdk - {"default"} == columns.COLUMN_TYPES - {"digital-sign"}
    assert "default" not in columns.COLUMN_TYPES


def test_file_cell() -> None:
    assert columns.file_cell("image", 3, "a.png", "u") == {
        "type": "image", "size": 3, "name": "a.png", "url": "u"
    }
