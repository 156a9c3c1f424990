"""Writing a PAX tar to a byte stream as the members come, without knowing them in advance.

``tarfile.open(mode="w|")`` wants each member's bytes from a *blocking* file object; ours come
from the async blob store. So the header blocks are made by ``tarfile.TarInfo.tobuf`` (the
standard library's own PAX encoder: long names, sizes over 8 GiB) and the data is copied chunk by
chunk as the store yields it, padded to the 512-byte block; ``close`` writes the end-of-archive
blocks. Readers see an ordinary tar (``tarfile`` ``r|``, GNU tar, bsdtar).
"""

from __future__ import annotations

import hashlib
import tarfile
from collections.abc import AsyncIterator
from typing import BinaryIO

from atoll.errors import ChecksumMismatch
from atoll.services.archive_io.layout import SHA_PAX, MemberLog

BLOCK = tarfile.BLOCKSIZE
RECORD = tarfile.RECORDSIZE


class TarStream:
    def __init__(self, out: BinaryIO, mtime: float) -> None:
        self._out = out
        self._mtime = int(mtime)
        self.written = 0
        self.log = MemberLog()

    def _write(self, data: bytes | memoryview) -> None:
        self._out.write(data)
        self.written += len(data)

    def _header(self, name: str, size: int, sha256: str) -> None:
        info = tarfile.TarInfo(name)
        info.size = size
        info.mtime = self._mtime
        info.mode = 0o644
        info.type = tarfile.REGTYPE
        info.pax_headers = {SHA_PAX: sha256}
        self._write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))

    def _pad(self, size: int) -> None:
        if size % BLOCK:
            self._write(b"\0" * (BLOCK - size % BLOCK))

    def add_bytes(self, name: str, data: bytes) -> str:
        """A member held in memory (a metadata document); returns its SHA-256."""
        sha = hashlib.sha256(data).hexdigest()
        self._header(name, len(data), sha)
        self._write(data)
        self._pad(len(data))
        self.log.add(name, len(data), sha)
        return sha

    async def add_stream(self, name: str, size: int, sha256: str, chunks: AsyncIterator[bytes]) -> None:
        """A member streamed from ``chunks``, which must be exactly ``size`` bytes hashing to
        ``sha256`` (the metadata's word): otherwise ChecksumMismatch, and the archive is unusable."""
        self._header(name, size, sha256)
        digest = hashlib.sha256()
        got = 0
        async for chunk in chunks:
            got += len(chunk)
            if got > size:
                break
            digest.update(chunk)
            self._write(chunk)
        if got != size or digest.hexdigest() != sha256:
            raise ChecksumMismatch(
                f"{name}: the stored bytes do not match their record ({got} bytes read, {size} "
                "expected, or another SHA-256); run `atoll fsck --verify-hashes`"
            )
        self._pad(size)
        self.log.add(name, size, sha256)

    def close(self) -> None:
        """The end-of-archive marker (two zero blocks), padded to a whole tar record."""
        end = 2 * BLOCK
        total = self.written + end
        if total % RECORD:
            end += RECORD - total % RECORD
        self._write(b"\0" * end)
        self._out.flush()
