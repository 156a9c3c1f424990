"""``atoll storage migrate`` with real stores: local -> local, local -> S3, S3 -> local."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner, Result

from atoll.cli import main
from atoll.db.engine import make_engine
from atoll.db.migrations import migrate
from atoll.services import moving
from atoll.storage.base import BlobStore
from tests.moving.seed import Seeded, add_file, open_store, seed
from tests.services import moto

#: One file spans several store chunks, so the copy really streams.
BIG_BYTES = 2 * 1024 * 1024 + 12345


@dataclass
class Install:
    data_dir: Path
    db_url: str
    storage: str
    seeded: Seeded
    env: dict[str, str]

    def atoll(self, *args: str) -> Result:
        argv = ["storage", "migrate", "--data-dir", str(self.data_dir), "--storage", self.storage, *args]
        return CliRunner().invoke(main, argv, env=self.env)


async def _read(store: BlobStore, key: str) -> bytes:
    out = bytearray()
    async for chunk in store.open(key):
        out += chunk
    await store.aclose()
    return bytes(out)


def read(url: str, key: str) -> bytes:
    return anyio.run(_read, open_store(url), key)


def make_install(data_dir: Path, storage: str, env: dict[str, str] | None = None) -> Install:
    env = env or {}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the S3 store reads AWS_* through Settings, like the server does
    try:
        db_url = f"sqlite:///{data_dir / 'atoll.sqlite3'}"
        engine = make_engine(db_url)
        migrate(engine)

        async def go() -> Seeded:
            store = open_store(storage)
            seeded = await seed(engine, store)
            with engine.connect() as conn:
                uuid_ = conn.exec_driver_sql("SELECT uuid FROM dtables WHERE name = 'Alpha'").scalar_one()
            big = os.urandom(BIG_BYTES)
            await add_file(engine, store, uuid_, "Alpha", "/files/big.bin", big, seeded)
            await store.aclose()
            return seeded

        seeded = anyio.run(go)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return Install(data_dir, db_url, storage, seeded, env)


@pytest.fixture
def local(tmp_path: Path) -> Install:
    return make_install(tmp_path / "a", (tmp_path / "a" / "blobs").as_uri())


def assert_all_at(url: str, install: Install) -> None:
    for key, (_, _, data) in install.seeded.files.items():
        assert hashlib.sha256(read(url, key)).digest() == hashlib.sha256(data).digest()


def test_local_to_local_then_rerun_copies_nothing(local: Install, tmp_path: Path) -> None:
    target = (tmp_path / "b" / "blobs").as_uri()
    out = local.atoll("--to", target, "--verify")
    assert out.exit_code == 0, out.output
    n = len(local.seeded.files)
    assert f"{n} blobs referenced" in out.output and f"{n} copied" in out.output
    assert f"ATOLL_STORAGE={target}" in out.stdout
    assert f"blobs {n}/{n} (copied {n}, already there 0, failed 0)" in out.stderr  # progress
    assert_all_at(target, local)
    again = local.atoll("--to", target)
    assert again.exit_code == 0 and f"0 copied (0.0 MiB), {n} already there" in again.output


@pytest.fixture
def count_copies(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Count real copies; make the copy of ``state["fail"]`` fail once."""
    state: dict[str, Any] = {"copies": [], "fail": None}
    real = moving._copy

    async def copy(source: BlobStore, target: BlobStore, key: str, size: int) -> Any:
        state["copies"].append(key)
        if key == state["fail"]:
            state["fail"] = None
            raise OSError("disk on fire (injected)")
        return await real(source, target, key, size)

    monkeypatch.setattr(moving, "_copy", copy)
    yield state


def test_interrupted_then_resumed(local: Install, tmp_path: Path, count_copies: dict[str, Any]) -> None:
    target = (tmp_path / "b" / "blobs").as_uri()
    keys = sorted(local.seeded.files)
    count_copies["fail"] = keys[2]
    first = local.atoll("--to", target)
    assert first.exit_code == 1
    assert "1 blobs FAILED" in first.output and "disk on fire" in first.output and keys[2] in first.output
    assert "ATOLL_STORAGE=" not in first.output
    assert len(count_copies["copies"]) == len(keys)
    count_copies["copies"].clear()
    second = local.atoll("--to", target, "--verify")
    assert second.exit_code == 0, second.output
    assert count_copies["copies"] == [keys[2]]  # the others were not copied again
    assert_all_at(target, local)


def test_corrupted_source_blob_is_reported(local: Install, tmp_path: Path) -> None:
    key = next(k for k, (_, _, d) in local.seeded.files.items() if len(d) == BIG_BYTES)
    path = open_store(local.storage).local_path(key)
    assert path is not None
    with path.open("r+b") as f:
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 0xFF]))
    target = (tmp_path / "b" / "blobs").as_uri()
    out = local.atoll("--to", target)
    assert out.exit_code == 1
    assert "SHA-256 mismatch" in out.output and "base 'Alpha' /files/big.bin" in out.output
    assert "ATOLL_STORAGE=" not in out.output and "nothing was switched" in out.output
    with pytest.raises(FileNotFoundError):
        read(target, key)


def test_missing_source_blob_is_named(local: Install, tmp_path: Path) -> None:
    key, (base, name, _) = sorted(local.seeded.files.items())[0]
    path = open_store(local.storage).local_path(key)
    assert path is not None
    path.unlink()
    out = local.atoll("--to", (tmp_path / "b" / "blobs").as_uri())
    assert out.exit_code == 1
    assert f"{key}: missing at the source" in out.output and f"base {base!r} {name}" in out.output


def test_refuses_same_store(local: Install) -> None:
    out = local.atoll("--to", local.storage)
    assert out.exit_code == 2 and "current blob store" in out.output


def test_local_to_s3_and_back(local: Install, tmp_path: Path) -> None:
    env = moto().env
    s3_url = moto().new_storage_url()
    local.env = env
    out = local.atoll("--to", s3_url, "--verify")
    assert out.exit_code == 0, out.output
    assert f"ATOLL_STORAGE={s3_url}" in out.output
    os.environ.update(env)
    try:
        assert_all_at(s3_url, local)
    finally:
        for k in env:
            os.environ.pop(k, None)

    # Now the S3 store is the current one; move everything to a fresh local folder.
    on_s3 = Install(local.data_dir, local.db_url, s3_url, local.seeded, env)
    back = (tmp_path / "c" / "blobs").as_uri()
    out = on_s3.atoll("--to", back, "--verify")
    assert out.exit_code == 0, out.output
    assert_all_at(back, local)


def test_s3_source_resume(tmp_path: Path) -> None:
    env = moto().env
    install = make_install(tmp_path / "s", moto().new_storage_url(), env)
    target = (tmp_path / "t" / "blobs").as_uri()
    out = install.atoll("--to", target)
    assert out.exit_code == 0, out.output
    again = install.atoll("--to", target, "--verify")
    n = len(install.seeded.files)
    assert again.exit_code == 0 and f"{n} already there, {n} read back and verified" in again.output


def test_bad_target_url_and_unusable_target(local: Install, tmp_path: Path) -> None:
    out = local.atoll("--to", "ftp://example/blobs")
    assert out.exit_code == 2 and "--to: unsupported blob store URL" in out.output
    not_a_dir = tmp_path / "a-file"
    not_a_dir.write_text("x")
    out = local.atoll("--to", (not_a_dir / "blobs").as_uri())
    assert out.exit_code == 1 and "cannot be used" in out.output, out.output
