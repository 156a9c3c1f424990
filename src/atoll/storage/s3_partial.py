"""Resumable uploads on S3: one multipart upload per upload, created with its first full part.

Bytes are gathered into parts of ``part_bytes`` (S3 wants at least 5 MiB for every part but the
last). At ``sync`` the bytes that do not fill a part yet are staged as a small object
``<prefix>/partial/<key>/<n>``, the "tail", and read back by the next request; the state holds
the upload id, the parts (number, ETag, checksum, size) and the tail's name and size. Completion
sends the tail as the last part and completes the upload (or, for a file smaller than a part,
PUTs it whole); staged tails and any multipart upload of the key go when the upload is
completed or discarded. The writing request's exclusivity comes from the metadata store's lease
(``services/resumable.py``); a part written by a writer that lost its lease is never listed,
and S3 refuses a completion whose ETags do not match.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from atoll.errors import StorageError, StorageUnavailable
from atoll.storage.base import Piece, check_key, new_key
from atoll.storage.partial import State

if TYPE_CHECKING:
    from atoll.storage.s3 import S3BlobStore

PARTIAL_PREFIX = "partial"


def _empty_state() -> State:
    return {"upload_id": None, "parts": [], "tail": None, "tail_size": 0}


def _held(state: State) -> int:
    return sum(int(p[3]) for p in state["parts"]) + int(state["tail_size"])


class S3PartialWriter:
    def __init__(self, partials: S3Partials, key: str, state: State, buffer: bytearray) -> None:
        self._p = partials
        self._key = key
        self._state = {**state, "parts": [list(p) for p in state["parts"]]}
        self._buffer = buffer
        self._previous_tail: str | None = state["tail"]
        self._superseded: str | None = None

    async def write(self, data: Piece) -> None:
        self._buffer += data
        part = self._p.store.part_bytes
        while len(self._buffer) >= part:
            await self._upload_part(bytes(self._buffer[:part]))
            del self._buffer[:part]

    async def _upload_part(self, body: bytes) -> None:
        store, object_key = self._p.store, self._p.object_key(self._key)
        if self._state["upload_id"] is None:
            self._state["upload_id"] = await store.create_multipart(object_key)
        number = len(self._state["parts"]) + 1
        etag, checksum = await store.upload_part(object_key, self._state["upload_id"], number, [body])
        self._state["parts"].append([number, etag, checksum, len(body)])

    async def sync(self) -> tuple[int, State]:
        tail: str | None = None
        if self._buffer:
            tail = self._p.tail_key(self._key)
            await self._p.put(tail, bytes(self._buffer))
        self._superseded = self._previous_tail if self._previous_tail != tail else None
        self._previous_tail = tail
        self._state["tail"], self._state["tail_size"] = tail, len(self._buffer)
        return _held(self._state), {**self._state, "parts": [list(p) for p in self._state["parts"]]}

    async def committed(self) -> None:
        if self._superseded is not None:
            old, self._superseded = self._superseded, None
            with contextlib.suppress(StorageError):
                await self._p.delete_object(old)

    async def close(self) -> None:
        self._buffer = bytearray()


class S3Partials:
    """The partial-upload half of ``S3BlobStore``."""

    def __init__(self, store: S3BlobStore) -> None:
        self.store = store

    def object_key(self, key: str) -> str:
        return self.store.location.object_key(key)

    def folder(self, key: str) -> str:
        return f"{self.store.location.list_prefix}{PARTIAL_PREFIX}/{check_key(key)}/"

    def tail_key(self, key: str) -> str:
        return self.folder(key) + new_key()

    async def put(self, object_key: str, body: bytes) -> None:
        await self.store._call("PUT", "put_object", Bucket=self.store.bucket, Key=object_key, Body=body)

    async def delete_object(self, object_key: str) -> None:
        await self.store._call("DELETE", "delete_object", Bucket=self.store.bucket, Key=object_key)

    async def read(self, object_key: str) -> bytes:
        answer = await self.store._call("GET", "get_object", missing=object_key, Bucket=self.store.bucket,
                                        Key=object_key)
        body = answer["Body"]
        try:
            data: bytes = await self.store.run(body.read)
        finally:
            await self.store.run(body.close)
        return data

    async def open_partial(self, key: str, state: State, offset: int) -> S3PartialWriter:
        state = state or _empty_state()
        if _held(state) != offset:
            raise StorageUnavailable(f"the upload's stored parts hold {_held(state)} bytes, not {offset}")
        buffer = bytearray()
        if state["tail"]:
            try:
                buffer += await self.read(state["tail"])
            except FileNotFoundError:
                raise StorageUnavailable("the upload's staged bytes are missing from storage") from None
        return S3PartialWriter(self, key, state, buffer)

    async def complete_partial(self, key: str, state: State, size: int) -> None:
        state = state or _empty_state()
        try:
            await self._complete(key, state)
        except StorageError:
            with contextlib.suppress(FileNotFoundError):  # completed before a crash: roll forward
                if (await self.store.stat(key)).size == size:
                    await self._drop_staging(key, keep_upload=True)
                    return
            raise
        await self._drop_staging(key, keep_upload=True)

    async def _complete(self, key: str, state: State) -> None:
        object_key = self.object_key(key)
        try:
            tail = await self.read(state["tail"]) if state["tail"] else b""
        except FileNotFoundError:
            raise StorageUnavailable("the upload's staged bytes are missing from storage") from None
        if state["upload_id"] is None:
            await self.put(object_key, tail)
            return
        parts = {int(n): {"PartNumber": int(n), "ETag": etag, "ChecksumSHA256": checksum}
                 for n, etag, checksum, _size in state["parts"]}
        if tail:
            number = len(parts) + 1
            etag, checksum = await self.store.upload_part(object_key, state["upload_id"], number, [tail])
            parts[number] = {"PartNumber": number, "ETag": etag, "ChecksumSHA256": checksum}
        await self.store.complete_multipart(object_key, state["upload_id"], parts)

    async def _drop_staging(self, key: str, *, keep_upload: bool) -> None:
        store = self.store
        page: Any = await store._call("LIST", "list_objects_v2", Bucket=store.bucket, Prefix=self.folder(key))
        for item in page.get("Contents", []):
            with contextlib.suppress(StorageError):
                await self.delete_object(item["Key"])
        if keep_upload:
            return
        answer: Any = await store._call("ListMultipartUploads", "list_multipart_uploads", Bucket=store.bucket,
                                        Prefix=self.object_key(key))
        for upload in answer.get("Uploads", []):
            if upload["Key"] == self.object_key(key):
                await store.abort_multipart(upload["Key"], upload["UploadId"])

    async def discard_partial(self, key: str, state: State) -> None:
        await self._drop_staging(key, keep_upload=False)
