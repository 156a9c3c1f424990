"""``atoll.Base`` against an in-process fake server: exact requests, streaming, retries, errors."""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import atoll
from atoll.client.sync import Base
from tests.client.fakes import API_TOKEN, SERVER, UUID, FakeSeaTable, Seen, chunks

MiB = 1024 * 1024


@pytest.fixture
def fake() -> FakeSeaTable:
    return FakeSeaTable()


def make_base(fake: httpx.BaseTransport, **kw: Any) -> tuple[Base, list[float]]:
    base = atoll.Base(API_TOKEN, SERVER + "/", http=httpx.Client(transport=fake), **kw)
    sleeps: list[float] = []
    base._transport.sleep = sleeps.append
    return base, sleeps


@pytest.fixture
def base(fake: FakeSeaTable) -> Base:
    b, _ = make_base(fake)
    b.auth()
    fake.seen.clear()
    return b


def fail_times(n: int, status: int, path_part: str, **kw: Any) -> Any:
    state = {"left": n}

    def hook(s: Seen) -> httpx.Response | None:
        if path_part in s.path and state["left"] > 0:
            state["left"] -= 1
            return httpx.Response(status, **kw)
        return None

    return hook


def raise_times(n: int, exc: type[Exception], path_part: str) -> Any:
    state = {"left": n}

    def hook(s: Seen) -> httpx.Response | None:
        if path_part in s.path and state["left"] > 0:
            state["left"] -= 1
            raise exc("boom")
        return None

    return hook


# -- auth -------------------------------------------------------------------------------------


def test_auth_sets_official_attributes(fake: FakeSeaTable) -> None:
    b, _ = make_base(fake)
    data = b.auth()
    assert data["dtable_uuid"] == UUID
    (s,) = fake.seen
    assert (s.method, str(s.url)) == ("GET", SERVER + "/api/v2.1/dtable/app-access-token/")
    assert s.headers["authorization"] == f"Token {API_TOKEN}"
    assert s.headers["content-type"] == "application/json"
    assert (b.dtable_uuid, b.workspace_id, b.dtable_name, b.jwt_token) == (UUID, 7, "Demo", "jwt-1")
    assert b.is_authed and b.use_api_gateway and b.server_url == SERVER
    assert b.dtable_server_url == SERVER + "/api-gateway"
    assert str(b) == "<SeaTable Base [ Demo ]>"


def test_methods_auth_lazily(fake: FakeSeaTable) -> None:
    b, _ = make_base(fake)
    assert b.list_rows("Table1") == [{"_id": "r1", "Name": "a"}]
    assert fake.seen[0].path == "/api/v2.1/dtable/app-access-token/"


def test_bad_api_token_is_auth_error(fake: FakeSeaTable) -> None:
    b = atoll.Base("wrong", SERVER, http=httpx.Client(transport=fake))
    with pytest.raises(atoll.AuthError) as info:
        b.auth()
    assert info.value.status == 403 and info.value.message == "Permission denied."


def test_expired_base_token_reauths_once(fake: FakeSeaTable, base: Base) -> None:
    fake.jwt = "jwt-2"  # the server rotated: our jwt-1 is now "expired"
    assert base.get_row("Table1", "r1") == {"_id": "r1", "Name": "a"}
    assert [s.path.rsplit("/", 2)[-2] for s in fake.seen] == ["r1", "app-access-token", "r1"]
    assert base.jwt_token == "jwt-2"


# -- uploads ----------------------------------------------------------------------------------


def test_upload_bytes_file_exact_request(fake: FakeSeaTable, base: Base) -> None:
    cell = base.upload_bytes_file("c d.txt", b"hello")
    link, up = fake.seen
    assert link.path == "/api/v2.1/dtable/app-upload-link/"
    assert link.headers["authorization"] == f"Token {API_TOKEN}"
    assert str(up.url) == SERVER + "/seafhttp/upload-api/tok-sys?ret-json=1"
    assert "authorization" not in up.headers
    assert [p.name for p in up.parts] == ["parent_dir", "relative_path", "replace", "file"]
    assert up.fields() == {
        "parent_dir": f"/asset/{UUID}", "relative_path": "files/2025-08", "replace": "0"
    }
    f = up.file()
    assert (f.filename, f.value, f.size) == ("c d.txt", b"hello", 5)
    assert "content-type" not in f.headers  # like requests: no per-part type
    assert int(up.headers["content-length"]) == up.body_size
    assert cell == {
        "type": "file", "size": 5, "name": "c d.txt",
        "url": f"{SERVER}/workspace/7/asset/{UUID}/files/2025-08/c%20d.txt",
    }


