"""fsck finds every injected bit flip, truncation and deletion and nothing else, counts
references right, lists orphans, and --repair fixes only metadata."""

from __future__ import annotations

import random

import anyio
from click.testing import CliRunner
from sqlalchemy import update

from atoll.cli import main
from atoll.db import schema
from atoll.services import fsck as fsck_service
from atoll.services.fsck import FsckReport
from tests import services
from tests.backends import on_postgres_s3
from tests.dedup.conftest import Env, asset_keys, blob_rows, stored_keys

FILES = 24


def _content(n: int) -> bytes:
    return random.Random(n).randbytes(1000 + 37 * n)


def _read(env: Env, key: str) -> bytes:
    async def read() -> bytes:
        return b"".join([chunk async for chunk in env.ctx.blobs.open(key)])

    return anyio.run(read)


def _write(env: Env, key: str, data: bytes) -> None:
    async def write() -> None:
        writer = await env.ctx.blobs.create(key)
        await writer.write(data)
        await writer.commit()

    anyio.run(write)


def _fsck(env: Env, **options: bool) -> FsckReport:
    return anyio.run(lambda: fsck_service.fsck(env.ctx, **options))


def _keys(lines: list[str]) -> set[str]:
    return {line.split(" ")[0].rstrip(":") for line in lines}


def test_every_injected_damage_is_found_and_nothing_else(env: Env) -> None:
    for n in range(FILES):
        assert env.upload(f"f{n}.bin", _content(n)).status_code == 200  # type: ignore[attr-defined]
    keys = [asset_keys(env)[(env.uuid, f"/files/2026-11/f{n}.bin")] for n in range(FILES)]
    clean = _fsck(env, verify_hashes=True)
    assert clean.ok and clean.blobs == FILES and clean.assets == FILES and clean.orphans == []
    pick = random.Random(7).sample(range(FILES), 9)
    flipped, truncated, deleted = pick[:3], pick[3:6], pick[6:]
    for n in flipped:  # one bit, somewhere in the middle: same size, other hash
        data = bytearray(_read(env, keys[n]))
        data[len(data) // 2] ^= 0x10
        _write(env, keys[n], bytes(data))
    for n in truncated:
        _write(env, keys[n], _read(env, keys[n])[:-1])
    for n in deleted:
        anyio.run(env.ctx.blobs.delete, keys[n])
    report = _fsck(env, verify_hashes=True)
    assert not report.ok
    assert _keys(report.bad_hash) == {keys[n] for n in flipped}
    assert _keys(report.bad_size) == {keys[n] for n in truncated}
    assert _keys(report.missing) == {keys[n] for n in deleted}
    assert report.refcounts == [] and report.orphans == [] and report.metadata == []
    assert all(f"/files/2026-11/f{n}.bin" in line for n, line in zip(sorted(deleted, key=lambda n: keys[n]),
                                                                      sorted(report.missing), strict=True))
    quick = _fsck(env)  # without --verify: sizes and presence only, the flips are not seen
    assert quick.bad_hash == [] and _keys(quick.bad_size) == {keys[n] for n in truncated}
    assert _keys(quick.missing) == {keys[n] for n in deleted}


def test_refcount_mismatch_orphans_and_repair(env: Env) -> None:
    env.upload("a.txt", b"shared")
    env.upload("b.txt", b"shared")
    env.upload("c.txt", b"alone")
    rows = {r.refs: r for r in blob_rows(env)}
    shared, alone = rows[2], rows[1]
    _write(env, "f" * 32, b"an orphan")  # bytes without metadata
    with env.ctx.engine.begin() as conn:
        conn.execute(update(schema.blobs).where(schema.blobs.c.key == shared.key).values(refs=5))
        conn.execute(update(schema.blobs).where(schema.blobs.c.key == alone.key).values(refs=0))
    report = _fsck(env, verify_hashes=True)
    assert not report.ok and report.orphans == ["f" * 32]
    assert sorted(report.refcounts) == sorted([f"{shared.key}: recorded 5, held by 2",
                                               f"{alone.key}: recorded 0, held by 1"])
    assert report.missing == report.bad_size == report.bad_hash == []
    repaired = _fsck(env, verify_hashes=True, repair=True)
    assert repaired.ok and len(repaired.repaired) == 2
    assert {(r.key, r.refs) for r in blob_rows(env)} == {(shared.key, 2), (alone.key, 1)}
    again = _fsck(env, verify_hashes=True)
    assert again.ok and again.refcounts == [] and again.orphans == ["f" * 32]
    assert "f" * 32 in stored_keys(env)  # fsck never deletes bytes; gc does


def test_unrecorded_key_is_reported_and_given_its_row(env: Env) -> None:
    env.upload("a.txt", b"keep me")
    (row,) = blob_rows(env)
    with env.ctx.engine.begin() as conn:
        conn.execute(schema.blobs.delete())
    report = _fsck(env)
    assert not report.ok and _keys(report.unrecorded) == {row.key} and report.orphans == []
    assert _fsck(env, repair=True).ok
    assert blob_rows(env) == [row.__class__(row.key, row.sha256, row.size, 1)]


def test_cli_fsck_exit_status_and_lines(env: Env) -> None:
    env.upload("a.txt", b"cli content")
    (row,) = blob_rows(env)
    settings = env.ctx.settings
    args = ["fsck", "--data-dir", str(settings.data_dir), "--db-url", settings.db_url,
            "--storage", settings.storage]
    runner = CliRunner(env=services.moto().env if on_postgres_s3() else {})  # S3 credentials
    ok = runner.invoke(main, [*args, "--verify"])
    assert ok.exit_code == 0 and ok.stdout == "", ok.output
    _write(env, row.key, b"cli c0ntent")
    bad = runner.invoke(main, [*args, "--verify"])
    assert bad.exit_code == 1 and f"wrong hash\t{row.key} {env.uuid}:/files/2026-11/a.txt" in bad.stdout
