"""Identical content is stored once: blob rows count their references through upload, replace,
delete (to the trash, which keeps its reference) and the trash's purge; the last reference takes
the bytes with it."""

from __future__ import annotations

import hashlib

import anyio

from atoll.services import trash
from tests.dedup.conftest import Env, asset_keys, blob_rows, stored_keys

SAME = b"identical bytes in two bases" * 100
PATH = "files/2026-11"


def _download(env: Env, name: str) -> bytes | int:
    resp = env.download_link(f"{PATH}/{name}")
    if resp.status_code != 200:  # type: ignore[attr-defined]
        return int(resp.status_code)  # type: ignore[attr-defined]
    got = env.client.get(resp.json()["download_link"])  # type: ignore[attr-defined]
    return got.content if got.status_code == 200 else got.status_code


def _delete(env: Env, name: str) -> None:
    """Delete to the trash (its entry keeps the reference), then purge the trash (gc's part)."""
    before = {r.key: r.refs for r in blob_rows(env)}
    resp = env.client.delete("/api/v2.1/dtable/app-asset/", params={"path": f"/{PATH}/{name}"},
                             headers=env.auth())
    assert resp.status_code == 200, resp.text
    assert {r.key: r.refs for r in blob_rows(env)} == before  # trashed: still held
    purged = anyio.run(lambda: trash.purge(env.ctx, retention_s=0))
    assert len(purged.purged) == 1


def test_same_bytes_in_two_bases_are_one_blob(two: tuple[Env, Env]) -> None:
    a, b = two
    assert a.upload("x.bin", SAME).status_code == 200  # type: ignore[attr-defined]
    assert b.upload("y.bin", SAME).status_code == 200  # type: ignore[attr-defined]
    rows = blob_rows(a)
    assert len(rows) == 1 and rows[0].refs == 2
    assert rows[0].sha256 == hashlib.sha256(SAME).hexdigest() and rows[0].size == len(SAME)
    keys = asset_keys(a)
    assert set(keys.values()) == {rows[0].key}
    assert stored_keys(a) == {rows[0].key}  # the second upload's fresh copy was deleted
    _delete(a, "x.bin")
    assert blob_rows(a)[0].refs == 1 and stored_keys(a) == {rows[0].key}
    assert _download(b, "y.bin") == SAME
    _delete(b, "y.bin")
    assert blob_rows(a) == [] and stored_keys(a) == set()


def test_two_files_of_one_request_share_a_blob(env: Env) -> None:
    link = env.upload_link()
    resp = env.client.post(link["upload_link"] + "?ret-json=1",
                           data={"parent_dir": link["parent_path"], "relative_path": PATH},
                           files=[("file", ("a.txt", b"twin")), ("file", ("b.txt", b"twin"))])
    assert resp.status_code == 200, resp.text
    rows = blob_rows(env)
    assert [r.refs for r in rows] == [2] and stored_keys(env) == {rows[0].key}


def test_replace_moves_references(env: Env) -> None:
    env.upload("a.txt", b"old content")
    env.upload("b.txt", b"old content")
    (old,) = blob_rows(env)
    assert old.refs == 2
    env.upload("a.txt", b"new content", replace="1")
    by_sha = {r.sha256: r for r in blob_rows(env)}
    assert by_sha[hashlib.sha256(b"old content").hexdigest()].refs == 1
    assert by_sha[hashlib.sha256(b"new content").hexdigest()].refs == 1
    assert stored_keys(env) == {r.key for r in by_sha.values()}
    # replacing with the content it already has: counts unchanged, no stray copy
    env.upload("a.txt", b"new content", replace="1")
    assert {r.sha256: r.refs for r in blob_rows(env)} == {k: 1 for k in by_sha}
    assert stored_keys(env) == {r.key for r in by_sha.values()}
    # back to the shared content: the replaced blob's last reference goes, with its bytes
    env.upload("a.txt", b"old content", replace="1")
    rows = blob_rows(env)
    assert [(r.key, r.refs) for r in rows] == [(old.key, 2)]
    assert stored_keys(env) == {old.key}
    assert _download(env, "a.txt") == b"old content" and _download(env, "b.txt") == b"old content"


def test_a_failed_upload_never_touches_the_shared_blob(env: Env) -> None:
    env.upload("a.txt", b"shared")
    (row,) = blob_rows(env)
    link = env.upload_link()
    bad = env.client.post(link["upload_link"], data={"parent_dir": "/wrong"},
                          files={"file": ("b.txt", b"shared")})
    assert bad.status_code in (400, 403)
    assert blob_rows(env) == [row] and stored_keys(env) == {row.key}
    assert _download(env, "a.txt") == b"shared"
