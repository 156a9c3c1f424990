"""A streaming ZIP writer: entries in, archive bytes out, never a whole file in memory.

Each entry's bytes come from an async iterator and leave as they arrive (stored: the very
chunks; deflate: what ``zlib`` gives back), with the CRC-32 computed on the way. Sizes and CRC
are not known when the local header is written, so every entry has general-purpose flag bit 3
set and is followed by a data descriptor; the central directory at the end repeats them (it is
what readers such as Python's ``zipfile`` and ``unzip`` use).

ZIP64 (APPNOTE 6.3.x, 4.3.9 and 4.4): an entry whose expected size is at least ``ZIP64_LIMIT``
gets a ZIP64 extra field in its local header and 8-byte sizes in its data descriptor; the
central directory uses ZIP64 extra fields for sizes and offsets past 4 GiB; an archive with more
than 65,535 entries, or a central directory past 4 GiB, ends with the ZIP64 end records.

Memory: the central directory is kept (one small record per entry, about 100 bytes), so memory
grows with the number of entries, never with their sizes.
"""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio.to_thread

#: Method numbers (APPNOTE 4.4.5).
STORED = 0
DEFLATED = 8
#: Sizes and offsets from this on need ZIP64 fields.
ZIP64_LIMIT = 0xFFFFFFFF
#: More entries than this need the ZIP64 end records.
ZIP64_ENTRIES = 0xFFFF
#: Deflate may grow incompressible data a little: an entry expected near the limit gets ZIP64.
DEFLATE_GROWTH_MARGIN = 1 << 20
#: Pieces smaller than this are gathered before they are sent...
GATHER_BYTES = 64 * 1024
#: ...with the next piece if it is at most this big (a copy this size costs less than a send).
JOIN_BYTES = 1024 * 1024
#: Chunks smaller than this are deflated on the event loop; larger ones in a worker thread.
DEFLATE_INLINE_BYTES = 64 * 1024
#: Flag bits: 3 = sizes in a data descriptor, 11 = the name is UTF-8.
FLAGS = (1 << 3) | (1 << 11)
VERSION_DEFAULT = 20
VERSION_ZIP64 = 45
#: Made by: UNIX (3) << 8 | spec 4.5, so the external attributes hold the file mode.
MADE_BY = (3 << 8) | VERSION_ZIP64
FILE_MODE = 0o100644 << 16

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_DESCRIPTOR = struct.Struct("<IIII")
_DESCRIPTOR64 = struct.Struct("<IIQQ")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_END64 = struct.Struct("<IQHHIIQQQQ")
_LOCATOR64 = struct.Struct("<IIQI")


class ZipError(Exception):
    """An entry did not hold the bytes it promised (its size changed while it was read)."""


@dataclass(frozen=True)
class ZipEntry:
    """One file of the archive: its path inside it, its bytes, and what is known up front."""

    name: str
    chunks: AsyncIterator[bytes]
    #: The size the source says (checked when given; decides ZIP64 for the local header).
    size: int | None = None
    mtime: datetime | None = None


@dataclass(frozen=True)
class _Record:
    name: bytes
    method: int
    dos_time: int
    dos_date: int
    crc: int
    compressed: int
    size: int
    offset: int
    zip64_local: bool


def dos_datetime(when: datetime | None) -> tuple[int, int]:
    """(time, date) in MS-DOS format; before 1980 (DOS's epoch) becomes 1980-01-01."""
    t = when.timetuple() if when is not None else time.localtime()
    if t.tm_year < 1980:
        return 0, (1 << 5) | 1
    year = min(t.tm_year, 2107)  # the 7-bit year's last
    return (t.tm_hour << 11) | (t.tm_min << 5) | (t.tm_sec // 2), ((year - 1980) << 9) | (
        t.tm_mon << 5
    ) | t.tm_mday


