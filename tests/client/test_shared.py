from __future__ import annotations

import json
from pathlib import Path

import pytest

from atoll.client import _requests as rq
from atoll.client.exceptions import (
    AtollHTTPError,
    AuthError,
    BadRequestError,
    NotFoundError,
    ServerError,
    TokenExpiredError,
    TooLargeError,
)

U = "650d8a0d-7e27-46a8-8b18-6cc6f3db2057"
S = rq.Session("http://h", "jwt", U, 7, "Demo", "http://h/api-gateway", "", True)
GW = f"http://h/api-gateway/api/v2/dtables/{U}/"


def test_json_body_is_what_requests_sends() -> None:
    assert rq.json_dumps({"a": "ü", "b": [1, True]}) == b'{"a": "\\u00fc", "b": [1, true]}'


def test_list_rows_params_like_4_0_0() -> None:
    spec = rq.list_rows(S, "Table1", "Default View", "Name", True, 0, 10)
    assert spec.method == "GET" and spec.url == GW + "rows/" and spec.idempotent
    assert spec.params == [
        ("table_name", "Table1"), ("convert_keys", "True"), ("view_name", "Default View"),
        ("order_by", "Name"), ("direction", "desc"), ("limit", "10"),
    ]  # start=0 is falsy, never sent
    assert rq.list_rows(S, "Task").params == [
        ("table_name", "Task"), ("convert_keys", "True"), ("table_id", "Task")
    ]


def test_row_bodies_like_4_0_0() -> None:
    assert rq.append_rows(S, "Table1", [{"a": 1}]).json_body == {
        "table_name": "Table1", "rows": [{"a": 1}]
    }
    spec = rq.append_rows(S, "Data", [{"a": 1}], apply_default=True)
    assert spec.json_body == {
        "table_name": "Data", "rows": [{"a": 1}], "table_id": "Data", "apply_default": True
    }
    assert spec.method == "POST" and not spec.idempotent
    # update_row never sends table_id (contract Q6)
    assert rq.update_row(S, "Data", "r1", {"a": 2}).json_body == {
        "table_name": "Data", "updates": [{"row_id": "r1", "row": {"a": 2}}]
    }
    assert rq.batch_update_rows(S, "Data", [{"row_id": "r", "row": {}}]).json_body == {
        "table_name": "Data", "updates": [{"row_id": "r", "row": {}}], "table_id": "Data"
    }
    d = rq.delete_rows(S, "T1", ["r1"])
    assert (d.method, d.url, d.json_body, d.idempotent) == (
        "DELETE", GW + "rows/", {"table_name": "T1", "row_ids": ["r1"]}, True
    )
    g = rq.get_row(S, "T1", "r1")
    assert g.url == GW + "rows/r1/" and g.params == [("table_name", "T1"), ("convert_keys", "True")]


def test_tables_and_columns() -> None:
    assert rq.add_table(S, "T").json_body == {"table_name": "T", "lang": "en"}
    assert rq.add_table(S, "T", "zh-cn", [{"column_name": "x"}]).json_body == {
        "table_name": "T", "lang": "zh-cn", "columns": [{"column_name": "x"}]
    }
    c = rq.insert_column(S, "Task", "Files", rq.ColumnTypes.FILE, "0000", {"x": 1})
    assert c.json_body == {
        "table_name": "Task", "column_name": "Files", "column_type": "file",
        "table_id": "Task", "anchor_column": "0000", "column_data": {"x": 1},
    }
    assert rq.insert_column(S, "T1", "N", "number").json_body["column_type"] == "number"
    with pytest.raises(ValueError):
        rq.insert_column(S, "T1", "N", "bogus")
    assert rq.list_columns(S, "T1", "V").params == [("table_name", "T1"), ("view_name", "V")]


def test_query_spec() -> None:
    q = rq.query(S, "select * from T", True, [1])
    assert q.url == GW + "sql" and q.idempotent
    assert q.json_body == {"sql": "select * from T", "parameters": [1], "convert_keys": True}
    assert not rq.query(S, "update T set a=1", False).idempotent


def test_dtable_web_specs() -> None:
    spec = rq.app_download_link("http://h", "files/a b.txt")
    assert spec.url == "http://h/api/v2.1/dtable/app-download-link/"
    assert spec.params == [("path", "files/a b.txt")] and spec.credential == "api_token"
    assert rq.custom_asset_file("http://h", "/Main", "x").params == [("path", "/Main"), ("name", "x")]
    assert rq.auth_headers("t") == {"Authorization": "Token t", "Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("status", "body", "cls", "message"),
    [
        (400, b'{"error_msg": "path x not found."}', BadRequestError, "path x not found."),
        (404, b'{"error_message": "row _id not exits"}', NotFoundError, "row _id not exits"),
        (401, b'{"detail": "Invalid token"}', AuthError, "Invalid token"),
        (403, b'{"error_msg": "Token expired."}', TokenExpiredError, "Token expired."),
        (403, b"Access token not found", AuthError, "Access token not found"),
        (400, b'{"error": "Parent dir doesn\'t exist.\n"}', BadRequestError,
         "Parent dir doesn't exist."),
        (413, b"File size is too large", TooLargeError, "File size is too large"),
        (442, b"File size is too large.", TooLargeError, "File size is too large."),
        (502, b"", ServerError, "Bad Gateway"),
        (404, b"<html><head><title>404</title></head><body>" + b"x" * 5000 + b"</body></html>",
         NotFoundError, "Not Found (the answer is an HTML page, not an atoll or SeaTable message)"),
        (500, b"Traceback (most recent call last):\n  File ...\nKeyError: 'x'\n", ServerError,
         "Internal Server Error (the answer is 60 bytes of text, not an atoll or SeaTable message)"),
        (599, b"", ServerError, "HTTP 599"),
        (409, b'{"non_field_errors": ["nope"]}', AtollHTTPError, "nope"),
    ],
)
def test_error_mapping(
    status: int, body: bytes, cls: type[AtollHTTPError], message: str
) -> None:
    with pytest.raises(cls) as info:
        rq.parse_json(status, body)
    err = info.value
    assert type(err) is cls
    assert (err.status, err.message) == (status, message)
    assert isinstance(err, ConnectionError)  # like the official client's errors
    assert err.args == (status, body.decode())
    assert str(err) == f"HTTP {status}: {message}"


