"""The streaming ZIP writer alone: lazy consumption (constant memory), stored and deflate,
UTF-8 names, ZIP64 for over 65,535 entries and for an entry past 4 GiB (a sparse file)."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import subprocess
import zipfile
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from atoll.services.zipstream import GATHER_BYTES, ZIP64_LIMIT, ZipEntry, ZipError, ZipWriter, chunks_of

MiB = 1024 * 1024


async def _collect(writer: ZipWriter, entries: AsyncIterator[ZipEntry]) -> bytes:
    out = io.BytesIO()
    async for piece in writer.stream(entries):
        out.write(piece)
    return out.getvalue()


def test_consumes_chunks_and_entries_lazily() -> None:
    pulled = {"chunks": 0, "entries": 0}

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(1000):
            pulled["chunks"] += 1
            yield b"x" * 1024

    async def entries() -> AsyncIterator[ZipEntry]:
        for i in range(3):
            pulled["entries"] += 1
            yield ZipEntry(f"f{i}", chunks(), size=1000 * 1024)

    async def run() -> None:
        stream = ZipWriter().stream(entries())
        first = await anext(stream)  # the first local header, with the chunks gathered after it
        assert first.startswith(b"PK\x03\x04")
        assert pulled["entries"] == 1
        given = len(first)
        async for piece in stream:
            # read ahead of what was given: at most the gathering buffer and one chunk
            assert pulled["chunks"] * 1024 <= given + GATHER_BYTES + 1024
            given += len(piece)
        assert pulled == {"chunks": 3000, "entries": 3}

    asyncio.run(run())


@pytest.mark.parametrize("deflate", [False, True])
def test_archive_reads_back(deflate: bool, tmp_path: Path) -> None:
    files = {"a.txt": b"hello\n" * 1000, "dir/é ü.bin": os.urandom(300_000), "empty": b""}

    async def entries() -> AsyncIterator[ZipEntry]:
        for name, data in files.items():
            pieces = [data[i : i + 65536] for i in range(0, len(data), 65536)]
            yield ZipEntry(name, chunks_of(pieces), size=len(data), mtime=datetime(2026, 1, 2, 3, 4, 6))

    raw = asyncio.run(_collect(ZipWriter(deflate=deflate), entries()))
    z = zipfile.ZipFile(io.BytesIO(raw))
    assert z.testzip() is None
    assert {n: z.read(n) for n in z.namelist()} == files
    assert z.getinfo("a.txt").date_time == (2026, 1, 2, 3, 4, 6)
    if deflate:
        assert z.getinfo("a.txt").compress_size < 1000
    if shutil.which("unzip"):
        (tmp_path / "a.zip").write_bytes(raw)
        assert subprocess.run(["unzip", "-tq", str(tmp_path / "a.zip")], capture_output=True).returncode == 0


def test_size_mismatch_fails_loudly() -> None:
    async def entries() -> AsyncIterator[ZipEntry]:
        yield ZipEntry("short", chunks_of([b"abc"]), size=4)

    with pytest.raises(ZipError):
        asyncio.run(_collect(ZipWriter(), entries()))


def test_zip64_many_entries(tmp_path: Path) -> None:
    count = 70_000

    async def entries() -> AsyncIterator[ZipEntry]:
        for i in range(count):
            yield ZipEntry(f"{i}.txt", chunks_of([str(i).encode()]), size=len(str(i)))

    raw = asyncio.run(_collect(ZipWriter(), entries()))
    assert b"PK\x06\x06" in raw[-200:]  # the ZIP64 end record
    z = zipfile.ZipFile(io.BytesIO(raw))
    assert len(z.namelist()) == count and z.read("69999.txt") == b"69999"
    if shutil.which("unzip"):
        (tmp_path / "many.zip").write_bytes(raw)
        assert (
            subprocess.run(["unzip", "-tq", str(tmp_path / "many.zip")], capture_output=True).returncode == 0
        )


def test_zip64_entry_past_4_gib(tmp_path: Path) -> None:
    """4 GiB + 1 MiB of zeros, then a small file whose offset is past 4 GiB. The zeros become a
    hole in a sparse file, so the test needs neither the disk space nor the memory."""
    zero = bytes(4 * MiB)
    big = ZIP64_LIMIT + 1 + MiB
    path = tmp_path / "big.zip"

    async def zeros() -> AsyncIterator[bytes]:
        left = big
        while left:
            piece = zero if left >= len(zero) else zero[:left]
            left -= len(piece)
            yield piece

    async def entries() -> AsyncIterator[ZipEntry]:
        yield ZipEntry("zeros.bin", zeros(), size=big)
        yield ZipEntry("after.txt", chunks_of([b"after"]), size=5)

    async def write() -> None:
        with path.open("wb") as f:
            async for piece in ZipWriter().stream(entries()):
                if piece is zero:  # stored entries pass their chunks on as they are
                    f.seek(len(piece), os.SEEK_CUR)  # a hole reads back as zeros
                else:
                    f.write(piece)

    asyncio.run(write())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("zeros.bin")
        assert info.file_size == big and info.compress_size == big
        after = z.getinfo("after.txt")
        assert after.header_offset > ZIP64_LIMIT
        assert z.read("after.txt") == b"after"
    if os.environ.get("ATOLL_ZIP_UNZIP_BIG") and shutil.which("unzip"):  # reads 4 GiB: opt-in
        out = subprocess.run(["unzip", "-tq", str(path)], capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr
