"""tus 1.0 on ``tus_link``: discovery, creation (with upload), HEAD/PATCH/DELETE/GET, checksums,
expiry, and every status code docs/resumable.md names."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from atoll.db import schema
from atoll.timeutil import year_month
from atoll.wire.tus import encode_metadata
from tests.assets.conftest import PUBLIC_URL, Env

TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = {**TUS, "Content-Type": "application/offset+octet-stream"}


def _create(env: Env, length: int, link: dict[str, Any] | None = None, body: bytes | None = None,
            **meta: str) -> httpx.Response:
    link = link or env.upload_link()
    meta.setdefault("filename", "big.bin")
    headers = {**TUS, "Upload-Length": str(length), "Upload-Metadata": encode_metadata(meta)}
    if body is not None:
        headers["Content-Type"] = "application/offset+octet-stream"
    return env.client.post(link["tus_link"], headers=headers, content=body)


def _created(env: Env, length: int, **kw: Any) -> str:
    r = _create(env, length, **kw)
    assert r.status_code == 201, r.text
    return str(r.headers["location"])


def _patch(env: Env, url: str, offset: int, data: bytes, **headers: str) -> httpx.Response:
    return env.client.patch(url, headers={**OCTETS, "Upload-Offset": str(offset), **headers}, content=data)


def _head(env: Env, url: str) -> httpx.Response:
    return env.client.head(url, headers=TUS)


def _download(env: Env, path: str) -> bytes:
    link = env.download_link(path).json()["download_link"]
    return env.client.get(link).content


def _sessions(env: Env) -> int:
    with env.ctx.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.upload_sessions)).scalar_one())


def test_upload_links_announce_tus(env: Env) -> None:
    link = env.upload_link()
    assert link["tus_link"].startswith(PUBLIC_URL + "/seafhttp/tus/")
    env.client.post("/api/v2.1/dtable/custom/app-asset-dir/?path=/Main", headers=env.auth())
    custom = env.client.get("/api/v2.1/dtable/custom/app-upload-link/?path=/Main", headers=env.auth()).json()
    assert custom["tus_link"].startswith(PUBLIC_URL + "/seafhttp/tus/")


def test_options_discovery(env: Env) -> None:
    r = env.client.options(env.upload_link()["tus_link"])
    assert r.status_code == 204
    assert r.headers["tus-version"] == "1.0.0"
    assert r.headers["tus-resumable"] == "1.0.0"
    assert set(r.headers["tus-extension"].split(",")) == {
        "creation", "creation-with-upload", "termination", "expiration", "checksum"}
    assert int(r.headers["tus-max-size"]) == env.ctx.settings.max_upload_bytes
    assert set(r.headers["tus-checksum-algorithm"].split(",")) == {"sha1", "sha256"}
    assert "Upload-Offset" in r.headers["access-control-expose-headers"]


def test_upload_in_three_patches(env: Env) -> None:
    data = os.urandom(300_000)
    url = _created(env, len(data))
    head = _head(env, url)
    assert head.status_code == 200
    assert head.headers["upload-offset"] == "0"
    assert head.headers["upload-length"] == str(len(data))
    assert head.headers["cache-control"] == "no-store"
    assert "upload-expires" in head.headers
    for start in (0, 100_000):
        r = _patch(env, url, start, data[start:start + 100_000])
        assert r.status_code == 204, r.text
        assert r.headers["upload-offset"] == str(start + 100_000)
        assert "atoll-upload-result" not in r.headers
    r = _patch(env, url, 200_000, data[200_000:])
    assert r.status_code == 204
    assert r.headers["upload-offset"] == str(len(data))
    result = json.loads(r.headers["atoll-upload-result"])
    assert result["name"] == "big.bin"
    assert result["size"] == len(data)
    assert result["sha256"] == hashlib.sha256(data).hexdigest()
    assert result["relative_path"] == f"files/{year_month()}"
    assert result["url"].endswith(f"/asset/{env.uuid}/files/{year_month()}/big.bin")
    assert _download(env, f"files/{year_month()}/big.bin") == data
    status = env.client.get(url).json()
    assert status["complete"] is True and status["offset"] == len(data) and status["result"] == result
    assert _head(env, url).headers["upload-offset"] == str(len(data))


def test_creation_with_upload_and_name_conflicts(env: Env) -> None:
    data = b"x" * 1000
    for expected in ("a.txt", "a (1).txt"):
        r = _create(env, len(data), body=data, filename="a.txt", relative_path="files/x")
        assert r.status_code == 201, r.text
        assert r.headers["upload-offset"] == str(len(data))
        assert json.loads(r.headers["atoll-upload-result"])["name"] == expected
    r = _create(env, 3, body=b"new", filename="a.txt", relative_path="files/x", replace="1")
    assert json.loads(r.headers["atoll-upload-result"])["name"] == "a.txt"
    assert _download(env, "files/x/a.txt") == b"new"


def test_partial_creation_with_upload_then_patch(env: Env) -> None:
    r = _create(env, 10, body=b"01234")
    assert r.status_code == 201
    assert r.headers["upload-offset"] == "5"
    r = _patch(env, r.headers["location"], 5, b"56789")
    assert r.status_code == 204 and r.headers["upload-offset"] == "10"


def test_empty_file_completes_at_creation(env: Env) -> None:
    r = _create(env, 0, filename="empty.txt")
    assert r.status_code == 201
    assert json.loads(r.headers["atoll-upload-result"])["size"] == 0
    assert _download(env, f"files/{year_month()}/empty.txt") == b""


def test_image_default_folder_and_custom_folder(env: Env) -> None:
    r = _create(env, 3, body=b"png", filename="p.png", file_type="image")
    result = json.loads(r.headers["atoll-upload-result"])
    assert result["relative_path"] == f"images/{year_month()}" and result["type"] == "image"
    env.client.post("/api/v2.1/dtable/custom/app-asset-dir/?path=/Main", headers=env.auth())
    custom = env.client.get("/api/v2.1/dtable/custom/app-upload-link/?path=/Main", headers=env.auth()).json()
    r = _create(env, 2, link=custom, body=b"hi", filename="c.txt", relative_path="Main")
    result = json.loads(r.headers["atoll-upload-result"])
    assert result["url"].startswith("custom-asset://") and result["relative_path"] == "Main"
    info = env.client.get("/api/v2.1/dtable/custom/app-asset-file/?path=/Main&name=c.txt", headers=env.auth())
    assert info.status_code == 200, info.text


def test_offset_mismatch_is_409_and_changes_nothing(env: Env) -> None:
    url = _created(env, 10)
    assert _patch(env, url, 0, b"01234").status_code == 204
    r = _patch(env, url, 3, b"34567")
    assert r.status_code == 409
    assert _head(env, url).headers["upload-offset"] == "5"
    r = _patch(env, url, 7, b"789")
    assert r.status_code == 409
    assert _patch(env, url, 5, b"56789").status_code == 204


def test_checksum(env: Env) -> None:
    url = _created(env, 10)
    good = "sha256 " + base64.b64encode(hashlib.sha256(b"01234").digest()).decode()
    bad = "sha1 " + base64.b64encode(hashlib.sha1(b"nope").digest()).decode()
    r = _patch(env, url, 0, b"01234", **{"Upload-Checksum": bad})
    assert r.status_code == 460
    assert _head(env, url).headers["upload-offset"] == "0"
    assert _patch(env, url, 0, b"01234", **{"Upload-Checksum": good}).status_code == 204
    r = _patch(env, url, 5, b"56789", **{"Upload-Checksum": "md5 AAAA"})
    assert r.status_code == 400
    sha1 = "sha1 " + base64.b64encode(hashlib.sha1(b"56789").digest()).decode()
    assert _patch(env, url, 5, b"56789", **{"Upload-Checksum": sha1}).status_code == 204


def test_termination(env: Env) -> None:
    url = _created(env, 10)
    _patch(env, url, 0, b"01234")
    r = env.client.delete(url, headers=TUS)
    assert r.status_code == 204
    assert _head(env, url).status_code == 410
    assert _patch(env, url, 5, b"56789").status_code == 410
    files, _, _ = env.state()
    assert files == (frozenset(), frozenset())


def test_unknown_upload_is_404(env: Env) -> None:
    assert _head(env, PUBLIC_URL + "/seafhttp/tus-uploads/nope").status_code == 404
    assert _patch(env, PUBLIC_URL + "/seafhttp/tus-uploads/nope", 0, b"x").status_code == 404


def test_expired_upload_is_410_and_reaped(env: Env) -> None:
    url = _created(env, 10)
    _patch(env, url, 0, b"01234")
    with env.ctx.engine.begin() as conn:
        conn.execute(update(schema.upload_sessions).values(expires_at=1.0))
    assert _head(env, url).status_code == 410
    assert _patch(env, url, 5, b"56789").status_code == 410
    from atoll.services import upload_gc

    assert env.client.portal.call(upload_gc.reap_expired, env.ctx) == 1  # type: ignore[union-attr]
    assert _sessions(env) == 0
    assert _head(env, url).status_code == 404
    assert env.client.portal.call(env.ctx.blobs.partial_keys) == []  # type: ignore[union-attr]


@pytest.mark.parametrize(("headers", "status"), [
    ({"Tus-Resumable": "0.2.2"}, 412),
    ({}, 412),
])
def test_version_header_required(env: Env, headers: dict[str, str], status: int) -> None:
    link = env.upload_link()
    r = env.client.post(link["tus_link"], headers={**headers, "Upload-Length": "3"})
    assert r.status_code == status
    url = _created(env, 3)
    r = env.client.patch(url, headers={**headers, "Upload-Offset": "0",
                                       "Content-Type": "application/offset+octet-stream"}, content=b"abc")
    assert r.status_code == status


def test_bad_creation_requests(env: Env) -> None:
    link = env.upload_link()

    def post(**headers: str) -> int:
        return env.client.post(link["tus_link"], headers={**TUS, **headers}).status_code

    meta = encode_metadata({"filename": "a.txt"})
    assert post(**{"Upload-Metadata": meta}) == 400  # no Upload-Length
    assert post(**{"Upload-Length": "-1", "Upload-Metadata": meta}) == 400
    assert post(**{"Upload-Length": "abc", "Upload-Metadata": meta}) == 400
    assert post(**{"Upload-Length": "3"}) == 400  # no filename
    assert post(**{"Upload-Length": "3", "Upload-Metadata": "filename !!!"}) == 400
    assert post(**{"Upload-Length": "3", "Upload-Metadata": encode_metadata({"filename": "../x"})}) == 400
    assert post(**{"Upload-Length": "3", "Upload-Defer-Length": "1", "Upload-Metadata": meta}) == 400
    too_big = str(env.ctx.settings.max_upload_bytes + 1)
    assert post(**{"Upload-Length": too_big, "Upload-Metadata": meta}) == 413
    assert post(**{"Upload-Length": "3", "Upload-Metadata": encode_metadata(
        {"filename": "a.txt", "file_type": "video"})}) == 400
    assert post(**{"Upload-Length": "3", "Upload-Metadata": encode_metadata(
        {"filename": "a.txt", "parent_dir": "/asset/other"})}) == 403
    assert post(**{"Upload-Length": "3", "Upload-Metadata": encode_metadata(
        {"filename": "a.txt", "replace": "maybe"})}) == 400
    bad_ticket = link["tus_link"][:-4] + "AAAA"
    assert env.client.post(bad_ticket, headers={**TUS, "Upload-Length": "3",
                                                "Upload-Metadata": meta}).status_code == 403
    assert _sessions(env) == 0


def test_bad_patch_requests(env: Env) -> None:
    url = _created(env, 5)
    assert env.client.patch(url, headers={**TUS, "Upload-Offset": "0", "Content-Type": "text/plain"},
                            content=b"abc").status_code == 415
    assert env.client.patch(url, headers={**OCTETS, "Upload-Offset": "x"}, content=b"abc").status_code == 400
    assert _patch(env, url, 0, b"0123456789").status_code == 413
    assert _head(env, url).headers["upload-offset"] == "0"


def test_method_override(env: Env) -> None:
    url = _created(env, 3)
    r = env.client.post(url, headers={**OCTETS, "Upload-Offset": "0", "X-HTTP-Method-Override": "PATCH"},
                        content=b"abc")
    assert r.status_code == 204 and r.headers["upload-offset"] == "3"


def test_read_only_token_gets_no_upload_link(env: Env) -> None:
    from atoll.services.access import create_api_token

    ro = create_api_token(env.ctx.engine, base="Demo", permission="r").token
    r = env.client.get("/api/v2.1/dtable/app-upload-link/", headers=env.auth(ro))
    assert r.status_code == 403


def test_errors_carry_tus_and_cors_headers(env: Env) -> None:
    r = _head(env, PUBLIC_URL + "/seafhttp/tus-uploads/nope")
    assert r.status_code == 404
    assert r.headers["tus-resumable"] == "1.0.0"
    assert r.headers["access-control-allow-origin"] == "*"


def test_patch_without_upload_offset_is_400(env: Env) -> None:
    url = _created(env, 3)
    r = env.client.patch(url, headers=OCTETS, content=b"abc")
    assert r.status_code == 400
    assert _head(env, url).headers["upload-offset"] == "0"
