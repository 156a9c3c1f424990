"""Streaming multipart parsing for the upload endpoint, with named limits.

The body is fed chunk by chunk to python-multipart's push parser; its callbacks queue small
events (a field's bytes, a file part's bytes) that ``parse_upload`` hands to the Upload use
case as they come. No body, file or field is ever held whole beyond its limit.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from atoll.config import Settings
from atoll.errors import InvalidInput, PayloadTooLarge
from atoll.storage.base import Piece

#: What a multipart request may carry beyond its files' bytes (fields, part headers, boundaries),
#: at most the file limit itself: so a file of exactly ``max_upload_bytes`` fits in a request.
MULTIPART_ALLOWANCE_BYTES = 1024 * 1024


async def first_chunk(chunks: AsyncIterator[bytes]) -> bytes:
    """The first chunk of a stream (b"" for an empty one): read before a response is started,
    so that a missing blob is still an error status, not a cut-off body."""
    try:
        return await anext(chunks)
    except StopAsyncIteration:
        return b""


async def after_first(first: bytes, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """``first`` (read by ``first_chunk``) then the rest of ``chunks``, which is closed at the end."""
    try:
        if first:
            yield first
        async for chunk in chunks:
            yield chunk
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]


def body_limit(max_upload_bytes: int) -> int:
    """The largest upload-api request body: the file limit plus the framing allowance."""
    return max_upload_bytes + min(MULTIPART_ALLOWANCE_BYTES, max_upload_bytes)


#: Headers allowed in one part (Content-Disposition, Content-Type, and a few more).
MAX_PART_HEADERS = 8
_FILENAME_STAR = re.compile(rb"filename\*\s*=\s*([^;]+)", re.IGNORECASE)
#: The plain ``filename=`` parameter as sent: a quoted string (with quoted pairs) or a token.
_FILENAME_RAW = re.compile(rb';\s*filename\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)', re.IGNORECASE | re.DOTALL)


class FileWriter(Protocol):
    async def write(self, data: Piece) -> None: ...


class UploadJob(Protocol):
    """What a multipart upload feeds (``services.assets.Upload``, ``services.chunked.ChunkUpload``)."""

    def set_field(self, name: str, value: str) -> None: ...

    async def begin_file(self, raw_name: str) -> FileWriter: ...

    async def end_file(self) -> None: ...



@dataclass
class _Part:
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    field_name: str = ""
    file_name: str | None = None
    value: bytearray = field(default_factory=bytearray)


@dataclass
class _Events:
    """What the parser's callbacks saw in the last chunk, in order."""

    queue: list[tuple[str, object]] = field(default_factory=list)
    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)

    def callbacks(self) -> dict[str, object]:
        def on_part_begin() -> None:
            self.headers = []

        def on_header_field(data: bytes, start: int, end: int) -> None:
            self.header_field += data[start:end]

        def on_header_value(data: bytes, start: int, end: int) -> None:
            self.header_value += data[start:end]

        def on_header_end() -> None:
            self.headers.append((bytes(self.header_field).lower(), bytes(self.header_value)))
            self.header_field.clear()
            self.header_value.clear()

        def on_headers_finished() -> None:
            self.queue.append(("part", list(self.headers)))

        def on_part_data(data: bytes, start: int, end: int) -> None:
            # zero-copy when the parser hands us immutable bytes (the view keeps them alive)
            piece = memoryview(data)[start:end] if isinstance(data, bytes) else bytes(data[start:end])
            self.queue.append(("data", piece))

        def on_part_end() -> None:
            self.queue.append(("end", None))

        return {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        }


def boundary_of(content_type: str | None) -> bytes:
    mime, params = parse_options_header(content_type or "")
    boundary = params.get(b"boundary")
    if mime != b"multipart/form-data" or not boundary:
        raise InvalidInput("Invalid request: multipart/form-data with a boundary expected.")
    if len(boundary) > 200:
        raise InvalidInput("Invalid request: multipart boundary too long.")
    return boundary


def _disposition(headers: list[tuple[bytes, bytes]]) -> tuple[str, str | None]:
    raw = next((v for k, v in headers if k == b"content-disposition"), None)
    if raw is None:
        raise InvalidInput("Invalid multipart part: no Content-Disposition.")
    kind, params = parse_options_header(raw)
    if kind != b"form-data" or b"name" not in params:
        raise InvalidInput("Invalid multipart part: form-data with a name expected.")
    try:
        name = params[b"name"].decode("utf-8")
        filename = params[b"filename"].decode("utf-8") if b"filename" in params else None
    except UnicodeDecodeError as exc:
        raise InvalidInput("invalid fileName: not UTF-8.") from exc
    if filename is not None and "\\" in _raw_filename(raw):
        # python-multipart keeps only what follows the last backslash of a name that starts
        # like a Windows path (C:\..., \\server\...): refuse it rather than store a name
        # the client never sent (docs/names.md: backslashes are refused).
        raise InvalidInput("invalid fileName: a backslash (\\) is not allowed in a name.")
    star = _FILENAME_STAR.search(raw)
    if star is not None:
        filename = _reconcile_filename_star(star.group(1), filename)
    return name, filename


