"""The resumable (tus 1.0) upload of a local file, an operation (``_effects``) that ``Base`` and
``AsyncBase`` both run.

One ``PATCH`` streams the rest of the file from the server's offset, read and hashed chunk by
chunk (SHA-256 of everything sent, compared with the server's at the end). When it fails — the
connection breaks or times out, 5xx, 423, the server is restarting — the upload waits (jittered
backoff, 0.5 s doubling to 10 s), asks ``HEAD`` for the server's offset and goes on from there;
it gives up with ``TransferError`` only after ``patience`` seconds without progress. A 409 means
the offsets disagree: ``HEAD`` and continue. An upload the server no longer knows (404/410) is
started again once (not an attached one: it may already be in its cell).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import httpx

from atoll.client import _requests as rq
from atoll.client import _tus as tus
from atoll.client._effects import Exchange, Op, Sleep
from atoll.client._flows import check_retry, retrying, send_json
from atoll.client._resume_store import ResumeStore
from atoll.client._transport import Incomplete, Progress, TimeoutArg, TransportState, transfer_error
from atoll.client.exceptions import AtollHTTPError, IntegrityError, TransferError


@dataclass(frozen=True)
class TusJob:
    """What to upload where: the creation link, the metadata, and the resume-store entry."""

    tus_link: str
    metadata: dict[str, str]
    size: int
    attach: bool
    store: ResumeStore | None
    store_key: str


class _Gone(Exception):
    """The server does not know the upload (404/410)."""

    def __init__(self, error: AtollHTTPError) -> None:
        super().__init__(str(error))
        self.error = error


class _Retry(Exception):
    """A PATCH failed in a way worth waiting out (then HEAD and go on)."""

    def __init__(self, error: AtollHTTPError) -> None:
        super().__init__(str(error))
        self.error = error


class _Hashed:
    """The local file, read from an offset and hashed on the way: ``digest`` is the SHA-256 of
    bytes ``[0, at)``; moving to another offset re-reads only what it must."""

    def __init__(self, file: IO[bytes], size: int, progress: Progress | None) -> None:
        self.file = file
        self.size = size
        self.progress = progress
        self.at = 0
        self.hash = hashlib.sha256()
        self._mark = (0, self.hash.copy())  # a known state, where the last PATCH started

    def move_to(self, offset: int) -> None:
        if offset == self.at:
            return
        start, state = self._mark if self._mark[0] <= offset else (0, hashlib.sha256())
        self.hash, self.at = state.copy(), start
        self.file.seek(start)
        while self.at < offset:
            chunk = self.file.read(min(rq.CHUNK_SIZE, offset - self.at))
            if not chunk:
                raise Incomplete("the file shrank while uploading")
            self.hash.update(chunk)
            self.at += len(chunk)

    def body(self, offset: int) -> Iterator[bytes]:
        """The bytes ``[offset, size)``, hashed and reported to ``progress`` as they go."""
        self.move_to(offset)
        self._mark = (offset, self.hash.copy())
        self.file.seek(offset)
        if self.progress:
            self.progress(offset, self.size)
        while self.at < self.size:
            chunk = self.file.read(min(rq.CHUNK_SIZE, self.size - self.at))
            if not chunk:
                raise Incomplete("the file shrank while uploading")
            self.hash.update(chunk)
            self.at += len(chunk)
            if self.progress:
                self.progress(self.at, self.size)
            yield chunk

    def hexdigest(self) -> str:
        self.move_to(self.size)
        return self.hash.hexdigest()


class _Run:
    def __init__(self, t: TransportState, job: TusJob, source: _Hashed, timeout: TimeoutArg,
                 patience: float) -> None:
        self.t = t
        self.job = job
        self.source = source
        self.timeout_arg = timeout
        self.timeout = t.httpx_timeout(timeout)
        self.patience = patience
        self.failures = 0
        self.best = -1
        self.since = t.clock()
        self.restarts = 0

    def progressed(self, offset: int) -> None:
        if offset > self.best:
            self.best, self.since, self.failures = offset, self.t.clock(), 0

    def wait(self, error: BaseException) -> Op[None]:
        """Back off after a transient failure, or give up once patience has run out."""
        stalled = self.t.clock() - self.since
        if stalled >= self.patience:
            raise TransferError(
                f"upload made no progress for {stalled:.0f} s (at byte {max(self.best, 0)} of "
                f"{self.job.size}); last error: {error}"
            ) from error
        yield Sleep(tus.BACKOFF.delay(self.failures))
        self.failures += 1

    def create(self) -> Op[str]:
        def attempt() -> Op[str]:
            response: httpx.Response = yield Exchange(
                "POST", self.job.tus_link, self.timeout,
                headers=tus.create_headers(self.job.size, self.job.metadata),
            )
            check_retry(response, True)
            if response.status_code >= 400:
                raise rq.http_error(response.status_code, response.content)
            return tus.upload_location(self.job.tus_link, response)

        url = yield from retrying(self.t, attempt, idempotent=True)
        if self.job.store is not None:
            self.job.store.put(self.job.store_key, url, size=self.job.size,
                               name=self.job.metadata.get("filename"))
        return url

    def head(self, url: str) -> Op[int]:
        """The server's offset, retried until it answers (or patience runs out)."""
        while True:
            try:
                response: httpx.Response = yield Exchange(
                    "HEAD", url, self.timeout, headers=tus.head_headers()
                )
            except httpx.TransportError as exc:
                yield from self.wait(transfer_error(exc, self.t.server_url))
                continue
            self.t.reached = True
            status = response.status_code
            if status == 200:
                length = tus.length_of(response)
                if length is not None and length != self.job.size:
                    raise _Gone(AtollHTTPError(status, f"the upload is for {length} bytes"))
                return tus.offset_of(response)
            error = rq.http_error(status, response.content)
            if status in (404, 410):
                raise _Gone(error)
            if not (status in (423, 429) or status >= 500):
                raise error
            yield from self.wait(error)

    def status(self, url: str) -> Op[dict[str, Any] | None]:
        """``GET <upload url>``: the result, once complete."""
        spec = rq.RequestSpec("GET", url, "none")
        data = yield from send_json(self.t, spec, tus.head_headers(), self.timeout_arg)
        return tus.status_result(data)[1]

    def patch(self, url: str, offset: int) -> Op[tuple[int, dict[str, Any] | None]]:
        """One PATCH of the rest of the file; the new offset and the result if it completed.
        A failure worth waiting out raises ``_Retry``."""
        try:
            response: httpx.Response = yield Exchange(
                "PATCH", url, self.timeout, headers=tus.patch_headers(offset, self.job.size - offset),
                content=self.source.body(offset),
            )
        except Incomplete as exc:
            raise TransferError(f"cannot upload: {exc}") from exc
        except httpx.TransportError as exc:
            raise _Retry(transfer_error(exc, self.t.server_url)) from exc
        self.t.reached = True
        status = response.status_code
        if status == 204:
            return tus.offset_of(response), tus.result_from_header(response)
        error = rq.http_error(status, response.content)
        if status in (404, 410):
            raise _Gone(error)
        if status == 409:
            server = yield from self.head(url)
            if server == offset:  # at the right offset and still a conflict: a real one
                raise error
            return server, None
        if status in (423, 429) or status >= 500:
            raise _Retry(error)
        raise error

    def transfer(self, url: str, offset: int) -> Op[dict[str, Any]]:
        """PATCH until the server holds every byte; the completion result."""
        while True:
            self.progressed(offset)
            if offset >= self.job.size:
                result = yield from self.status(url)
                if result is not None:
                    return result
                yield from self.wait(AtollHTTPError(200, "all bytes sent, upload not complete"))
                offset = yield from self.head(url)
                continue
            try:
                offset, result = yield from self.patch(url, offset)
            except _Retry as r:
                yield from self.wait(r.error)
                offset = yield from self.head(url)
                continue
            if result is not None:
                return result

    def run(self, url: str | None) -> Op[dict[str, Any]]:
        offset = 0
        if url is not None:  # from the resume store: a stale one means starting afresh
            try:
                offset = yield from self.head(url)
            except _Gone:
                url = None
        if url is None:
            url = yield from self.create()
        while True:
            try:
                return (yield from self.transfer(url, offset))
            except _Gone as gone:
                if self.job.attach or self.restarts:
                    raise gone.error from None
                self.restarts += 1
                url, offset = (yield from self.create()), 0


def tus_upload(
    t: TransportState,
    job: TusJob,
    file: IO[bytes],
    *,
    progress: Progress | None,
    timeout: TimeoutArg,
    patience: float,
) -> Op[dict[str, Any]]:
    """Upload ``file`` (``job.size`` bytes) with tus, resuming a stored upload if there is one;
    the server's completion result, its SHA-256 checked against the bytes sent."""
    source = _Hashed(file, job.size, progress)
    stored = job.store.get(job.store_key) if job.store is not None else None
    run = _Run(t, job, source, timeout, patience)
    result = yield from run.run(stored)
    if job.store is not None:
        job.store.remove(job.store_key)
    expected = result.get("sha256")
    actual = source.hexdigest()
    if isinstance(expected, str) and expected.lower() != actual:
        raise IntegrityError(
            200, f"the server stored {result.get('size')} bytes with SHA-256 {expected}, "
            f"but the file sent has {actual}", None,
        )
    return result
