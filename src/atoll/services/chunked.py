"""Seafile-style resumable uploads on ``upload-api``: one chunk of one file per request, with
``Content-Range``; the session is found by base, folder and name (``upload_targets.natural_key``).

``ChunkUpload`` takes the multipart parser's events like ``assets.Upload`` does. A chunk must
start where the server's bytes end (409 otherwise, saying how many it holds), must be exactly as
long as its range says, and is all or nothing; a chunk starting at 0 restarts the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError

from atoll.db import uploads as q
from atoll.errors import Conflict, InvalidInput
from atoll.models import Ticket
from atoll.services import resumable, upload_targets
from atoll.services.context import Context
from atoll.services.resumable import Appender, Target
from atoll.storage.base import Piece
from atoll.wire.chunks import ChunkRange


class ChunkConflict(Conflict):
    """A chunk that does not start where the server's bytes end."""

    def __init__(self, message: str, held: int) -> None:
        super().__init__(message)
        self.held = held


@dataclass
class ChunkUpload:
    ctx: Context
    ticket: Ticket
    chunk: ChunkRange
    #: The name from the request's Content-Disposition header (else the part's filename).
    header_name: str | None
    fields: dict[str, str] = field(default_factory=dict)
    appender: Appender | None = None
    session: q.UploadSession | None = None
    ended: bool = False

    def set_field(self, name: str, value: str) -> None:
        if name in ("parent_dir", "relative_path", "replace"):
            self.fields[name] = value

    def _target(self, raw_name: str) -> Target:
        return upload_targets.from_chunk_fields(
            self.ticket,
            parent_dir=self.fields.get("parent_dir"),
            relative_path=self.fields.get("relative_path"),
            name=self.header_name or raw_name,
            replace=self.fields.get("replace"),
        )

    async def begin_file(self, raw_name: str) -> ChunkUpload:
        if self.appender is not None:
            raise InvalidInput("Only one file is allowed per resumable request.")
        target = self._target(raw_name)
        session = await self._session(target)
        if self.chunk.first != session.received:
            raise ChunkConflict(
                f"The chunk starts at byte {self.chunk.first} but the server holds "
                f"{session.received} bytes of this file.",
                session.received,
            )
        self.appender = await Appender.start(
            self.ctx, session, offset=self.chunk.first, expected=self.chunk.size
        )
        return self

    async def _session(self, target: Target) -> q.UploadSession:
        key = upload_targets.natural_key(target)
        session = await resumable.find_natural(self.ctx, key)
        if session is not None and (self.chunk.first == 0 or session.state == q.DONE):
            if self.chunk.first != 0:
                raise ChunkConflict("This file was completed; start again at byte 0.", 0)
            await resumable.discard(self.ctx, session)  # byte 0 again: a fresh start
            session = None
        if session is None:
            if self.chunk.first != 0:
                raise ChunkConflict(
                    f"The chunk starts at byte {self.chunk.first} but the server holds "
                    "no bytes of this file.",
                    0,
                )
            try:
                _, session = await resumable.create(
                    self.ctx, target, length=self.chunk.total, natural_key=key, kind="chunked"
                )
            except IntegrityError:
                raise Conflict("Another upload of this file started at the same moment; retry.") from None
        elif session.length != self.chunk.total:
            raise ChunkConflict(
                f"The file's total size was {session.length}, this chunk says "
                f"{self.chunk.total}; start again at byte 0.",
                session.received,
            )
        return session

    async def write(self, data: Piece) -> None:
        assert self.appender is not None
        await self.appender.write(data)  # the parser's views of immutable chunks: no copy

    async def end_file(self) -> None:
        self.ended = True  # recorded only once the whole request is read: one file, or nothing

    async def finish(self) -> dict[str, Any] | None:
        """None for an intermediate chunk; the completed file's result for the last one."""
        if self.appender is None or not self.ended:
            raise InvalidInput("No file in multipart form.")
        self.session = await self.appender.finish()
        return self.session.result if self.session.state == q.DONE else None

    async def close(self) -> None:
        if self.appender is not None:
            appender, self.appender = self.appender, None
            await appender.close()


async def held_bytes(
    ctx: Context, ticket: Ticket, *, parent_dir: str | None, relative_path: str | None, file_name: str
) -> int:
    """How many bytes of this file the server holds (0 when there is no upload in progress)."""
    target = upload_targets.from_chunk_fields(
        ticket,
        parent_dir=parent_dir or ticket.path,
        relative_path=relative_path,
        name=file_name,
        replace=None,
    )
    session = await resumable.find_natural(ctx, upload_targets.natural_key(target))
    return session.received if session is not None and session.state == q.OPEN else 0