def _raw_filename(header: bytes) -> str:
    """The ``filename=`` value of a Content-Disposition header, unquoted but not stripped of any
    Windows path (latin-1, as python-multipart reads it); ``""`` if absent."""
    found = _FILENAME_RAW.search(header)
    if found is None:
        return ""
    value = found.group(1).strip().decode("latin-1")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1].replace("\\\\", "\\").replace('\\"', '"')
    return value


def _reconcile_filename_star(value: bytes, plain: str | None) -> str:
    """RFC 5987 ``filename*=UTF-8''...``: accepted alone, or when it agrees with ``filename``."""
    charset, _, rest = value.strip().decode("latin-1").partition("''")
    if charset.lower() != "utf-8":
        raise InvalidInput("invalid fileName: filename* must be UTF-8.")
    try:
        decoded = unquote(rest.strip('"'), errors="strict")
    except UnicodeDecodeError as exc:
        raise InvalidInput("invalid fileName: filename* is not UTF-8.") from exc
    if plain is not None and plain != decoded:
        raise InvalidInput("invalid fileName: filename and filename* disagree.")
    return decoded


class _Feeder:
    """Applies parser events to an Upload, enforcing the part and field limits."""

    def __init__(self, upload: UploadJob, settings: Settings) -> None:
        self.upload = upload
        self.settings = settings
        self.part: _Part | None = None
        self.writer: FileWriter | None = None
        self.file_bytes = 0
        self.parts = 0

    async def apply(self, kind: str, payload: object) -> None:
        if kind == "part":
            await self._begin(payload)  # type: ignore[arg-type]
        elif kind == "data":
            await self._data(payload)  # type: ignore[arg-type]
        else:
            await self._end()

    async def _begin(self, headers: list[tuple[bytes, bytes]]) -> None:
        self.parts += 1
        if self.parts > self.settings.max_parts:
            raise PayloadTooLarge(f"Too many parts: more than {self.settings.max_parts}.")
        name, filename = _disposition(headers)
        self.part = _Part(headers=headers, field_name=name, file_name=filename)
        if filename is not None and name == "file":
            self.writer = await self.upload.begin_file(filename)
            self.file_bytes = 0

    async def _data(self, data: memoryview | bytes) -> None:
        assert self.part is not None
        if self.writer is not None:
            self.file_bytes += len(data)
            limit = self.settings.max_upload_bytes
            if self.file_bytes > limit:
                raise PayloadTooLarge(f"File size is too large: the limit is {limit} bytes.")
            await self.writer.write(data)
            return
        if self.part.file_name is not None:
            return  # a file under another field name: read past it, as Seafile ignores it
        self.part.value += data
        if len(self.part.value) > self.settings.max_field_bytes:
            raise PayloadTooLarge(f"Field {self.part.field_name!r} is too large.")

    async def _end(self) -> None:
        assert self.part is not None
        if self.writer is not None:
            self.writer = None
            await self.upload.end_file()
        elif self.part.file_name is None:
            try:
                value = self.part.value.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidInput(f"Field {self.part.field_name!r} is not UTF-8.") from exc
            self.upload.set_field(self.part.field_name, value)
        self.part = None


async def parse_upload(
    body: AsyncIterator[bytes], content_type: str | None, upload: UploadJob, settings: Settings
) -> None:
    """Feed a multipart body into ``upload``. Raises InvalidInput/PayloadTooLarge on bad input;
    the caller aborts the upload then."""
    events = _Events()
    parser = MultipartParser(
        boundary_of(content_type),
        events.callbacks(),  # type: ignore[arg-type]
        max_header_count=MAX_PART_HEADERS,
        max_header_size=settings.max_part_header_bytes,
    )
    feeder = _Feeder(upload, settings)
    received = 0
    async for chunk in body:
        received += len(chunk)
        if received > body_limit(settings.max_upload_bytes):
            raise PayloadTooLarge(f"File size is too large: the limit is {settings.max_upload_bytes} bytes.")
        try:
            parser.write(chunk if isinstance(chunk, bytes) else bytes(chunk))
        except MultipartParseError as exc:
            raise InvalidInput(f"Malformed multipart body: {exc}") from exc
        for kind, payload in events.queue:
            await feeder.apply(kind, payload)
        events.queue.clear()
    try:
        parser.finalize()
    except MultipartParseError as exc:
        raise InvalidInput(f"Malformed multipart body: {exc}") from exc
    for kind, payload in events.queue:
        await feeder.apply(kind, payload)
    if feeder.part is not None or parser.state != _final_state():
        raise InvalidInput("Malformed multipart body: it ends before its closing boundary.")


def _final_state() -> object:
    from python_multipart.multipart import MultipartState

    return MultipartState.END
