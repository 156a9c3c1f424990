"""A SeaTable ``.dtable`` file built to the layout SeaTable writes (``dtable-events``'
``dtable_io``): a zip with ``content.json`` (tables with columns, rows and views; ``links``;
settings), the asset tree under ``asset/`` that cells point at with
``file://dtable-bundle/asset/...`` URLs, and the side documents atoll has no counterpart for."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

BUNDLE = "file://dtable-bundle/asset/"
README = b"# read me\n" * 50
PHOTO = os.urandom(40_000)
CUSTOM = b"a file in a custom folder"


def _col(key: str, name: str, kind: str, data: Any = None) -> dict[str, Any]:
    return {"key": key, "name": name, "type": kind, "width": 200, "editable": True, "data": data}


def content() -> dict[str, Any]:
    tasks = {
        "_id": "0000",
        "name": "Tasks",
        "columns": [
            _col("0000", "Name", "text"),
            _col("n1", "Count", "number", {"format": "number"}),
            _col("f1", "Doc", "file"),
            _col("i1", "Photo", "image"),
            _col("l1", "Notes", "long-text"),
            _col(
                "k1",
                "Owner",
                "link",
                {
                    "link_id": "lk01",
                    "table_id": "0000",
                    "other_table_id": "pppp",
                    "display_column_key": "0000",
                },
            ),
            _col("fx", "Double", "formula", {"formula": "{Count} * 2"}),
            _col("fz", "Weird", "formula", {"formula": "NO_SUCH_FUNCTION({Count})"}),
            _col("zz", "Signature pad", "signature-pad-plugin"),
        ],
        "rows": [
            {
                "_id": "AAAAAAAAAAAAAAAAAAAAAA",
                "_ctime": "2024-01-02T03:04:05.000+00:00",
                "_mtime": "2024-01-03T03:04:05Z",
                "_creator": "ada@example.com",
                "0000": "first",
                "n1": 2,
                "f1": [
                    {
                        "name": "README.md",
                        "size": len(README),
                        "type": "file",
                        "url": BUNDLE + "files/2020-01/README.md",
                    }
                ],
                "i1": [BUNDLE + "images/2020-01/a%20photo.png", "https://elsewhere.example/x.png"],
                "l1": {
                    "text": f"look ![]({BUNDLE}images/2020-01/a%20photo.png)",
                    "images": [BUNDLE + "images/2020-01/a%20photo.png"],
                    "preview": "look",
                },
                "zz": "signed",
            },
            {
                "_id": "BBBBBBBBBBBBBBBBBBBBBB",
                "0000": "second",
                "n1": 5,
                "f1": [
                    {"name": "gone.txt", "size": 3, "type": "file", "url": BUNDLE + "files/2020-01/gone.txt"}
                ],
            },
        ],
        "views": [
            {
                "_id": "0000",
                "name": "Default View",
                "type": "table",
                "filters": [],
                "sorts": [{"column_key": "n1", "sort_type": "up"}, {"column_key": "zz", "sort_type": "up"}],
                "hidden_columns": ["zz", "l1"],
            },
            {"_id": "kb01", "name": "Board", "type": "kanban"},
        ],
    }
    people = {
        "_id": "pppp",
        "name": "People",
        "columns": [
            _col("0000", "Name", "text"),
            _col(
                "k2",
                "Tasks",
                "link",
                {
                    "link_id": "lk01",
                    "table_id": "pppp",
                    "other_table_id": "0000",
                    "display_column_key": "0000",
                },
            ),
        ],
        "rows": [
            {"_id": "PPPPPPPPPPPPPPPPPPPPP1", "0000": "Ada"},
            {"_id": "PPPPPPPPPPPPPPPPPPPPP2", "0000": "Bo"},
        ],
        "views": [{"_id": "0000", "name": "Default View", "type": "table"}],
    }
    return {
        "version": 120,
        "format_version": 8,
        "tables": [tasks, people],
        "links": [
            {
                "_id": "lk01",
                "table1_id": "0000",
                "table2_id": "pppp",
                "table1_table2_map": {
                    "AAAAAAAAAAAAAAAAAAAAAA": ["PPPPPPPPPPPPPPPPPPPPP1", "PPPPPPPPPPPPPPPPPPPPP2"],
                    "BBBBBBBBBBBBBBBBBBBBBB": ["PPPPPPPPPPPPPPPPPPPPP2", "NOSUCHROWNOSUCHROW0000"],
                },
                "table2_table1_map": {},
            }
        ],
        "settings": {"date_settings": {"first_day_of_week": "Monday"}},
        "plugin_settings": {"gallery": [{"name": "G"}]},
    }


ASSETS = {
    "asset/files/2020-01/README.md": README,
    "asset/images/2020-01/a photo.png": PHOTO,
    "asset/custom/Main/custom.txt": CUSTOM,
}


def write_dtable(
    path: Path,
    *,
    extra: dict[str, bytes] | None = None,
    body: dict[str, Any] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        zf.writestr("content.json", json.dumps(body or content()))
        for name, data in ASSETS.items():
            zf.writestr(name, data)
        zf.writestr(
            "forms.json", json.dumps([{"username": "a", "form_config": "{}", "share_type": "anonymous"}])
        )
        zf.writestr(
            "auto_rules.json", json.dumps([{"run_condition": "per_update", "trigger": "{}", "actions": "[]"}])
        )
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path
