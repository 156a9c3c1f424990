"""``atoll gc``: purges trashed files past the retention that no row uses, and orphan blobs;
--dry-run lists the same and changes nothing; never a referenced file or an upload in flight."""

from __future__ import annotations

import os
from typing import Any

import anyio
from click.testing import CliRunner
from sqlalchemy import func, select

from atoll.cli import main
from atoll.db import schema
from atoll.services import fsck as fsck_service
from atoll.services import maintenance
from atoll.services import rows as row_svc
from atoll.timeutil import year_month
from atoll.wire.tus import encode_metadata
from tests import services as test_services
from tests.backends import blob_state, on_postgres_s3
from tests.lifecycle.conftest import Life, T, file_cell, run

A = "files/2026-11/a.txt"
B = "files/2026-11/b.txt"
TUS = {"Tus-Resumable": "1.0.0"}


def _delete(life: Life, path: str) -> None:
    r = life.env.client.delete("/api/v2.1/dtable/app-asset/", params={"path": path}, headers=life.env.auth())
    assert r.status_code == 200, r.text


def _keys(life: Life) -> frozenset[str]:
    return life.env.client.portal.call(blob_state, life.ctx.blobs)[0]  # type: ignore[union-attr]


def _key_of(life: Life, path: str) -> str:
    dir_path, _, name = ("/" + path).rpartition("/")
    with life.ctx.engine.connect() as conn:
        for table in (schema.assets, schema.asset_trash):
            found = conn.execute(
                select(table.c.blob_key).where(
                    table.c.dtable_uuid == life.env.uuid, table.c.dir_path == dir_path, table.c.name == name
                )
            ).first()
            if found:
                return str(found[0])
    raise AssertionError(f"{path} is nowhere")


def _trash_count(life: Life) -> int:
    with life.ctx.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.asset_trash)).scalar_one())


async def _orphan(life: Life) -> str:
    writer = await life.ctx.blobs.create()
    await writer.write(b"nobody points at me")
    return (await writer.commit()).key


def _collect(life: Life, **kw: Any) -> maintenance.GcReport:
    return life.env.client.portal.call(lambda: maintenance.collect(life.ctx, **kw))  # type: ignore[union-attr]


def test_dry_run_then_real(life: Life) -> None:
    life.upload("a.txt", b"A")
    life.upload("b.txt", b"B")
    a_key, b_key = _key_of(life, A), _key_of(life, B)
    _delete(life, A)
    orphan = anyio.run(_orphan, life)
    before = _keys(life)
    assert before == {a_key, b_key, orphan}
    kept = _collect(life, retention_s=3600, grace_s=0, dry_run=True)
    assert kept.purged == [] and kept.orphans == [orphan]  # within the retention: a stays
    dry = _collect(life, retention_s=0, grace_s=0, dry_run=True)
    assert [e.asset.path for e in dry.purged] == ["/" + A] and dry.orphans == [orphan]
    assert _keys(life) == before and _trash_count(life) == 1  # nothing changed
    real = _collect(life, retention_s=0, grace_s=0)
    assert [e.asset.path for e in real.purged] == ["/" + A] and real.orphans == [orphan]
    assert _keys(life) == {b_key} and _trash_count(life) == 0
    assert life.download(B) == b"B"
    assert _collect(life, retention_s=0, grace_s=0).purged == []


def test_referenced_trash_is_never_purged(life: Life) -> None:
    url = life.upload("a.txt", b"A")
    life.upload("b.txt", b"B")
    uuid = life.asset_uuid(B)
    [row] = life.append({"P": [url], "F": [file_cell(f"custom-asset://{uuid}.txt", "b.txt")]})
    _delete(life, A)
    _delete(life, B)
    keys = _keys(life)
    report = _collect(life, retention_s=0, grace_s=0)
    assert report.purged == [] and len(report.kept_referenced) == 2 and report.orphans == []
    assert _keys(life) == keys and _trash_count(life) == 2
    run(row_svc.update_rows(life.ctx, life.base, T, updates=[{"row_id": row, "row": {"P": []}}]))
    report = _collect(life, retention_s=0, grace_s=0)
    assert [e.asset.name for e in report.purged] == ["a.txt"] and len(report.kept_referenced) == 1
    run(row_svc.delete_rows(life.ctx, life.base, T, row_ids=[row]))
    assert [e.asset.name for e in _collect(life, retention_s=0, grace_s=0).purged] == ["b.txt"]
    assert _keys(life) == frozenset()


