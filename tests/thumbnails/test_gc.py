"""Cached thumbnails survive ``gc`` and are not fsck orphans while their source content is held;
once no asset holds it, gc deletes them."""

from __future__ import annotations

import anyio
from sqlalchemy import func, select

from atoll.db import schema
from atoll.services import fsck as fsck_service
from atoll.services import maintenance
from tests.assets.conftest import Env
from tests.thumbnails import images


def _thumb_keys(env: Env) -> set[str]:
    with env.ctx.engine.connect() as conn:
        return set(conn.execute(select(schema.thumbnails.c.blob_key)).scalars())


async def _blob_keys(env: Env) -> set[str]:
    return {s.key async for s in env.ctx.blobs.list()}


def test_gc_keeps_thumbnails_and_reaps_those_of_deleted_files(env: Env) -> None:
    content = images.image_bytes("JPEG", (1200, 800))
    for name in ("a.jpg", "b.jpg"):  # two files with the same bytes share one thumbnail
        env.upload(name, content, relative_path="images/2026-11")
    env.upload("c.png", images.image_bytes("PNG", (500, 500)), relative_path="images/2026-11")
    base = f"/thumbnail/workspace/{env.workspace_id}/asset/{env.uuid}/images/2026-11/"
    for name in ("a.jpg", "b.jpg", "c.png"):
        assert env.client.get(base + name, headers=env.auth()).status_code == 200
    thumbs = _thumb_keys(env)
    assert len(thumbs) == 2
    report = anyio.run(fsck_service.fsck, env.ctx)
    assert report.ok and report.orphans == []
    assert anyio.run(lambda: maintenance.gc(env.ctx, grace_s=0)) == []
    assert thumbs <= anyio.run(_blob_keys, env)
    first = env.client.get(base + "a.jpg", headers=env.auth())
    assert first.status_code == 200

    def delete(name: str) -> None:
        r = env.client.delete("/api/v2.1/dtable/app-asset/", params={"path": f"images/2026-11/{name}"},
                              headers=env.auth())
        assert r.status_code == 200, r.text

    delete("a.jpg")  # b.jpg still holds the content: its thumbnail stays
    assert anyio.run(lambda: maintenance.gc(env.ctx, grace_s=0)) == []
    assert _thumb_keys(env) == thumbs
    assert env.client.get(base + "b.jpg", headers=env.auth()).content == first.content
    delete("b.jpg")
    delete("c.png")  # the files are in the trash: no asset holds the contents any more
    report = anyio.run(lambda: maintenance.collect(env.ctx, grace_s=0, retention_s=0))
    assert set(report.thumbnails) == thumbs and len(report.purged) == 3
    assert _thumb_keys(env) == set()
    assert anyio.run(_blob_keys, env) == set()
    with env.ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.thumbnails)).scalar_one() == 0


def test_missing_thumbnail_blob_is_made_anew(env: Env) -> None:
    env.upload("a.jpg", images.image_bytes("JPEG", (900, 600)), relative_path="images/2026-11")
    url = f"/thumbnail/workspace/{env.workspace_id}/asset/{env.uuid}/images/2026-11/a.jpg"
    first = env.client.get(url, headers=env.auth())
    (key,) = _thumb_keys(env)
    anyio.run(env.ctx.blobs.delete, key)
    again = env.client.get(url, headers=env.auth())
    assert again.status_code == 200 and again.content == first.content
    (new_key,) = _thumb_keys(env)
    assert new_key != key