class ZipWriter:
    """Turns entries into archive bytes: ``async for piece in ZipWriter(deflate).stream(entries)``."""

    def __init__(self, *, deflate: bool = False, level: int = 6) -> None:
        self.method = DEFLATED if deflate else STORED
        self.level = level
        self.offset = 0
        self.records: list[_Record] = []

    async def stream(self, entries: AsyncIterator[ZipEntry]) -> AsyncIterator[bytes]:
        """The archive: each entry pulled from ``entries`` only when the previous one is written.

        Small pieces (headers, descriptors, small files) are gathered up to ``GATHER_BYTES`` and
        sent with the next piece when that is at most ``JOIN_BYTES`` (one send per small file
        instead of three); bigger pieces pass through as they are, uncopied."""
        pending: list[bytes] = []
        held = 0
        async for entry in entries:
            async for piece in self._entry(entry):
                if len(piece) < GATHER_BYTES:
                    pending.append(piece)
                    held += len(piece)
                    if held >= GATHER_BYTES:
                        yield b"".join(pending)
                        pending, held = [], 0
                    continue
                if pending and len(piece) <= JOIN_BYTES:
                    yield b"".join([*pending, piece])
                elif pending:
                    yield b"".join(pending)
                    yield piece
                else:
                    yield piece
                pending, held = [], 0
        pending.append(self._central_directory())
        yield b"".join(pending)

    async def _entry(self, entry: ZipEntry) -> AsyncIterator[bytes]:
        name = entry.name.encode("utf-8")
        dos_time, dos_date = dos_datetime(entry.mtime)
        expected = entry.size if entry.size is not None else 0
        zip64 = entry.size is None or expected + DEFLATE_GROWTH_MARGIN >= ZIP64_LIMIT
        offset = self.offset
        header = self._local_header(name, dos_time, dos_date, zip64)
        self.offset += len(header)
        yield header
        crc, size, compressed = 0, 0, 0
        squeeze = zlib.compressobj(self.level, zlib.DEFLATED, -15) if self.method == DEFLATED else None
        async for chunk in entry.chunks:
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            out = await _deflate(squeeze, chunk) if squeeze is not None else chunk
            if out:
                compressed += len(out)
                yield out
        if squeeze is not None:
            tail = squeeze.flush()
            compressed += len(tail)
            if tail:
                yield tail
        if entry.size is not None and size != entry.size:
            raise ZipError(f"{entry.name}: expected {entry.size} bytes, read {size}")
        if not zip64 and max(size, compressed) >= ZIP64_LIMIT:
            raise ZipError(f"{entry.name}: grew past 4 GiB without a ZIP64 header")
        descriptor = (
            _DESCRIPTOR64.pack(0x08074B50, crc, compressed, size)
            if zip64
            else _DESCRIPTOR.pack(0x08074B50, crc, compressed, size)
        )
        self.offset += compressed + len(descriptor)
        yield descriptor
        self.records.append(
            _Record(name, self.method, dos_time, dos_date, crc, compressed, size, offset, zip64)
        )

    def _local_header(self, name: bytes, dos_time: int, dos_date: int, zip64: bool) -> bytes:
        extra = struct.pack("<HHQQ", 0x0001, 16, 0, 0) if zip64 else b""
        sizes = ZIP64_LIMIT if zip64 else 0
        version = VERSION_ZIP64 if zip64 else VERSION_DEFAULT
        fixed = _LOCAL.pack(
            0x04034B50,
            version,
            FLAGS,
            self.method,
            dos_time,
            dos_date,
            0,
            sizes,
            sizes,
            len(name),
            len(extra),
        )
        return fixed + name + extra

    def _central_directory(self) -> bytes:
        start = self.offset
        parts = [_central_record(r) for r in self.records]
        size = sum(len(p) for p in parts)
        count = len(self.records)
        if count > ZIP64_ENTRIES or start >= ZIP64_LIMIT or size >= ZIP64_LIMIT:
            end64_at = start + size
            parts.append(_END64.pack(0x06064B50, 44, MADE_BY, VERSION_ZIP64, 0, 0, count, count, size, start))
            parts.append(_LOCATOR64.pack(0x07064B50, 0, end64_at, 1))
        entries = min(count, ZIP64_ENTRIES)
        parts.append(
            _END.pack(0x06054B50, 0, 0, entries, entries, min(size, ZIP64_LIMIT), min(start, ZIP64_LIMIT), 0)
        )
        out = b"".join(parts)
        self.offset += len(out)
        return out


def _central_record(r: _Record) -> bytes:
    big: list[int] = []
    size, compressed, offset = r.size, r.compressed, r.offset
    if r.zip64_local or size >= ZIP64_LIMIT or compressed >= ZIP64_LIMIT:
        big += [size, compressed]
        size = compressed = ZIP64_LIMIT
    if offset >= ZIP64_LIMIT:
        big.append(offset)
        offset = ZIP64_LIMIT
    extra = struct.pack(f"<HH{len(big)}Q", 0x0001, 8 * len(big), *big) if big else b""
    version = VERSION_ZIP64 if big else VERSION_DEFAULT
    fixed = _CENTRAL.pack(
        0x02014B50, MADE_BY, version, FLAGS, r.method, r.dos_time, r.dos_date, r.crc,
        compressed, size, len(r.name), len(extra), 0, 0, 0, FILE_MODE, offset,
    )  # fmt: skip
    return fixed + r.name + extra


async def _deflate(squeeze: Any, chunk: bytes) -> bytes:
    """Compress off the event loop when the chunk is big enough to stall it (zlib drops the GIL)."""
    if len(chunk) < DEFLATE_INLINE_BYTES:
        return bytes(squeeze.compress(chunk))
    return bytes(await anyio.to_thread.run_sync(squeeze.compress, chunk))


async def chunks_of(data: Iterable[bytes]) -> AsyncIterator[bytes]:
    """Bytes already in hand (a small manifest) as an entry's chunks."""
    for piece in data:
        yield piece
