"""Hostile and broken files: each upload succeeds, its thumbnail is a clear 4xx, and the server
keeps making thumbnails of good files afterwards (the worker pool survives)."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from atoll.db import schema
from atoll.services.thumbs.pool import pool_for
from tests.assets.conftest import Env, MakeEnv
from tests.errors import error_of
from tests.thumbnails import images


def _put(env: Env, name: str, content: bytes) -> str:
    r = env.upload(name, content, relative_path="images/2026-11")
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    assert r.json()[0]["size"] == len(content)  # type: ignore[attr-defined]
    return f"/thumbnail/workspace/{env.workspace_id}/asset/{env.uuid}/images/2026-11/{name}"


def _still_serves(env: Env) -> None:
    url = _put(env, "good.jpg", images.image_bytes("JPEG", (800, 600)))
    r = env.client.get(url + "?size=128", headers=env.auth())
    assert r.status_code == 200, r.text
    assert Image.open(io.BytesIO(r.content)).size == (128, 96)


def _thumbs(env: Env) -> int:
    with env.ctx.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.thumbnails)).scalar_one())


CASES = [
    ("bomb.png", images.png_bomb, 413, "too large for a thumbnail (100000 x 100000)"),
    ("trunc.jpg", images.truncated_jpeg, 422, "cannot be decoded"),
    ("trunc.png", images.truncated_png, 422, "cannot be decoded"),
    ("poly.pdf", images.pdf_zip_polyglot, 422, "The PDF cannot be read"),
    ("poly.gif", images.gif_zip_polyglot, 415, "Not an image"),
    ("notes.txt", lambda: b"hello, not an image\n" * 100, 415, "Not an image"),
    ("fake.jpg", lambda: b"<svg xmlns='http://www.w3.org/2000/svg'><script>x</script></svg>", 415,
     "Not an image"),
    ("bmp.jpg", lambda: images.image_bytes("BMP", (64, 64)), 415, "Not an image"),
    ("empty.png", lambda: b"", 415, "Not an image"),
]


@pytest.mark.parametrize(("name", "make", "status", "words"), CASES, ids=[c[0] for c in CASES])
def test_hostile_file_gets_4xx_upload_succeeds(env: Env, name: str, make: object, status: int,
                                               words: str) -> None:
    content = make()  # type: ignore[operator]
    url = _put(env, name, content)
    r = env.client.get(url, headers=env.auth())
    assert r.status_code == status, r.text
    assert words in error_of(r)["error_msg"]  # type: ignore[index]
    assert _thumbs(env) == 0  # nothing cached for a failure
    # the file itself is still there, byte for byte
    link = env.download_link(f"images/2026-11/{name}").json()["download_link"]  # type: ignore[attr-defined]
    assert env.client.get(link).content == content
    _still_serves(env)


def test_pixel_limit_is_a_setting(make_env: MakeEnv) -> None:
    env = make_env(thumbnail_max_pixels=1000 * 1000)
    url = _put(env, "big.png", images.image_bytes("PNG", (1001, 1000)))
    r = env.client.get(url, headers=env.auth())
    assert r.status_code == 413
    assert "the limit is 1000000 pixels" in error_of(r)["error_msg"]  # type: ignore[index]
    ok = _put(env, "ok.png", images.image_bytes("PNG", (1000, 1000)))
    assert env.client.get(ok, headers=env.auth()).status_code == 200


def test_source_byte_limit(make_env: MakeEnv) -> None:
    env = make_env(thumbnail_max_source_bytes=10_000)
    content = images.truncated_png()  # noise: well over 10 kB
    url = _put(env, "big.png", content)
    r = env.client.get(url, headers=env.auth())
    assert r.status_code == 413
    assert "the limit is 10000 bytes" in error_of(r)["error_msg"]  # type: ignore[index]


def test_decode_time_limit_kills_and_replaces_the_worker(make_env: MakeEnv) -> None:
    env = make_env(thumbnail_timeout_ms=1, thumbnail_workers=1)
    pool = pool_for(1, env.ctx.settings.thumbnail_memory_bytes)
    before = pool.restarts
    url = _put(env, "slow.png", images.image_bytes("PNG", (3000, 3000)))
    r = env.client.get(url, headers=env.auth())
    assert r.status_code == 422, r.text
    assert "took too long to decode (limit 1 ms)" in error_of(r)["error_msg"]  # type: ignore[index]
    assert pool.restarts == before + 1
    assert _thumbs(env) == 0


def test_memory_limit_refuses_a_big_decode(make_env: MakeEnv) -> None:
    """A PNG within the pixel limit whose decode needs more memory than the worker may have."""
    env = make_env(thumbnail_memory_bytes=400 * 1024 * 1024, thumbnail_workers=1)
    url = _put(env, "wide.png", images.png_of_zeros(12_000, 12_000))  # 432 MB of RGB pixels
    r = env.client.get(url, headers=env.auth())
    assert r.status_code in (413, 422), r.text
    env2 = make_env(thumbnail_workers=1)
    _still_serves(env2)
