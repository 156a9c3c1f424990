"""services.moving against in-memory fakes: the decisions (copy, skip, recopy, fail)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import anyio
import pytest
from sqlalchemy import Engine

from atoll.db.engine import make_engine
from atoll.db.migrations import migrate
from atoll.services import moving
from atoll.services.moving import MoveReport, move_blobs
from tests.moving.fakes import FakeStore
from tests.moving.seed import Seeded, seed
from tests.services import postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path}/atoll.sqlite3" if request.param == "sqlite" else postgres().new_url()
    e = make_engine(url)
    migrate(e)
    return e


def setup(engine: Engine) -> tuple[FakeStore, Seeded]:
    src = FakeStore("fake://src")
    seeded = anyio.run(seed, engine, src)
    return src, seeded


def move(engine: Engine, src: FakeStore, dst: FakeStore, verify: bool = False) -> MoveReport:
    async def run() -> MoveReport:
        return await move_blobs(engine, src, dst, verify=verify)

    return anyio.run(run)


def test_copies_every_referenced_blob_and_skips_on_rerun(engine: Engine) -> None:
    src, seeded = setup(engine)
    dst = FakeStore("fake://dst")
    report = move(engine, src, dst)
    assert report.ok and report.blobs == len(seeded.files) == report.copied
    assert report.bytes_copied == report.bytes_total == sum(len(d) for _, _, d in seeded.files.values())
    assert dst.blobs == src.blobs
    again = move(engine, src, dst)
    assert again.ok and again.copied == 0 and again.already == len(seeded.files)
    assert len(dst.creates) == len(seeded.files)  # nothing written twice


def test_interrupted_run_resumes_without_copying_again(engine: Engine) -> None:
    src, seeded = setup(engine)
    dst = FakeStore("fake://dst")
    broken = sorted(seeded.files)[3]
    dst.fail_writes.add(broken)
    first = move(engine, src, dst)
    assert not first.ok and [f.key for f in first.failures] == [broken]
    assert "injected write failure" in first.failures[0].describe()
    assert broken not in dst.blobs
    second = move(engine, src, dst)
    assert second.ok and second.copied == 1 and second.already == len(seeded.files) - 1
    assert dst.creates.count(broken) == 1 and len(dst.creates) == len(seeded.files)


def test_damaged_source_is_reported_and_copy_deleted(engine: Engine) -> None:
    src, seeded = setup(engine)
    key = next(k for k, (_, _, d) in seeded.files.items() if len(d) > 10)
    data = bytearray(src.blobs[key])
    data[5] ^= 0xFF
    src.blobs[key] = bytes(data)
    dst = FakeStore("fake://dst")
    report = move(engine, src, dst)
    assert not report.ok and len(report.failures) == 1
    text = report.failures[0].describe()
    base, path, _ = seeded.files[key]
    assert "SHA-256 mismatch" in text and repr(base) in text and path in text
    assert key not in dst.blobs


def test_missing_source_blob_named_by_base_and_path(engine: Engine) -> None:
    src, seeded = setup(engine)
    key = sorted(seeded.files)[0]
    del src.blobs[key]
    report = move(engine, src, FakeStore())
    assert [f.key for f in report.failures] == [key]
    base, path, _ = seeded.files[key]
    assert "missing at the source (fake://src)" in report.failures[0].describe()
    assert f"base {base!r} {path}" in report.failures[0].describe()


def test_verify_rehashes_destination_and_recopies_a_bad_copy(engine: Engine) -> None:
    src, seeded = setup(engine)
    dst = FakeStore()
    assert move(engine, src, dst).ok
    key = next(k for k, (_, _, d) in seeded.files.items() if len(d) > 10)
    bad = bytearray(dst.blobs[key])
    bad[0] ^= 1
    dst.blobs[key] = bytes(bad)  # same size: a plain re-run would not notice
    assert move(engine, src, dst).copied == 0
    report = move(engine, src, dst, verify=True)
    assert report.ok and report.copied == 1 and report.verified == len(seeded.files)
    assert hashlib.sha256(dst.blobs[key]).hexdigest() == hashlib.sha256(src.blobs[key]).hexdigest()


def test_orphans_are_counted_not_copied(engine: Engine) -> None:
    src, _ = setup(engine)
    src.blobs["f" * 32] = b"left over"
    dst = FakeStore()
    report = move(engine, src, dst)
    assert report.ok and report.orphans == 1 and report.orphan_bytes == 9
    assert report.orphan_keys == ["f" * 32] and "f" * 32 not in dst.blobs


def test_pages_of_keys_cover_every_blob(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moving, "REF_PAGE_KEYS", 5)
    monkeypatch.setattr(moving, "ORPHAN_BATCH_KEYS", 4)
    src, seeded = setup(engine)
    dst = FakeStore()
    report = move(engine, src, dst)
    assert report.ok and report.copied == len(seeded.files) > 10 and report.orphans == 0
    assert sorted(dst.creates) == sorted(seeded.files)
