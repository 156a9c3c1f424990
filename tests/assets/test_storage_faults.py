"""The upload endpoint over a failing S3 store: each upload either succeeds with the right bytes
or answers 502/503/504 with a clear message and leaves no metadata and no unfinished write."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from atoll.db import schema
from atoll.services.access import create_api_token
from atoll.services.context import Context
from tests.backends import blob_state
from tests.conftest import MakeApp
from tests.faultproxy import Fault, FaultProxy, Kind, in_front_of
from tests.services import moto
from tests.storage.conftest import s3_settings

PUBLIC_URL = "http://testserver"
PART = 5 * 1024 * 1024
STATUS: dict[Kind, int] = {"500": 502, "slowdown": 503, "reset": 503, "stall": 504}


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    with in_front_of(moto().endpoint) as fault_proxy:
        yield fault_proxy


@pytest.fixture
def app(tmp_path: Path, proxy: FaultProxy, make_app: MakeApp) -> tuple[TestClient, Context, str]:
    settings = s3_settings(proxy.endpoint, s3_part_bytes=PART, s3_timeout_s=1, s3_max_attempts=2).with_(
        data_dir=tmp_path, db_url=f"sqlite:///{tmp_path / 'atoll.sqlite3'}", storage=moto().new_storage_url(),
        public_url=PUBLIC_URL)
    made = make_app(settings=settings, base_url=PUBLIC_URL)
    token = create_api_token(made.ctx.engine, base="Faults").token
    return made.client, made.ctx, token


def _upload(client: TestClient, token: str, content: bytes) -> object:
    link = client.get("/api/v2.1/dtable/app-upload-link/", headers={"Authorization": f"Token {token}"}).json()
    return client.post(link["upload_link"] + "?ret-json=1", files={"file": ("f.bin", content)},
                       data={"parent_dir": link["parent_path"], "relative_path": "files/x"})


def _assets(ctx: Context) -> int:
    with ctx.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.assets)).scalar_one())


@pytest.mark.parametrize("kind", ["500", "slowdown", "reset", "stall"])
@pytest.mark.parametrize("size", [1000, 2 * PART + 10])  # one PUT; a multipart upload
def test_a_failing_store_gives_a_clean_5xx(app: tuple[TestClient, Context, str], proxy: FaultProxy,
                                           kind: Kind, size: int) -> None:
    client, ctx, token = app
    proxy.faults.append(Fault(kind, method="PUT", target_contains="/t-", times=100, stall_s=2.5))
    r = _upload(client, token, b"x" * size)
    assert r.status_code == STATUS[kind], (r.status_code, r.text)  # type: ignore[attr-defined]
    assert "storage" in r.text.lower() or "s3" in r.text.lower(), r.text  # type: ignore[attr-defined]
    proxy.faults.clear()
    assert _assets(ctx) == 0
    assert client.portal.call(blob_state, ctx.blobs) == (frozenset(), frozenset())  # type: ignore[union-attr]


def test_a_passing_fault_is_retried_and_the_upload_succeeds(app: tuple[TestClient, Context, str],
                                                             proxy: FaultProxy) -> None:
    client, ctx, token = app
    proxy.faults.append(Fault("slowdown", method="PUT", target_contains="partNumber=", times=1))
    content = bytes(range(256)) * ((2 * PART + 10) // 256)
    r = _upload(client, token, content)
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    assert r.json()[0]["id"] == hashlib.sha256(content).hexdigest()[:40]  # type: ignore[attr-defined]
    link = client.get("/api/v2.1/dtable/app-download-link/", params={"path": "files/x/f.bin"},
                      headers={"Authorization": f"Token {token}"}).json()["download_link"]
    assert client.get(link).content == content and _assets(ctx) == 1


def test_presigned_downloads_redirect_to_s3_with_our_headers(tmp_path: Path, make_app: MakeApp) -> None:
    settings = s3_settings(moto().endpoint, s3_presigned_downloads=True).with_(
        data_dir=tmp_path, db_url=f"sqlite:///{tmp_path / 'atoll.sqlite3'}", storage=moto().new_storage_url(),
        public_url=PUBLIC_URL)
    app = make_app(settings=settings, base_url=PUBLIC_URL)
    token = create_api_token(app.ctx.engine, base="Presigned").token
    client = app.client
    assert _upload(client, token, b"straight from the bucket").status_code == 200  # type: ignore[attr-defined]
    link = client.get("/api/v2.1/dtable/app-download-link/", params={"path": "files/x/f.bin"},
                      headers={"Authorization": f"Token {token}"}).json()["download_link"]
    r = client.get(link, follow_redirects=False)
    assert r.status_code == 302 and r.headers["cache-control"] == "no-store"
    target = r.headers["location"]
    assert target.startswith(moto().endpoint) and "X-Amz-Expires=60" in target
    direct = httpx.get(target)
    assert direct.status_code == 200 and direct.content == b"straight from the bucket"
    assert direct.headers["content-disposition"].startswith("attachment; filename=\"f.bin\"")
    assert direct.headers["content-type"] == "application/octet-stream"
