"""fsck finds missing and damaged blobs; gc reaps orphans and nothing else."""

from __future__ import annotations

import anyio
from sqlalchemy import select

from atoll.db import schema
from atoll.services import fsck as fsck_service
from atoll.services import maintenance
from tests.assets.conftest import Env


async def _orphan(env: Env) -> str:
    writer = await env.ctx.blobs.create()
    await writer.write(b"nobody points at me")
    return (await writer.commit()).key


def test_gc_reaps_only_orphans(env: Env) -> None:
    env.upload("kept.txt", b"kept")
    orphan = anyio.run(_orphan, env)
    report = anyio.run(fsck_service.fsck, env.ctx)
    assert report.ok and report.orphans == [orphan] and report.assets == 1
    assert anyio.run(lambda: maintenance.gc(env.ctx)) == []  # younger than the grace period
    assert anyio.run(lambda: maintenance.gc(env.ctx, grace_s=0)) == [orphan]
    report = anyio.run(fsck_service.fsck, env.ctx)
    assert report.ok and report.orphans == []
    link = env.download_link("files/2026-11/kept.txt").json()["download_link"]
    assert env.client.get(link).content == b"kept"


async def _overwrite(env: Env, key: str, data: bytes) -> None:
    writer = await env.ctx.blobs.create(key)
    await writer.write(data)
    await writer.commit()


def test_fsck_detects_damage(env: Env) -> None:
    for name in ("gone.txt", "short.txt", "flipped.txt"):
        env.upload(name, b"original content of " + name.encode())  # distinct: three blobs
    with env.ctx.engine.connect() as conn:
        keys = {row["name"]: row["blob_key"] for row in conn.execute(select(schema.assets)).mappings()}
    anyio.run(env.ctx.blobs.delete, keys["gone.txt"])  # damage through the store: any backend
    anyio.run(_overwrite, env, keys["short.txt"], b"orig")
    anyio.run(_overwrite, env, keys["flipped.txt"], b"Original content of flipped.txt")
    report = anyio.run(lambda: fsck_service.fsck(env.ctx, verify_hashes=True))
    assert not report.ok
    assert [p.split(":")[1] for p in report.missing] == ["/files/2026-11/gone.txt"]
    assert [p.split(":")[1] for p in report.bad_size] == ["/files/2026-11/short.txt"]
    assert [p.split(":")[1] for p in report.bad_hash] == ["/files/2026-11/flipped.txt"]
    assert report.missing[0].split(" ")[0] == keys["gone.txt"]
