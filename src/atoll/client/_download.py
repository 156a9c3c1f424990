"""Downloads that survive a broken connection: the operation (``_effects``) behind
``download_file``, ``download_asset`` and ``download_custom_file``, for ``Base`` and ``AsyncBase``.

The body streams into a temp file beside the target (renamed over it once the length checks out)
or into the caller's binary file object. When the connection breaks mid-body, the next attempt
asks for the rest, ``Range: bytes=<n>-`` with ``If-Range: <etag>``; a 206 from byte ``n`` is
appended, a 200 (the file changed, or the server ignores ranges) starts over.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
from pathlib import Path
from typing import IO

import httpx

from atoll.client import _requests as rq
from atoll.client._effects import Body, Close, Exchange, Op, ReadAll, ReadChunk
from atoll.client._flows import check_retry, retrying
from atoll.client._transport import Incomplete, Progress, TimeoutArg, TransportState
from atoll.client.exceptions import TransferError

SaveTarget = str | os.PathLike[str] | IO[bytes]

_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class _Sink:
    """Where the bytes go: a hidden temp file beside ``target`` or the caller's file object."""

    def __init__(self, save_path: SaveTarget, name: str) -> None:
        self.file: IO[bytes]
        self.tmp: Path | None = None
        self.start = 0
        if hasattr(save_path, "write"):
            self.file = save_path  # type: ignore[assignment]
            if isinstance(self.file, io.TextIOBase):
                raise TypeError("save_path file object must be opened in binary mode ('wb')")
            given = getattr(self.file, "name", None)
            self.target = Path(given if isinstance(given, str) else name)
            with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
                self.start = self.file.tell() if self.file.seekable() else -1
            return
        raw = os.fspath(save_path)
        self.target = rq.resolve_save_path(raw, name)
        if raw.endswith(("/", os.sep)):
            self.target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.target.parent / f".{self.target.name}.{secrets.token_hex(4)}.part"
        fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        self.file = os.fdopen(fd, "wb")

    def restart(self) -> None:
        """Throw away what was written (the server sends the whole file again)."""
        if self.start < 0:
            raise TransferError("the download restarted from byte 0 and the file object cannot seek")
        self.file.seek(self.start)
        self.file.truncate()

    def finish(self) -> Path:
        if self.tmp is not None:
            self.file.close()
            os.replace(self.tmp, self.target)
        return self.target

    def abort(self) -> None:
        if self.tmp is not None:
            self.file.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.tmp)


def content_range(value: str | None) -> tuple[int, int | None] | None:
    """``bytes 100-999/1000`` -> ``(100, 1000)``; the total is ``None`` for ``*``."""
    m = _CONTENT_RANGE.match((value or "").strip())
    if not m:
        return None
    return int(m.group(1)), None if m.group(3) == "*" else int(m.group(3))


def strong_etag(response: httpx.Response) -> str | None:
    """The ETag to send as ``If-Range`` (a weak one may not be), if the body is not encoded (a
    range counts encoded bytes, we count decoded ones)."""
    etag: str | None = response.headers.get("etag")
    encoded = response.headers.get("content-encoding", "identity").lower() != "identity"
    if not etag or etag.startswith("W/") or encoded:
        return None
    return etag


class _Download:
    def __init__(self, sink: _Sink, progress: Progress | None) -> None:
        self.sink = sink
        self.progress = progress
        self.received = 0
        self.at_attempt = 0
        self.total: int | None = None
        self.etag: str | None = None

    def request_headers(self) -> dict[str, str]:
        if self.received and self.etag:
            return {"Range": f"bytes={self.received}-", "If-Range": self.etag}
        if self.received:
            self.start_over()
        return {}

    def progressed(self) -> bool:
        """Whether the failed attempt got further, in a way the next one can resume from."""
        return self.etag is not None and self.received > self.at_attempt

    def start_over(self) -> None:
        self.sink.restart()
        self.received = 0

    def take(self, response: httpx.Response) -> None:
        """Check the answer's status and range; set where its body starts and the total."""
        status = response.status_code
        got = content_range(response.headers.get("content-range")) if status == 206 else None
        same = response.headers.get("etag") in (None, self.etag)  # If-Range may be ignored
        if got is not None and got[0] == self.received and self.received and same:
            self.total = got[1]
            return
        if status == 206:  # not the rest of the file we have: ask again for the whole of it
            self.etag = None
            self.start_over()
            raise Incomplete("unexpected partial content " + response.headers.get("content-range", ""))
        if self.received:
            self.start_over()
        length = response.headers.get("content-length")
        encoded = response.headers.get("content-encoding", "identity").lower() != "identity"
        self.total = int(length) if length and length.isdigit() and not encoded else None
        self.etag = strong_etag(response)

    def got(self, chunk: bytes) -> None:
        self.sink.file.write(chunk)
        self.received += len(chunk)
        if self.progress:
            self.progress(self.received, self.total)


def fetch(
    t: TransportState,
    link: str,
    save_path: SaveTarget,
    name: str,
    progress: Progress | None,
    timeout: TimeoutArg,
    auth: dict[str, str] | None = None,
) -> Op[Path]:
    """Stream ``link`` to ``save_path``, resuming with ``Range`` after a cut; the path written
    (for a file object, its ``name``, or ``name`` when it has none). ``auth``: headers sent
    with every attempt (a link with a ticket needs none)."""
    dl = _Download(_Sink(save_path, name), progress)

    def attempt() -> Op[None]:
        headers = {**(auth or {}), **dl.request_headers()}
        dl.at_attempt = dl.received
        response: httpx.Response = yield Exchange(
            "GET", link, t.httpx_timeout(timeout), headers=headers, stream=True,
            follow_redirects=True,
        )
        try:
            if response.status_code not in (200, 206):
                yield ReadAll(response)
                check_retry(response, True)
                raise rq.http_error(response.status_code, response.content)
            dl.take(response)
            if progress:
                progress(dl.received, dl.total)
            body = Body(response)
            while chunk := (yield ReadChunk(body)):
                dl.got(chunk)
        except Exception:
            yield Close(response)
            raise
        yield Close(response)
        if dl.total is not None and dl.received != dl.total:
            raise Incomplete(f"received {dl.received} of {dl.total} bytes")

    try:
        yield from retrying(t, attempt, idempotent=True, progressed=dl.progressed)
        return dl.sink.finish()
    except BaseException:
        dl.sink.abort()
        raise
