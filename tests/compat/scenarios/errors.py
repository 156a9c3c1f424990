"""Auth failures and a read-only API token.

argv: server_url, rw api_token. Environment: COMPAT_RO_TOKEN, a read-only (``--permission r``)
token for the same base.

Run: <client-venv>/bin/python errors.py <server_url> <api_token>
"""

from __future__ import annotations

import os

from _common import (
    MONTH,
    SERVER_URL,
    auth,
    begin,
    content_for,
    http_get,
    sha256,
)

Base, version, ck = begin()
RO_TOKEN = os.environ["COMPAT_RO_TOKEN"]

# A wrong API token: auth() raises.
with ck("wrong_token") as r:
    r["result"] = ck.expect_error(Base("0123456789abcdef0123456789abcdef01234567", SERVER_URL).auth)
with ck("garbage_token") as r:
    r["result"] = ck.expect_error(Base("not a token", SERVER_URL).auth)

# Set up the base with the read-write token.
rw = auth(ck, Base, name="auth_rw")
with ck("setup") as r:
    rw.add_table(
        "Table1",
        columns=[
            {"column_name": "Name", "column_type": "text"},
            {"column_name": "file_col", "column_type": "file"},
        ],
    )
    info = rw.upload_bytes_file("ro.txt", content_for("ro.txt"))
    row_id = rw.append_row("Table1", {"Name": "kept", "file_col": [info]})["_id"]
    r["row_id"] = row_id
    r["info"] = info
    r["sha256"] = sha256(content_for("ro.txt"))

ro = auth(ck, Base, token=RO_TOKEN, name="auth_ro")
row_id = ck.results["setup"].get("row_id") or "AAAAAAAAAAAAAAAAAAAAAA"
info = ck.results["setup"].get("info") or {}

with ck("ro_reads") as r:
    rows = ro.list_rows("Table1")
    r["names"] = [x.get("Name") for x in rows]
    r["get_row"] = ro.get_row("Table1", row_id).get("Name")
    r["tables"] = [t.get("name") for t in ro.list_tables()]

with ck("ro_download") as r:
    link = ro.get_file_download_link(f"files/{MONTH}/ro.txt")
    status, body, _ = http_get(link)
    r["status"] = status
    r["sha256"] = sha256(body)

with ck("ro_writes") as r:
    r["get_file_upload_link"] = ck.expect_error(ro.get_file_upload_link)
    r["upload_bytes_file"] = ck.expect_error(ro.upload_bytes_file, "ro2.txt", b"x")
    r["update_row"] = ck.expect_error(ro.update_row, "Table1", row_id, {"Name": "changed"})
    r["append_row"] = ck.expect_error(ro.append_row, "Table1", {"Name": "new"})
    r["delete_row"] = ck.expect_error(ro.delete_row, "Table1", row_id)
    r["add_table"] = ck.expect_error(ro.add_table, "Other")
    r["custom_upload_link"] = ck.expect_error(ro.get_custom_file_upload_link, "/")

with ck("after_ro_writes") as r:
    r["names"] = [x.get("Name") for x in rw.list_rows("Table1")]
    r["tables"] = [t.get("name") for t in rw.list_tables()]

# The JWT of one base is not an API token (app-access-token wants an API token).
with ck("jwt_as_api_token") as r:
    r["result"] = (
        ck.expect_error(Base(rw.jwt_token, SERVER_URL).auth)
        if hasattr(rw, "jwt_token")
        else {"skipped": True}
    )

ck.emit()
