"""``GET /thumbnail/workspace/<wid>/asset/<uuid>/<path>?size=N`` over HTTP, on the active backend."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from atoll.db import schema
from atoll.services.access import create_api_token
from tests.assets.conftest import PUBLIC_URL, Env, MakeEnv
from tests.errors import error_of
from tests.thumbnails import images


def _asset_url(env: Env, name: str, folder: str = "images/2026-11") -> str:
    return f"/workspace/{env.workspace_id}/asset/{env.uuid}/{folder}/{name}"


def _thumb_url(env: Env, name: str, size: int | str | None = None) -> str:
    url = "/thumbnail" + _asset_url(env, name)
    return url if size is None else f"{url}?size={size}"


def _put(env: Env, name: str, content: bytes) -> str:
    r = env.upload(name, content, relative_path="images/2026-11")
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    return _thumb_url(env, name)


def _image(content: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(content))
    im.load()
    return im


def _thumbs(env: Env) -> int:
    with env.ctx.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.thumbnails)).scalar_one())


@pytest.mark.parametrize(
    ("name", "make", "media"),
    [
        ("a.jpg", lambda: images.image_bytes("JPEG", (1600, 1200)), "image/jpeg"),
        ("a.png", lambda: images.image_bytes("PNG", (1200, 900)), "image/jpeg"),
        ("t.png", lambda: images.image_bytes("PNG", (1200, 900), mode="RGBA", color=(0, 0, 255, 100)),
         "image/png"),
        ("a.gif", lambda: images.image_bytes("GIF", (1200, 900), mode="P", color=3), "image/jpeg"),
        ("a.webp", lambda: images.image_bytes("WEBP", (1200, 900)), "image/jpeg"),
        ("a.heic", lambda: images.heif_bytes((1200, 900)), "image/jpeg"),
    ],
)
def test_each_image_format(env: Env, name: str, make: object, media: str) -> None:
    url = _put(env, name, make())  # type: ignore[operator]
    r = env.client.get(url, headers=env.auth())
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == media
    im = _image(r.content)
    assert im.size == (256, 192)
    assert r.headers["etag"].startswith('"thumb')
    assert r.headers["cache-control"] == "private, no-store"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert int(r.headers["content-length"]) == len(r.content)


def test_pdf_first_page(env: Env) -> None:
    url = _put(env, "doc.pdf", images.pdf_bytes((600, 800)))
    r = env.client.get(url + "?size=128", headers=env.auth())
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/jpeg"
    im = _image(r.content).convert("RGB")
    assert im.size == (96, 128)
    red, _green, blue = im.getpixel((48, 64))  # type: ignore[misc]
    assert blue > 150 and red < 80  # the page's blue, not a blank render


def test_exif_orientation_applied(env: Env) -> None:
    url = _put(env, "rot.jpg", images.exif_rotated_jpeg((400, 200), orientation=6))
    r = env.client.get(url, headers=env.auth())
    assert r.status_code == 200, r.text
    assert _image(r.content).size == (128, 256)  # landscape pixels, portrait as shown


def test_small_image_not_enlarged_and_default_size(env: Env) -> None:
    url = _put(env, "small.png", images.image_bytes("PNG", (100, 50)))
    r = env.client.get(url, headers=env.auth())
    assert r.status_code == 200 and _image(r.content).size == (100, 50)
    big = _put(env, "big.jpg", images.image_bytes("JPEG", (3000, 1500)))
    assert _image(env.client.get(big, headers=env.auth()).content).size == (256, 128)
    assert _image(env.client.get(big + "?size=1024", headers=env.auth()).content).size == (1024, 512)


@pytest.mark.parametrize("size", ["0", "-1", "100", "abc", "256.0", "99999999999999999999", "1e3"])
def test_bad_size_is_400(env: Env, size: str) -> None:
    _put(env, "a.jpg", images.image_bytes("JPEG"))
    r = env.client.get(_thumb_url(env, "a.jpg", size), headers=env.auth())
    assert r.status_code == 400
    assert "size must be one of 64, 128, 256, 512, 1024" in error_of(r)["error_msg"]  # type: ignore[index]
    assert _thumbs(env) == 0


def test_sizes_are_a_setting(make_env: MakeEnv) -> None:
    env = make_env(thumbnail_sizes="100,300")
    _put(env, "a.jpg", images.image_bytes("JPEG", (900, 900)))
    assert env.client.get(_thumb_url(env, "a.jpg", 256), headers=env.auth()).status_code == 400
    r = env.client.get(_thumb_url(env, "a.jpg", 300), headers=env.auth())
    assert r.status_code == 200 and _image(r.content).size == (300, 300)


def test_cache_hit_and_304(env: Env) -> None:
    url = _put(env, "a.jpg", images.image_bytes("JPEG", (2000, 1000)))
    first = env.client.get(url, headers=env.auth())
    assert first.status_code == 200 and _thumbs(env) == 1
    keys = {s.key for s in env.client.portal.call(_list, env.ctx.blobs)}  # type: ignore[union-attr]
    second = env.client.get(url, headers=env.auth())
    assert second.status_code == 200 and second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    assert _thumbs(env) == 1  # served from the cache: no new row, no new blob
    assert {s.key for s in env.client.portal.call(_list, env.ctx.blobs)} == keys  # type: ignore[union-attr]
    r = env.client.get(url, headers={**env.auth(), "If-None-Match": first.headers["etag"]})
    assert r.status_code == 304 and r.content == b""
    assert r.headers["etag"] == first.headers["etag"]
    r = env.client.get(url, headers={**env.auth(), "If-None-Match": '"other"'})
    assert r.status_code == 200
    # another size is another entry; a copy of the same bytes shares the cache
    assert env.client.get(url + "?size=64", headers=env.auth()).status_code == 200
    assert _thumbs(env) == 2
    copy = _put(env, "copy.jpg", images.image_bytes("JPEG", (2000, 1000)))
    assert env.client.get(copy, headers=env.auth()).content == first.content
    assert _thumbs(env) == 2


async def _list(blobs: object) -> list[object]:
    return [s async for s in blobs.list()]  # type: ignore[attr-defined]


def test_replaced_file_gets_a_new_thumbnail(env: Env) -> None:
    url = _put(env, "a.png", images.image_bytes("PNG", (300, 300), color=(255, 0, 0)))
    red = env.client.get(url, headers=env.auth())
    env.upload("a.png", images.image_bytes("PNG", (300, 300), color=(0, 0, 255)),
               relative_path="images/2026-11", replace="1")
    blue = env.client.get(url, headers={**env.auth(), "If-None-Match": red.headers["etag"]})
    assert blue.status_code == 200 and blue.headers["etag"] != red.headers["etag"]
    assert _image(blue.content).convert("RGB").getpixel((10, 10))[2] > 200  # type: ignore[index]


def test_deleted_asset_thumbnail_not_served(env: Env) -> None:
    url = _put(env, "a.jpg", images.image_bytes("JPEG"))
    first = env.client.get(url, headers=env.auth())
    assert first.status_code == 200
    r = env.client.delete("/api/v2.1/dtable/app-asset/", params={"path": "images/2026-11/a.jpg"},
                          headers=env.auth())
    assert r.status_code == 200, r.text
    assert env.client.get(url, headers=env.auth()).status_code == 404
    r = env.client.get(url, headers={**env.auth(), "If-None-Match": first.headers["etag"]})
    assert r.status_code == 404


def test_auth(env: Env, make_env: MakeEnv) -> None:
    url = _put(env, "a.jpg", images.image_bytes("JPEG"))
    assert env.client.get(url).status_code == 403
    assert env.client.get(url, headers={"Authorization": "Token " + "0" * 40}).status_code == 403
    other = create_api_token(env.ctx.engine, base="Other")
    r = env.client.get(url, headers=env.auth(other.token))
    assert r.status_code in (403, 404)
    # the other base's own URL shape with this base's path: its workspace differs or the file is absent
    other_url = (f"/thumbnail/workspace/{other.dtable.workspace_id}/asset/{other.dtable.uuid}"
                 "/images/2026-11/a.jpg")
    assert env.client.get(other_url, headers=env.auth(other.token)).status_code == 404
    assert env.client.get(other_url, headers=env.auth()).status_code in (403, 404)
    # an access token of the base works, as for the asset URL
    tok = env.client.get("/api/v2.1/dtable/app-access-token/", headers=env.auth()).json()["access_token"]
    assert env.client.get(url, headers={"Authorization": f"Token {tok}"}).status_code == 200
    # the wrong workspace id for the right base
    wrong = url.replace(f"/workspace/{env.workspace_id}/", f"/workspace/{env.workspace_id + 1000}/")
    assert env.client.get(wrong, headers=env.auth()).status_code == 403


def test_missing_asset_404(env: Env) -> None:
    r = env.client.get(_thumb_url(env, "nope.jpg"), headers=env.auth())
    assert r.status_code == 404
    assert error_of(r) == {"error_msg": "Asset file does not exist."}


def test_url_is_the_cell_url_under_thumbnail(env: Env) -> None:
    r = env.upload("cell.jpg", images.image_bytes("JPEG"), relative_path="images/2026-11")
    cell_url = r.json()[0]["name"]  # type: ignore[attr-defined]
    assert cell_url == "cell.jpg"
    url = f"{PUBLIC_URL}/workspace/{env.workspace_id}/asset/{env.uuid}/images/2026-11/cell.jpg"
    thumb = url.replace("/workspace", "/thumbnail/workspace", 1) + "?size=256"  # the web UI's rule
    assert env.client.get(thumb, headers=env.auth()).status_code == 200