def test_upload_renamed_on_clash_and_image_folder(fake: FakeSeaTable, base: Base) -> None:
    base.upload_bytes_file("x.png", b"1", file_type="image")
    cell = base.upload_bytes_file("x.png", b"22", None, "image")  # positional relative_path slot
    assert cell["name"] == "x (1).png" and cell["type"] == "image"
    assert cell["url"].endswith("/images/2025-08/x%20%281%29.png")
    cell = base.upload_bytes_file("x.png", b"333", file_type="image", replace=True)
    assert cell["name"] == "x.png" and cell["size"] == 3
    assert fake.seen[-1].fields()["replace"] == "1"


def test_upload_from_file_object_and_iterator(fake: FakeSeaTable, base: Base) -> None:
    buf = io.BytesIO(b"skipme-payload")
    buf.seek(7)  # uploads from the current position, like a read() would
    assert base.upload_bytes_file("f.bin", buf)["size"] == 7
    up = fake.seen[-1]
    assert up.file().value == b"payload" and "content-length" in up.headers

    cell = base.upload_bytes_file("g.bin", iter([b"ab", b"", b"cd"]))
    up = fake.seen[-1]
    assert cell["size"] == 4 and up.file().value == b"abcd"
    assert up.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in up.headers


def test_upload_rejects_text(base: Base) -> None:
    with pytest.raises(TypeError):
        base.upload_bytes_file("a.txt", "text")  # type: ignore[arg-type]
    with pytest.raises(TypeError), io.StringIO("x") as s:
        base.upload_bytes_file("a.txt", s)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        base.upload_bytes_file("a.txt", b"x", file_type="video")


def test_upload_local_file_with_progress(fake: FakeSeaTable, base: Base, tmp_path: Path) -> None:
    data = os.urandom(3 * MiB + 17)
    p = tmp_path / "big.bin"
    p.write_bytes(data)
    calls: list[tuple[int, int | None]] = []
    cell = base.upload_local_file(str(p), progress=lambda d, t: calls.append((d, t)))
    assert cell["name"] == "big.bin" and cell["size"] == len(data)
    f = fake.seen[-1].file()
    assert f.sha256 == hashlib.sha256(data).hexdigest()
    assert calls[0] == (0, len(data)) and calls[-1] == (len(data), len(data))
    assert len(calls) > 3 and all(a[0] <= b[0] for a, b in itertools.pairwise(calls))
    cell = base.upload_local_file(p, "renamed.bin", file_type="image", replace=True)
    assert cell["name"] == "renamed.bin" and cell["type"] == "image"


def test_upload_of_64_mib_streams(fake: FakeSeaTable, base: Base, tmp_path: Path) -> None:
    p = tmp_path / "huge.bin"
    with p.open("wb") as f:
        f.truncate(64 * MiB)
    tracemalloc.start()
    try:
        cell = base.upload_local_file(str(p))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert cell["size"] == 64 * MiB
    assert peak < 16 * MiB, f"peak {peak / MiB:.1f} MiB"
    up = fake.seen[-1]
    assert up.chunks > 64  # arrived in many pieces
    assert up.file().sha256 == hashlib.sha256(bytes(64 * MiB)).hexdigest()


def test_upload_error_surfaces_plain_text(fake: FakeSeaTable, base: Base) -> None:
    fake.hooks.append(fail_times(1, 403, "upload-api", text="Access token not found"))
    with pytest.raises(atoll.AuthError) as info:
        base.upload_bytes_file("a.txt", b"x")
    assert info.value.message == "Access token not found" and info.value.status == 403


# -- retries ----------------------------------------------------------------------------------


def test_read_retried_after_two_503s(fake: FakeSeaTable) -> None:
    b, sleeps = make_base(fake)
    fake.hooks.append(fail_times(2, 503, "app-access-token", text="busy"))
    b.auth()
    assert len(fake.seen) == 3 and len(sleeps) == 2
    assert 0 < sleeps[0] <= sleeps[1] or sleeps[1] >= 0.25


def test_retries_exhausted_raise_server_error(fake: FakeSeaTable) -> None:
    b, sleeps = make_base(fake, retries=2)
    fake.hooks.append(fail_times(10, 502, "metadata", json={"error_message": "bad gateway"}))
    with pytest.raises(atoll.ServerError) as info:
        b.get_metadata()
    assert info.value.status == 502 and info.value.message == "bad gateway"
    assert len(sleeps) == 2


def test_retry_after_is_honoured(fake: FakeSeaTable) -> None:
    b, sleeps = make_base(fake)
    fake.hooks.append(fail_times(1, 429, "app-access-token", headers={"Retry-After": "2"}))
    b.auth()
    assert sleeps == [2.0]


def test_post_not_retried_on_503_but_on_429_and_connect_error(fake: FakeSeaTable) -> None:
    b, sleeps = make_base(fake)
    b.auth()
    fake.hooks.append(fail_times(1, 503, "rows/"))
    with pytest.raises(atoll.ServerError):
        b.append_row("Table1", {"Name": "x"})
    assert len(sleeps) == 0
    fake.hooks[:] = [fail_times(1, 429, "rows/")]
    assert b.append_row("Table1", {"Name": "x"})["Name"] == "x"
    fake.hooks[:] = [raise_times(1, httpx.ConnectError, "rows/")]
    assert b.append_row("Table1", {"Name": "y"})["Name"] == "y"
    fake.hooks[:] = [raise_times(1, httpx.ReadError, "rows/")]
    with pytest.raises(atoll.TransferError):
        b.append_row("Table1", {"Name": "z"})
    assert len(sleeps) == 2


def test_upload_retry_only_with_replace(fake: FakeSeaTable, tmp_path: Path) -> None:
    b, sleeps = make_base(fake)
    p = tmp_path / "f.bin"
    p.write_bytes(b"0123456789" * 100_000)
    fake.hooks.append(fail_times(1, 503, "upload-api"))
    with pytest.raises(atoll.ServerError):
        b.upload_local_file(str(p))
    assert sleeps == []
    fake.hooks[:] = [fail_times(2, 504, "upload-api")]
    calls: list[int] = []
    cell = b.upload_local_file(str(p), replace=True, progress=lambda d, t: calls.append(d))
    assert cell["size"] == 1_000_000 and len(sleeps) == 2
    ups = [s for s in fake.seen if "upload-api" in s.path]
    assert [u.file().size for u in ups[-3:]] == [1_000_000] * 3  # rewound each time
    assert calls.count(0) == 3


def test_iterator_upload_cannot_be_retried(fake: FakeSeaTable) -> None:
    b, sleeps = make_base(fake)
    fake.hooks.append(fail_times(1, 503, "upload-api"))
    with pytest.raises(atoll.ServerError):
        b.upload_bytes_file("a", chunks(b"abc", 1), replace=True)
    assert sleeps == []


def test_timeout_error(fake: FakeSeaTable) -> None:
    b, sleeps = make_base(fake, retries=1)
    fake.hooks.append(raise_times(5, httpx.ReadTimeout, "app-access-token"))
    with pytest.raises(atoll.TransferTimeoutError) as info:
        b.auth()
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, atoll.TransferError)
    assert info.value.status is None and "timed out" in str(info.value)
    assert len(sleeps) == 1


def test_timeouts_per_base_and_per_call(fake: FakeSeaTable) -> None:
    b, _ = make_base(fake, timeout=5.0)
    b.auth()
    assert fake.seen[-1].extensions["timeout"] == {
        "connect": 5.0, "read": 5.0, "write": 5.0, "pool": 5.0
    }
    b.list_rows("Table1", timeout=None)
    assert fake.seen[-1].extensions["timeout"]["read"] is None
    b.get_file_download_link("files/2025-08/a b.txt", timeout=1.5)
    assert fake.seen[-1].extensions["timeout"]["write"] == 1.5


# -- downloads --------------------------------------------------------------------------------