def test_shared_bytes_stay_while_another_file_uses_them(life: Life) -> None:
    """Purging one entry deletes the bytes only when nothing else holds them (db.blobs.drop_ref)."""
    life.upload("a.txt", b"A")
    key = _key_of(life, A)
    life.upload("twin.txt", b"A")  # the same content: stored once, a second reference
    assert _key_of(life, "files/2026-11/twin.txt") == key
    _delete(life, A)
    assert [e.asset.name for e in _collect(life, retention_s=0, grace_s=0).purged] == ["a.txt"]
    assert key in _keys(life)
    _delete(life, "files/2026-11/twin.txt")
    assert [e.asset.name for e in _collect(life, retention_s=0, grace_s=0).purged] == ["twin.txt"]
    assert key not in _keys(life)  # the last reference took the bytes


def test_upload_in_flight_survives(life: Life) -> None:
    env = life.env
    data = os.urandom(200_000)
    link = env.upload_link()
    created = env.client.post(
        link["tus_link"],
        headers={
            **TUS,
            "Upload-Length": str(len(data)),
            "Upload-Metadata": encode_metadata({"filename": "big.bin"}),
        },
    )
    assert created.status_code == 201, created.text
    url = created.headers["location"]
    octets = {**TUS, "Content-Type": "application/offset+octet-stream"}
    r = env.client.patch(url, headers={**octets, "Upload-Offset": "0"}, content=data[:100_000])
    assert r.status_code == 204, r.text
    for dry_run in (True, False):
        report = _collect(life, retention_s=0, grace_s=0, dry_run=dry_run)
        assert report.orphans == [] and report.purged == []
    r = env.client.patch(url, headers={**octets, "Upload-Offset": "100000"}, content=data[100_000:])
    assert r.status_code == 204, r.text
    assert life.download(f"files/{year_month()}/big.bin") == data


def test_cli_gc_dry_run_and_real(life: Life) -> None:
    life.upload("a.txt", b"A")
    _delete(life, A)
    settings = life.ctx.settings
    args = ["gc", "--data-dir", str(settings.data_dir), "--db-url", settings.db_url, "--storage",
            settings.storage, "--retention", "0", "--grace", "0"]  # fmt: skip
    keys = _keys(life)
    runner = CliRunner(env=test_services.moto().env if on_postgres_s3() else {})  # S3 credentials
    dry = runner.invoke(main, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.splitlines() == [f"would purge\t{life.env.uuid}:/{A}\t1"]
    assert _keys(life) == keys and _trash_count(life) == 1
    real = runner.invoke(main, args)
    assert real.exit_code == 0, real.output
    assert real.stdout.splitlines() == [f"purged\t{life.env.uuid}:/{A}\t1"]
    assert _keys(life) == frozenset() and _trash_count(life) == 0


def test_storage_migrate_moves_trashed_bytes_too(life: Life) -> None:
    """A trashed file may be restored after the blobs moved: its bytes move with the rest."""
    from atoll.services.moving import move_blobs
    from tests.moving.fakes import FakeStore

    life.upload("a.txt", b"A")
    life.upload("b.txt", b"B")
    _delete(life, A)
    target = FakeStore()
    report = life.env.client.portal.call(  # type: ignore[union-attr]
        lambda: move_blobs(life.ctx.engine, life.ctx.blobs, target))
    assert report.blobs == 2 and not report.failures
    assert set(target.blobs) == {_key_of(life, A), _key_of(life, B)}


def test_fsck_counts_trashed_bytes_as_used(life: Life) -> None:
    life.upload("a.txt", b"A")
    _delete(life, A)
    report = life.env.client.portal.call(fsck_service.fsck, life.ctx)  # type: ignore[union-attr]
    assert report.ok and report.orphans == [] and report.refcounts == []
