"""Resumable uploads beyond the tus basics: upload-and-attach, Seafile-style chunks, uploads that
span several S3 parts, a session moving between processes (hash read back), the lease (423)."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from atoll.db import schema
from atoll.services import resumable
from atoll.timeutil import year_month
from atoll.wire.tus import encode_metadata
from tests.assets.conftest import Env, MakeEnv

TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = {**TUS, "Content-Type": "application/offset+octet-stream"}
GW = "/api-gateway/api/v2/dtables/{uuid}"


def _access(env: Env) -> dict[str, str]:
    r = env.client.get("/api/v2.1/dtable/app-access-token/", headers=env.auth())
    return {"Authorization": f"Token {r.json()['access_token']}", "Content-Type": "application/json"}


def _gw(env: Env, method: str, path: str, **kw: Any) -> Any:
    r = env.client.request(method, GW.format(uuid=env.uuid) + path, headers=_access(env), **kw)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def table(env: Env) -> Env:
    _gw(env, "POST", "/tables/", json={"table_name": "Docs"})
    for name, kind in (("Scan", "file"), ("Photo", "image"), ("Note", "text")):
        _gw(env, "POST", "/columns/", json={"table_name": "Docs", "column_name": name, "column_type": kind})
    return env


def _tus(env: Env, data: bytes, **meta: str) -> httpx.Response:
    meta.setdefault("filename", "scan.pdf")
    headers = {**OCTETS, "Upload-Length": str(len(data)), "Upload-Metadata": encode_metadata(meta)}
    return env.client.post(env.upload_link()["tus_link"], headers=headers, content=data)


def _rows(env: Env) -> list[dict[str, Any]]:
    params = {"table_name": "Docs", "convert_keys": "true"}
    rows: list[dict[str, Any]] = _gw(env, "GET", "/rows/", params=params)["rows"]
    return rows


def test_attach_to_a_new_row(table: Env) -> None:
    r = _tus(table, b"%PDF-1.7 ...", table="Docs", column="Scan")
    assert r.status_code == 201, r.text
    result = json.loads(r.headers["atoll-upload-result"])
    [row] = _rows(table)
    assert row["_id"] == result["row_id"]
    assert row["Scan"] == [{"name": "scan.pdf", "size": 12, "type": "file", "url": result["url"]}]
    assert result["url"].endswith(f"/files/{year_month()}/scan.pdf")


def test_attach_appends_to_an_existing_row(table: Env) -> None:
    made = _gw(table, "POST", "/rows/", json={"table_name": "Docs", "rows": [{"Note": "n"}]})
    row_id = made["row_ids"][0]["_id"]
    for name in ("a.png", "b.png"):
        r = _tus(table, b"img", filename=name, file_type="image", table="Docs", column="Photo", row_id=row_id)
        assert json.loads(r.headers["atoll-upload-result"])["row_id"] == row_id
    [row] = _rows(table)
    assert [u.rsplit("/", 1)[1] for u in row["Photo"]] == ["a.png", "b.png"]
    assert row["Note"] == "n"


@pytest.mark.parametrize(("meta", "status"), [
    ({"table": "Nope", "column": "Scan"}, 404),
    ({"table": "Docs", "column": "Nope"}, 404),
    ({"table": "Docs", "column": "Note"}, 400),
    ({"table": "Docs", "column": "Scan", "row_id": "AAAAAAAAAAAAAAAAAAAAAA"}, 404),
    ({"table": "Docs"}, 400),
])
def test_attach_target_checked_at_creation(table: Env, meta: dict[str, str], status: int) -> None:
    r = _tus(table, b"x", **meta)
    assert r.status_code == status, r.text
    assert table.state()[1] == 0  # no asset


def test_attach_to_a_row_deleted_meanwhile_commits_nothing(table: Env) -> None:
    made = _gw(table, "POST", "/rows/", json={"table_name": "Docs", "rows": [{"Note": "n"}]})
    row_id = made["row_ids"][0]["_id"]
    headers = {**TUS, "Upload-Length": "4", "Upload-Metadata": encode_metadata(
        {"filename": "late.pdf", "table": "Docs", "column": "Scan", "row_id": row_id})}
    url = table.client.post(table.upload_link()["tus_link"], headers=headers).headers["location"]
    _gw(table, "DELETE", "/rows/", json={"table_name": "Docs", "row_ids": [row_id]})
    r = table.client.patch(url, headers={**OCTETS, "Upload-Offset": "0"}, content=b"late")
    assert r.status_code == 409, r.text
    assert table.state()[1] == 0 and _rows(table) == []


# ---------------------------------------------------------------- Seafile-style chunks


def _chunk(env: Env, link: dict[str, Any], data: bytes, first: int, total: int, name: str = "big.iso",
           **fields: str) -> httpx.Response:
    headers = {"Content-Range": f"bytes {first}-{first + len(data) - 1}/{total}",
               "Content-Disposition": f'attachment; filename="{name}"'}
    form = {"parent_dir": link["parent_path"], "relative_path": "files/iso", **fields}
    return env.client.post(link["upload_link"] + "?ret-json=1", headers=headers, data=form,
                           files={"file": ("blob", data)})


def _held(env: Env, link: dict[str, Any], name: str = "big.iso") -> int:
    ticket = link["upload_link"].rsplit("/", 1)[1]
    r = env.client.get(f"/seafhttp/uploaded-bytes/{ticket}", params={
        "parent_dir": link["parent_path"], "relative_path": "files/iso", "file_name": name})
    assert r.status_code == 200, r.text
    return int(r.json()["uploadedBytes"])


def test_chunked_upload_with_resume_query(env: Env) -> None:
    data = os.urandom(250_000)
    link = env.upload_link()
    assert _held(env, link) == 0
    r = _chunk(env, link, data[:100_000], 0, len(data))
    assert r.status_code == 200 and r.json() == {"success": True}
    assert _held(env, link) == 100_000
    r = _chunk(env, link, data[150_000:], 150_000, len(data))  # a gap
    assert r.status_code == 409 and r.json()["uploadedBytes"] == 100_000
    r = _chunk(env, link, data[50_000:150_000], 50_000, len(data))  # an overlap
    assert r.status_code == 409
    assert _held(env, link) == 100_000
    assert _chunk(env, link, data[100_000:200_000], 100_000, len(data)).json() == {"success": True}
    r = _chunk(env, link, data[200_000:], 200_000, len(data))
    assert r.status_code == 200
    assert r.json() == [{"name": "big.iso", "id": hashlib.sha256(data).hexdigest()[:40], "size": len(data)}]
    link2 = env.download_link("files/iso/big.iso").json()["download_link"]
    assert env.client.get(link2).content == data
    assert _held(env, link) == 0


def test_bad_chunks_change_nothing(env: Env) -> None:
    link = env.upload_link()
    _chunk(env, link, b"0123456789", 0, 30)
    headers = {"Content-Range": "bytes 10-19/30", "Content-Disposition": 'attachment; filename="big.iso"'}
    form = {"parent_dir": link["parent_path"], "relative_path": "files/iso"}
    short = env.client.post(link["upload_link"], headers=headers, data=form, files={"file": ("b", b"short")})
    assert short.status_code == 400
    for bad in ("bytes 10-5/30", "bytes 10-40/30", "items 0-1/2", "bytes x-y/z"):
        r = env.client.post(link["upload_link"], headers={**headers, "Content-Range": bad}, data=form,
                            files={"file": ("b", b"0123456789")})
        assert r.status_code == 400, (bad, r.text)
    two = env.client.post(link["upload_link"], headers=headers, data=form,
                          files=[("file", ("a", b"0123456789")), ("file", ("b", b"0123456789"))])
    assert two.status_code in (400, 409)
    other_total = _chunk(env, link, b"0123456789", 10, 40)
    assert other_total.status_code == 409
    assert _held(env, link) == 10
    assert env.state()[1] == 0


def test_chunk_restart_from_zero(env: Env) -> None:
    link = env.upload_link()
    _chunk(env, link, b"aaaaa", 0, 10)
    _chunk(env, link, b"bbbbb", 0, 10)
    assert _chunk(env, link, b"ccccc", 5, 10).status_code == 200
    got = env.client.get(env.download_link("files/iso/big.iso").json()["download_link"]).content
    assert got == b"bbbbbccccc"


# ---------------------------------------------------------------- parts, processes, leases


def test_many_parts_and_odd_patches(make_env: MakeEnv) -> None:
    """13 MiB in patches of odd sizes: on S3, parts of 5 MiB plus staged tails read back."""
    env = make_env(s3_part_bytes=5 * 1024 * 1024, upload_commit_bytes=3 * 1024 * 1024)
    data = os.urandom(13 * 1024 * 1024 + 7)
    meta = encode_metadata({"filename": "p.bin"})
    headers = {**TUS, "Upload-Length": str(len(data)), "Upload-Metadata": meta}
    url = env.client.post(env.upload_link()["tus_link"], headers=headers).headers["location"]
    offset = 0
    for size in (1_000_003, 4 * 1024 * 1024, 6 * 1024 * 1024, len(data)):
        piece = data[offset:offset + size]
        r = env.client.patch(url, headers={**OCTETS, "Upload-Offset": str(offset)}, content=piece)
        assert r.status_code == 204, r.text
        offset += len(piece)
        if offset == len(data):
            break
        resumable._hashes.clear()  # as if the next request reached another process
    result = json.loads(r.headers["atoll-upload-result"])
    assert result["sha256"] == hashlib.sha256(data).hexdigest()
    link = env.download_link(f"files/{year_month()}/p.bin").json()["download_link"]
    assert hashlib.sha256(env.client.get(link).content).digest() == hashlib.sha256(data).digest()
    assert env.client.portal.call(env.ctx.blobs.partial_keys) == []  # type: ignore[union-attr]


def test_a_held_lease_is_423_until_it_lapses(env: Env) -> None:
    headers = {**TUS, "Upload-Length": "4", "Upload-Metadata": encode_metadata({"filename": "l.bin"})}
    url = env.client.post(env.upload_link()["tus_link"], headers=headers).headers["location"]
    far = 4_000_000_000.0
    with env.ctx.engine.begin() as conn:
        conn.execute(update(schema.upload_sessions).values(lease_id="x" * 32, lease_until=far))
    r = env.client.patch(url, headers={**OCTETS, "Upload-Offset": "0"}, content=b"abcd")
    assert r.status_code == 423
    with env.ctx.engine.begin() as conn:  # the holder crashed: its lease runs out
        conn.execute(update(schema.upload_sessions).values(lease_until=1.0))
    r = env.client.patch(url, headers={**OCTETS, "Upload-Offset": "0"}, content=b"abcd")
    assert r.status_code == 204


def test_gc_reaps_expired_sessions_and_aborts_their_multipart_uploads(make_env: MakeEnv) -> None:
    from atoll.services import maintenance

    env = make_env(s3_part_bytes=5 * 1024 * 1024)
    data = os.urandom(6 * 1024 * 1024)
    meta = encode_metadata({"filename": "gone.bin"})
    url = env.client.post(env.upload_link()["tus_link"], headers={
        **TUS, "Upload-Length": str(len(data) + 10), "Upload-Metadata": meta}).headers["location"]
    assert env.client.patch(url, headers={**OCTETS, "Upload-Offset": "0"}, content=data).status_code == 204
    portal = env.client.portal  # type: ignore[union-attr]
    assert portal.call(env.ctx.blobs.partial_keys) != []
    assert portal.call(maintenance.gc, env.ctx) == []  # live: nothing reaped
    assert portal.call(env.ctx.blobs.partial_keys) != []
    with env.ctx.engine.begin() as conn:
        conn.execute(update(schema.upload_sessions).values(expires_at=1.0))
    portal.call(maintenance.gc, env.ctx)
    assert portal.call(env.ctx.blobs.partial_keys) == []
    assert portal.call(env.ctx.blobs.pending) == []  # no multipart upload left on S3
    assert env.client.head(url, headers=TUS).status_code == 404


def test_gc_removes_partial_bytes_no_session_owns(env: Env) -> None:
    from atoll.services import maintenance

    meta = encode_metadata({"filename": "orphan.bin"})
    url = env.client.post(env.upload_link()["tus_link"], headers={
        **TUS, "Upload-Length": "10", "Upload-Metadata": meta}).headers["location"]
    env.client.patch(url, headers={**OCTETS, "Upload-Offset": "0"}, content=b"01234")
    with env.ctx.engine.begin() as conn:  # a crash after the row went, before the bytes did
        conn.execute(schema.upload_sessions.delete())
    portal = env.client.portal  # type: ignore[union-attr]
    assert portal.call(env.ctx.blobs.partial_keys) != []
    portal.call(maintenance.gc, env.ctx)
    assert portal.call(env.ctx.blobs.partial_keys) == []