def test_download_file_to_path_and_dir(fake: FakeSeaTable, base: Base, tmp_path: Path) -> None:
    url = f"{SERVER}/workspace/7/asset/{UUID}/files/2025-08/a%20b.txt"
    base.download_file(url, tmp_path / "out.txt")
    assert (tmp_path / "out.txt").read_bytes() == b"hello world"
    link = fake.seen[0]
    assert link.params == [("path", "files/2025-08/a b.txt")]
    assert "authorization" not in fake.seen[1].headers
    base.download_file(url, str(tmp_path))
    assert (tmp_path / "a b.txt").read_bytes() == b"hello world"
    base.download_file(url, str(tmp_path / "new" / "sub") + "/")
    assert (tmp_path / "new" / "sub" / "a b.txt").read_bytes() == b"hello world"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a b.txt", "new", "out.txt"]


def test_download_rejects_foreign_url(base: Base, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="url invalid"):
        base.download_file("https://x/workspace/1/asset/other/a.txt", tmp_path / "a")


def test_download_error_leaves_no_file(fake: FakeSeaTable, base: Base, tmp_path: Path) -> None:
    url = f"/workspace/7/asset/{UUID}/files/2025-08/missing.txt"
    with pytest.raises(atoll.BadRequestError, match=r"path files/2025-08/missing\.txt not found"):
        base.download_file(url, tmp_path / "x")
    fake.hooks.append(fail_times(1, 403, "/seafhttp/files/", text="Access token not found"))
    with pytest.raises(atoll.AuthError):
        base.download_file(url.replace("missing", "a%20b"), tmp_path / "x")
    assert list(tmp_path.iterdir()) == []


def test_truncated_download_is_retried_then_fails(
    fake: FakeSeaTable, tmp_path: Path
) -> None:
    b, sleeps = make_base(fake, retries=2)

    def short(s: Seen) -> httpx.Response | None:
        if s.path.startswith("/seafhttp/files/"):
            return httpx.Response(200, headers={"Content-Length": "100"}, content=b"short")
        return None

    fake.hooks.append(short)
    with pytest.raises(atoll.TransferError, match="received 5 of 100 bytes"):
        b.download_file(f"/workspace/7/asset/{UUID}/files/2025-08/a%20b.txt", tmp_path / "x")
    assert len(sleeps) == 2 and list(tmp_path.iterdir()) == []


def test_download_retried_after_503(fake: FakeSeaTable, tmp_path: Path) -> None:
    b, sleeps = make_base(fake)
    fake.hooks.append(fail_times(2, 503, "/seafhttp/files/"))
    b.download_file(f"/workspace/7/asset/{UUID}/files/2025-08/a%20b.txt", tmp_path / "x")
    assert (tmp_path / "x").read_bytes() == b"hello world" and len(sleeps) == 2


