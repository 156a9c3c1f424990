"""Per-base asset quota (base_quota_bytes) and the per-upload limit: reported in the upload-link
answers, enforced with 443 on multipart, chunked and tus uploads, before bytes are stored when
the size is known and again inside the commit (race-free), leaving nothing behind."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from atoll.db import assets as assets_q
from atoll.db import schema
from atoll.db.engine import write_tx
from atoll.errors import QuotaExceeded
from atoll.models import BlobInfo
from atoll.services import quota
from atoll.services.assets import PendingFile, _commit_in
from atoll.services.quota import NOT_COUNTED
from atoll.wire.tus import encode_metadata
from tests.assets.conftest import Env, MakeEnv

TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = {**TUS, "Content-Type": "application/offset+octet-stream"}
QUOTA = 1000
SEATABLE_KEYS = {"upload_link", "parent_path", "img_relative_path", "file_relative_path", "workspace_id"}


def _sessions(env: Env) -> int:
    with env.ctx.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.upload_sessions)).scalar_one())


def _tus_create(env: Env, length: int, name: str) -> Any:
    link = env.upload_link()
    headers = {**TUS, "Upload-Length": str(length), "Upload-Metadata": encode_metadata({"filename": name})}
    return env.client.post(link["tus_link"], headers=headers)


def _chunk(env: Env, data: bytes, first: int, total: int, name: str = "big.iso") -> Any:
    link = env.upload_link()
    headers = {
        "Content-Range": f"bytes {first}-{first + len(data) - 1}/{total}",
        "Content-Disposition": f'attachment; filename="{name}"',
    }
    form = {"parent_dir": link["parent_path"], "relative_path": "files/iso"}
    return env.client.post(
        link["upload_link"] + "?ret-json=1", headers=headers, data=form, files={"file": ("blob", data)}
    )


def test_without_a_quota_usage_is_not_counted(make_env: MakeEnv) -> None:
    env = make_env(max_upload_bytes=5000)
    assert env.upload("a.bin", b"x" * 300).status_code == 200  # type: ignore[attr-defined]
    link = env.upload_link()
    assert (link["max_upload_bytes"], link["quota_bytes"], link["quota_used_bytes"]) == (
        5000, 0, NOT_COUNTED)


def test_links_report_limits(make_env: MakeEnv) -> None:
    env = make_env(base_quota_bytes=QUOTA, max_upload_bytes=5000)
    link = env.upload_link()
    assert set(link) >= SEATABLE_KEYS
    assert (link["max_upload_bytes"], link["quota_bytes"], link["quota_used_bytes"]) == (5000, QUOTA, 0)
    assert env.upload("a.bin", b"x" * 300).status_code == 200  # type: ignore[attr-defined]
    env.client.post("/api/v2.1/dtable/custom/app-asset-dir/?path=/Main", headers=env.auth())
    r = env.client.get(
        "/api/v2.1/dtable/custom/app-upload-link/", params={"path": "/Main"}, headers=env.auth()
    )
    custom = r.json()
    assert {"upload_link", "parent_path", "relative_path", "workspace_id"} <= set(custom)
    assert (custom["max_upload_bytes"], custom["quota_bytes"], custom["quota_used_bytes"]) == (
        5000,
        QUOTA,
        300,
    )


def test_unlimited_by_default(env: Env) -> None:
    assert env.upload_link()["quota_bytes"] == 0
    assert env.upload("a.bin", b"x" * 5000).status_code == 200  # type: ignore[attr-defined]


def test_multipart_over_quota_is_443_before_the_body(make_env: MakeEnv) -> None:
    env = make_env(base_quota_bytes=QUOTA)
    assert env.upload("a.bin", b"a" * 600).status_code == 200  # type: ignore[attr-defined]
    before = env.state()
    r = env.upload("big.bin", b"b" * 200_000)  # Content-Length is far over the room left
    assert r.status_code == 443, r.text  # type: ignore[attr-defined]
    assert "Out of quota." in r.text  # type: ignore[attr-defined]
    assert env.state() == before


def test_multipart_over_quota_at_commit_leaves_nothing(make_env: MakeEnv) -> None:
    env = make_env(base_quota_bytes=QUOTA)
    assert env.upload("a.bin", b"a" * 600).status_code == 200  # type: ignore[attr-defined]
    before = env.state()
    r = env.upload("b.bin", b"b" * 401)  # within the form allowance: found at the commit
    assert r.status_code == 443, r.text  # type: ignore[attr-defined]
    assert env.state() == before
    assert env.upload("c.bin", b"c" * 400).status_code == 200  # type: ignore[attr-defined]  # exactly full
    assert env.upload_link()["quota_used_bytes"] == QUOTA


def test_replace_counts_the_new_size_only(make_env: MakeEnv) -> None:
    env = make_env(base_quota_bytes=QUOTA)
    assert env.upload("a.bin", b"a" * 600).status_code == 200  # type: ignore[attr-defined]
    assert env.upload("a.bin", b"A" * 900, replace="1").status_code == 200  # type: ignore[attr-defined]
    assert env.upload_link()["quota_used_bytes"] == 900


def test_chunked_total_over_quota_is_443_and_starts_nothing(make_env: MakeEnv) -> None:
    env = make_env(base_quota_bytes=QUOTA)
    env.upload_link()  # creates the asset root
    before = env.state()
    r = _chunk(env, b"x" * 100, 0, 2000)
    assert r.status_code == 443, r.text
    assert _sessions(env) == 0 and env.state() == before
    assert _chunk(env, b"x" * 500, 0, 1000).status_code == 200
    assert _chunk(env, b"y" * 500, 500, 1000).status_code == 200
    assert env.upload_link()["quota_used_bytes"] == QUOTA


def test_tus_creation_over_quota_is_443(make_env: MakeEnv) -> None:
    env = make_env(base_quota_bytes=QUOTA, max_upload_bytes=10_000)
    r = env.client.options(env.upload_link()["tus_link"], headers=TUS)
    assert r.headers["tus-max-size"] == "10000"
    assert _tus_create(env, 20_000, "x.bin").status_code == 413
    before = env.state()
    r = _tus_create(env, QUOTA + 1, "x.bin")
    assert r.status_code == 443, r.text
    assert _sessions(env) == 0 and env.state() == before


def test_tus_race_second_commit_is_443_and_dropped(make_env: MakeEnv) -> None:
    env = make_env(base_quota_bytes=QUOTA)
    first, second = (_tus_create(env, 600, n) for n in ("one.bin", "two.bin"))
    assert first.status_code == second.status_code == 201  # both fit when created
    before = env.state()
    ok = env.client.patch(
        first.headers["location"], headers={**OCTETS, "Upload-Offset": "0"}, content=b"1" * 600
    )
    assert ok.status_code == 204, ok.text
    late = env.client.patch(
        second.headers["location"], headers={**OCTETS, "Upload-Offset": "0"}, content=b"2" * 600
    )
    assert late.status_code == 443, late.text
    (blobs, partials), assets, _ = env.state()
    assert assets == before[1] + 1  # only the first file
    assert env.upload_link()["quota_used_bytes"] == 600
    gone = env.client.head(second.headers["location"], headers=TUS)
    assert gone.status_code in (404, 410)
    # the refused upload's bytes are gone: the only blob is the committed asset's, no partials
    with env.ctx.engine.connect() as conn:
        keys = set(conn.execute(select(schema.assets.c.blob_key)).scalars())
    assert set(blobs) == keys and len(keys) == 1
    assert not partials


def _commit_slowly(env: Env, name: str, size: int, results: dict[str, object], hold_s: float) -> None:
    files = [PendingFile(name=name, blob=BlobInfo(key=f"k-{name}", size=size, sha256="0" * 64))]
    try:
        with write_tx(env.ctx.engine) as conn:
            _commit_in(conn, env.uuid, f"/files/race-{name}", files, False, quota_bytes=QUOTA)
            time.sleep(hold_s)  # hold the transaction open: the other commit must wait or see it
        results[name] = "ok"
    except QuotaExceeded as exc:
        results[name] = exc


@pytest.mark.parametrize("hold_s", [0.5])
def test_concurrent_commits_cannot_both_pass(make_env: MakeEnv, hold_s: float) -> None:
    env = make_env(base_quota_bytes=QUOTA)
    with write_tx(env.ctx.engine) as conn:  # both folders exist: the commits share no row
        for n in "ab":
            assets_q.ensure_dirs(conn, env.uuid, f"/files/race-{n}", "2026-01-01T00:00:00")
    results: dict[str, object] = {}
    threads = [threading.Thread(target=_commit_slowly, args=(env, n, 600, results, hold_s)) for n in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(type(v).__name__ for v in results.values()) == ["QuotaExceeded", "str"], results
    assert env.client.portal.call(quota.used_bytes, env.ctx, env.uuid) == 600  # type: ignore[union-attr]


def test_check_room_for_imports(make_env: MakeEnv) -> None:
    env = make_env(base_quota_bytes=QUOTA)
    assert env.upload("a.bin", b"a" * 600).status_code == 200  # type: ignore[attr-defined]
    with write_tx(env.ctx.engine) as conn:
        quota.check_room(conn, env.uuid, 400, quota_bytes=QUOTA)
        with pytest.raises(QuotaExceeded):
            quota.check_room(conn, env.uuid, 401, quota_bytes=QUOTA)
        quota.check_room(conn, env.uuid, 10**12, quota_bytes=0)  # 0: unlimited


def test_sdk_sees_limits_and_gets_a_typed_error(make_env: MakeEnv) -> None:
    import atoll
    from atoll.client import QuotaExceededError, TooLargeError

    env = make_env(base_quota_bytes=QUOTA)
    with atoll.Base(env.token, "http://testserver", http=env.client) as base:
        link = base.get_file_upload_link()
        assert (link["quota_bytes"], link["quota_used_bytes"]) == (QUOTA, 0)
        base.upload_bytes_file("a.bin", b"a" * 600)
        before = env.state()
        with pytest.raises(QuotaExceededError) as err:
            base.upload_bytes_file("b.bin", b"b" * 500)
        assert isinstance(err.value, TooLargeError) and err.value.status == 443
        assert "Out of quota." in err.value.message
        assert env.state() == before


def test_chunked_race_last_chunk_over_quota_is_443_and_dropped(make_env: MakeEnv) -> None:
    env = make_env(base_quota_bytes=QUOTA)
    assert _chunk(env, b"a" * 300, 0, 600, name="one.iso").status_code == 200  # both fit at the start
    assert _chunk(env, b"b" * 300, 0, 600, name="two.iso").status_code == 200
    assert _chunk(env, b"a" * 300, 300, 600, name="one.iso").status_code == 200
    late = _chunk(env, b"b" * 300, 300, 600, name="two.iso")
    assert late.status_code == 443, late.text
    (blobs, partials), assets, _ = env.state()
    with env.ctx.engine.connect() as conn:
        keys = set(conn.execute(select(schema.assets.c.blob_key)).scalars())
    assert assets == 1 and set(blobs) == keys and not partials
    assert env.upload_link()["quota_used_bytes"] == 600
