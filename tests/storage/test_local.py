"""The local blob store contract: durable commit, exact bytes and hash, nothing left on abort."""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

import anyio
import pytest

from atoll.storage import LocalBlobStore
from atoll.storage.sinks import BufferedSink, DirectSink, open_sink


def _store(tmp_path: Path, chunk: int = 4096) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs", chunk_bytes=chunk)


async def _write(store: LocalBlobStore, pieces: list[bytes | memoryview]) -> tuple[str, int, str]:
    writer = await store.create()
    for piece in pieces:
        await writer.write(piece)
    info = await writer.commit()
    return info.key, info.size, info.sha256


@pytest.mark.parametrize("chunk", [4096, 5000])  # aligned: direct I/O; unaligned: buffered
@pytest.mark.parametrize("seed", range(5))
def test_random_piece_sizes_round_trip(tmp_path: Path, seed: int, chunk: int) -> None:
    rnd = random.Random(seed)
    data = rnd.randbytes(rnd.randint(0, 300_000))
    pieces: list[bytes | memoryview] = []
    pos = 0
    while pos < len(data):  # mixed bytes and memoryviews, sizes around the chunk size
        n = rnd.choice([1, 17, 4095, 4096, 4097, 20_000])
        part = data[pos:pos + n]
        pieces.append(memoryview(part) if rnd.random() < 0.5 else part)
        pos += n
    store = _store(tmp_path, chunk)
    key, size, sha = anyio.run(_write, store, pieces)
    assert size == len(data) and sha == hashlib.sha256(data).hexdigest()
    assert store.path_for(key).read_bytes() == data
    assert anyio.run(store.pending) == []

    async def read_all() -> bytes:
        return b"".join([c async for c in store.open(key, 5, len(data) - 5)])

    assert anyio.run(read_all) == data[5:len(data) - 5]


def test_abort_leaves_nothing(tmp_path: Path) -> None:
    store = _store(tmp_path)

    async def go() -> None:
        writer = await store.create()
        await writer.write(os.urandom(50_000))
        await writer.abort()

    anyio.run(go)
    assert anyio.run(store.pending) == [] and [p for p in (tmp_path / "blobs").rglob("*.part")] == []


def test_sweep_removes_temp_files_only(tmp_path: Path) -> None:
    store = _store(tmp_path)
    key, _, _ = anyio.run(_write, store, [b"kept"])
    dead = tmp_path / "blobs" / "tmp" / "deadbeef"  # a crashed process's staging, no lease
    dead.mkdir()
    (dead / "x.part").write_bytes(b"partial")
    assert anyio.run(store.sweep) == 1

    async def keys() -> list[str]:
        return [stat.key async for stat in store.list()]

    assert anyio.run(keys) == [key]
    assert anyio.run(store.pending) == []


def test_sweep_spares_a_live_process_and_reaps_a_dead_one(tmp_path: Path) -> None:
    """Two stores on one folder stand for two processes: a lease (flock) protects live uploads."""
    live, other = _store(tmp_path), _store(tmp_path)

    async def go() -> None:
        writer = await live.create()
        await writer.write(b"in flight" * 1000)
        await writer.commit()
        unfinished = await live.create()
        await unfinished.write(b"x" * 10_000)
        assert len(await other.pending()) == 1
        assert await other.sweep() == 0  # its owner is alive
        assert len(await other.pending()) == 1
        await live.aclose()  # the owner "dies": the kernel drops its lock
        assert await other.sweep() == 1
        assert await other.pending() == []

    anyio.run(go)


def test_keys_are_never_user_paths(tmp_path: Path) -> None:
    store = _store(tmp_path)
    for bad in ("../x", "g" * 32, "/etc/passwd", "0" * 31 + "/"):
        with pytest.raises(ValueError):
            store.path_for(bad)


def test_sink_choice(tmp_path: Path) -> None:
    direct = open_sink(tmp_path / "a", 8192)
    buffered = open_sink(tmp_path / "b", 5000)
    assert isinstance(direct, DirectSink) and isinstance(buffered, BufferedSink)
    for sink in (direct, buffered):
        sink.write([b"x" * 10_000, memoryview(b"yz")])
        sink.finish()
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes() == b"x" * 10_000 + b"yz"


def test_sweep_removes_completion_links_a_crash_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash between a completion's link and its rename leaves ``.<random>.link`` beside the
    blob: sweep removes it once stale (by its inode's ctime), never a fresh one, never a blob."""
    from atoll.storage import local

    store = _store(tmp_path)

    async def go() -> tuple[int, int]:
        writer = await store.create()
        await writer.write(b"kept")
        key = (await writer.commit()).key
        blob = store.path_for(key)
        link = blob.with_name(f".{'0' * 32}{local.LINK_SUFFIX}")
        os.link(blob, link)  # as _complete_sync does, before its rename
        fresh = await store.sweep()
        assert link.exists()
        monkeypatch.setattr(local, "STALE_LINK_S", 0)
        stale = await store.sweep()
        assert not link.exists() and blob.read_bytes() == b"kept"
        assert [s.key async for s in store.list()] == [key]
        return fresh, stale

    assert anyio.run(go) == (0, 1)