def test_download_of_64_mib_streams(fake: FakeSeaTable, base: Base, tmp_path: Path) -> None:
    size = 64 * MiB

    def body() -> Iterator[bytes]:
        block = bytes(MiB)
        for _ in range(64):
            yield block

    def big(s: Seen) -> httpx.Response | None:
        if s.path.startswith("/seafhttp/files/"):
            return httpx.Response(200, headers={"Content-Length": str(size)}, content=body())
        return None

    fake.hooks.append(big)
    calls: list[tuple[int, int | None]] = []
    tracemalloc.start()
    try:
        base.download_file(
            f"/workspace/7/asset/{UUID}/files/2025-08/a%20b.txt", tmp_path / "big",
            progress=lambda d, t: calls.append((d, t)),
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (tmp_path / "big").stat().st_size == size
    assert peak < 16 * MiB, f"peak {peak / MiB:.1f} MiB"
    assert calls[0] == (0, size) and calls[-1] == (size, size)


# -- custom folders ---------------------------------------------------------------------------


def test_custom_folder_methods(fake: FakeSeaTable, base: Base, tmp_path: Path) -> None:
    assert base.list_custom_assets("/Main") == {"dir": [], "file": [{"name": "sky.png"}]}
    assert fake.seen[-1].params == [("path", "/Main")]
    info = base.get_custom_file_info("/Main", "sky.png")
    assert info == {
        "type": "file", "size": 7, "name": "sky.png",
        "url": "custom-asset://2bbe9499-e1df-4086-bdd3-d130d6c91bd3.png",
    }
    assert base.get_custom_file_upload_link("/Main/")["relative_path"] == "Main/"
    assert base.get_custom_file_download_link("/Main/sky.png").endswith("/t2/Main%2Fsky.png")
    base.download_custom_file("/Main/sky%2Epng", tmp_path)  # unquoted like 4.0.0
    assert (tmp_path / "sky.png").read_bytes() == b"\x89PNG..."

    p = tmp_path / "sky.png"
    fake.seen.clear()
    cell = base.upload_local_file_to_custom_folder(str(p), "/Main/")
    assert cell["name"] == "sky (1).png" and cell["url"].startswith("custom-asset://")
    link, up, info_req = fake.seen
    assert link.params == [("path", "/Main/")]
    assert up.fields() == {
        "parent_dir": f"/asset/{UUID}/custom", "relative_path": "Main/", "replace": "0"
    }
    assert info_req.params == [("path", "/Main/"), ("name", "sky (1).png")]


def test_custom_upload_to_missing_folder(base: Base, tmp_path: Path) -> None:
    p = tmp_path / "a.txt"
    p.write_bytes(b"x")
    with pytest.raises(atoll.NotFoundError, match="parent_dir not found"):
        base.upload_local_file_to_custom_folder(p, "/Nope")


# -- rows -------------------------------------------------------------------------------------


def test_rows_and_return_shapes(fake: FakeSeaTable, base: Base) -> None:
    gw = f"/api-gateway/api/v2/dtables/{UUID}/"
    assert base.get_metadata()["tables"][0]["name"] == "Table1"
    assert base.list_tables()[0]["_id"] == "0000"
    assert base.get_table_by_name("Table1") is not None
    assert base.list_rows("Table1", limit=5) == [{"_id": "r1", "Name": "a"}]
    s = fake.seen[-1]
    assert s.path == gw + "rows/" and s.headers["authorization"] == "Token jwt-1"
    assert s.headers["content-type"] == "application/json"
    assert s.params == [("table_name", "Table1"), ("convert_keys", "True"), ("limit", "5")]
    assert base.get_row("Table1", "r1") == {"_id": "r1", "Name": "a"}
    assert base.append_row("Table1", {"Name": "ü"}) == {"_id": "r2", "Name": "ü"}
    assert fake.seen[-1].body == b'{"table_name": "Table1", "rows": [{"Name": "\\u00fc"}]}'
    assert base.insert_row("Table1", {"Name": "b"}, "r1")["_id"] == "r2"
    out = base.batch_append_rows("Table1", [{"Name": "c"}, {"Name": "d"}])
    assert out["inserted_row_count"] == 2
    assert base.update_row("Table1", "r1", {"Name": "e"}) == {"success": True}
    assert fake.seen[-1].json() == {
        "table_name": "Table1", "updates": [{"row_id": "r1", "row": {"Name": "e"}}]
    }
    assert base.batch_update_rows("Table1", [{"row_id": "r1", "row": {}}]) == {"success": True}
    assert base.delete_row("Table1", "r1") == {"success": True}
    assert (fake.seen[-1].method, fake.seen[-1].json()) == (
        "DELETE", {"table_name": "Table1", "row_ids": ["r1"]}
    )
    assert base.batch_delete_rows("Table1", ["r1", "r2"]) == {"success": True}
    assert base.list_columns("Table1") == [{"key": "0000", "name": "Name"}]
    assert base.get_column_by_name("Table1", "Name") == {"key": "0000", "name": "Name"}
    col = base.insert_column("Table1", "Files", atoll.ColumnTypes.FILE)
    assert col == {"key": "0001", "name": "Files", "type": "file"}
    assert base.add_table("T2")["name"] == "T2"
    assert fake.seen[-1].json() == {"table_name": "T2", "lang": "en"}
    assert base.query("select * from Table1") == []


def test_gateway_error_message(base: Base) -> None:
    with pytest.raises(atoll.NotFoundError) as info:
        base.get_row("Table1", "missing")
    assert info.value.message == "row _id not exits" and info.value.status == 404


def test_insert_column_validates_type_before_request(fake: FakeSeaTable, base: Base) -> None:
    with pytest.raises(ValueError):
        base.insert_column("Table1", "X", "nonsense")
    assert fake.seen == []


def test_context_manager_closes_own_client() -> None:
    with atoll.Base(API_TOKEN, SERVER) as b:
        http = b._transport.http
    assert http.is_closed