def test_success_must_be_json() -> None:
    assert rq.parse_json(200, b'{"a": 1}') == {"a": 1}
    with pytest.raises(AtollHTTPError, match="not JSON"):
        rq.parse_json(200, b"<html>")


def test_upload_response() -> None:
    assert rq.parse_upload_response(200, b'[{"name": "a.txt", "size": 3}]') == {
        "name": "a.txt", "size": 3
    }
    with pytest.raises(AtollHTTPError):
        rq.parse_upload_response(200, b"[]")
    with pytest.raises(AuthError, match="Access token not found"):
        rq.parse_upload_response(403, b"Access token not found\n")


def test_cells() -> None:
    cell = rq.upload_cell(S, "image", "images/2025-08", "local.png", {"name": "a (1).png", "size": 5})
    assert cell == {
        "type": "image", "size": 5, "name": "a (1).png",
        "url": f"http://h/workspace/7/asset/{U}/images/2025-08/a%20%281%29.png",
    }
    data = {"dirent": {"obj_name": "x.pdf", "file_size": 9, "uuid": "abc"}}
    assert rq.custom_file_cell(data) == {
        "type": "file", "size": 9, "name": "x.pdf", "url": "custom-asset://abc.pdf"
    }


def test_multipart_is_byte_identical_to_requests() -> None:
    """What requests/urllib3 build for the official client's data=/files= call."""
    from urllib3.fields import RequestField
    from urllib3.filepost import encode_multipart_formdata

    name = 'we"ird\nname ü.txt'
    content = b"\x00\x01 payload"
    fields = rq.upload_fields(f"/asset/{U}", "files/2025-08", True)
    layout = rq.MultipartLayout(fields, name, boundary="b0undary")
    ours = layout.head + content + layout.tail

    rfs = []
    for k, v in fields:
        part = RequestField(name=k, data=v)
        part.make_multipart()
        rfs.append(part)
    part = RequestField(name="file", data=content, filename=name)
    part.make_multipart(content_type=None)
    rfs.append(part)
    theirs, ctype = encode_multipart_formdata(rfs, boundary="b0undary")
    assert ours == theirs
    assert layout.content_type == ctype
    assert layout.content_length(len(content)) == len(theirs)


def test_resolve_save_path(tmp_path: Path) -> None:
    assert rq.resolve_save_path(tmp_path, "a.txt") == tmp_path / "a.txt"
    assert rq.resolve_save_path(str(tmp_path / "new") + "/", "a.txt") == tmp_path / "new" / "a.txt"
    assert rq.resolve_save_path(tmp_path / "b.bin", "a.txt") == tmp_path / "b.bin"
    with pytest.raises(ValueError):
        rq.resolve_save_path(tmp_path, "")


def test_local_name() -> None:
    assert rq.local_name("/Users/Desktop/a.png") == "a.png"
    assert rq.local_name(Path("dir/b.txt")) == "b.txt"


def test_retry_policy() -> None:
    p = rq.RetryPolicy(retries=5, backoff_base=0.5, backoff_max=4.0)
    for attempt in range(8):
        d = p.delay(attempt)
        ceiling = min(4.0, 0.5 * 2**attempt)
        assert ceiling / 2 <= d <= ceiling
    assert p.delay(0, retry_after=2.0) == 2.0
    assert p.delay(0, retry_after=100.0) == 4.0
    assert rq.parse_retry_after("3") == 3.0
    assert rq.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None
    assert rq.retryable_status(503) and rq.retryable_status(429) and not rq.retryable_status(500)


def test_parse_auth() -> None:
    s = rq.parse_auth("http://h", {"access_token": "j", "dtable_uuid": U, "workspace_id": 3,
                                   "dtable_server": "http://h/api-gateway/",
                                   "use_api_gateway": True})
    assert s.gateway == f"http://h/api-gateway/api/v2/dtables/{U}/"
    assert s.dtable_server_url == "http://h/api-gateway"
    with pytest.raises(AtollHTTPError):
        rq.parse_auth("http://h", {"x": 1})
    assert json.loads(json.dumps(dict(s.raw)))["workspace_id"] == 3
