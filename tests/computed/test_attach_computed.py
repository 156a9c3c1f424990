"""Upload-and-attach creates or changes rows too: auto-number and formula cells follow."""

from __future__ import annotations

import json

from tests.assets.conftest import Env, env, make_env
from tests.assets.test_resumable_more import _gw, _rows, _tus

__all__ = ["env", "make_env"]


def test_attach_numbers_the_new_row_and_computes_formulas(env: Env) -> None:
    _gw(env, "POST", "/tables/", json={"table_name": "Docs", "columns": [
        {"column_name": "Note", "column_type": "text"},
        {"column_name": "Scan", "column_type": "file"},
        {"column_name": "No", "column_type": "auto-number", "column_data": {"format": "000", "digits": 3}},
        {"column_name": "Label", "column_type": "formula",
         "column_data": {"formula": "concatenate('#', {No})"}},
    ]})  # fmt: skip
    _gw(env, "POST", "/rows/", json={"table_name": "Docs", "rows": [{"Note": "first"}]})
    r = _tus(env, b"%PDF-1.7 ...", table="Docs", column="Scan")
    assert r.status_code == 201, r.text
    row_id = json.loads(r.headers["atoll-upload-result"])["row_id"]
    rows = {row["_id"]: row for row in _rows(env)}
    assert rows[row_id]["No"] == "002" and rows[row_id]["Label"] == "#002"
    assert [row["Label"] for row in _rows(env)] == ["#001", "#002"]
