"""Which importer an archive needs, told by its first bytes (never by its file name)."""

from __future__ import annotations

import io
import os
from typing import IO, Any, cast

from atoll.services.archive_io.seatable import import_dtable
from atoll.services.archive_io.tar_import import import_tar
from atoll.services.archive_io.target import ImportReport, InvalidArchive
from atoll.services.context import Context

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
TAR_MAGIC_AT = 257  # "ustar" in a POSIX tar header
HEAD_BYTES = 512


def kind_of(head: bytes) -> str:
    if head.startswith(ZIP_MAGIC):
        return "dtable"
    if head[TAR_MAGIC_AT : TAR_MAGIC_AT + 5] == b"ustar":
        return "tar"
    raise InvalidArchive("neither an atoll base archive (tar) nor a SeaTable .dtable (zip)")


async def import_archive(
    ctx: Context,
    path: str,
    *,
    name: str | None = None,
    workspace: str | None = None,
    stdin: IO[bytes] | None = None,
) -> ImportReport:
    """Import the archive at ``path`` (``-``: ``stdin``, a tar only) as a new base."""
    if path == "-":
        assert stdin is not None
        if not hasattr(stdin, "peek"):  # sys.stdin.buffer is a BufferedReader; a pipe object may not be
            stdin = cast(IO[bytes], io.BufferedReader(cast(Any, stdin)))
        if kind_of(cast(Any, stdin).peek(HEAD_BYTES)[:HEAD_BYTES]) != "tar":
            raise InvalidArchive("a .dtable (zip) must be given as a file, not on standard input")
        return await import_tar(ctx, stdin, name=name, workspace=workspace)
    try:
        f = open(path, "rb")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise InvalidArchive(f"cannot read {path}: {exc.strerror}") from None
    with f:
        kind = kind_of(f.read(HEAD_BYTES))
        f.seek(0)
        if kind == "tar":
            return await import_tar(ctx, f, name=name, workspace=workspace)
    stem = os.path.splitext(os.path.basename(path))[0] or "Imported"
    return await import_dtable(ctx, path, name=name, workspace=workspace, default_name=stem)
