"""The per-base asset quota (``base_quota_bytes``; 0 = unlimited).

Usage is logical: the sum of the sizes of the base's assets (``db/quota.py``). Every upload path
asks twice:

- ``admit(ctx, dtable_uuid, adding_bytes)`` before any byte is stored, when the size is known up
  front (a multipart request's Content-Length, a chunked upload's total, tus's Upload-Length, an
  import's file sizes): 443 "Out of quota." (Seafile's file server status);
- ``check_room(conn, dtable_uuid, adding_bytes, quota_bytes=...)`` inside the commit transaction,
  after the new assets are written (``adding_bytes`` 0 then): it takes a per-base lock first, so
  two concurrent commits cannot both pass over the quota; the commit then rolls back and the
  caller deletes the blob.

The per-upload limit is ``max_upload_bytes`` (413, checked where the bytes arrive).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from atoll.db import quota as q
from atoll.db import uploads
from atoll.db.engine import read_tx
from atoll.errors import AtollError, QuotaExceeded
from atoll.services.context import Context
from atoll.services.upload_lease import Lease

log = logging.getLogger("atoll.quota")

#: Seafile's answer when an upload would exceed the quota (the file server's 443).
OUT_OF_QUOTA = "Out of quota."
#: ``quota_used_bytes`` when there is no quota (``base_quota_bytes`` 0): usage is not counted.
NOT_COUNTED = -1


#: A multipart body's Content-Length counts against the quota less this allowance for the
#: form's own bytes (boundaries, part headers); the commit then checks the exact sizes.
FORM_OVERHEAD_BYTES = 64 * 1024

__all__ = [
    "FORM_OVERHEAD_BYTES", "NOT_COUNTED", "OUT_OF_QUOTA", "Limits", "QuotaExceeded", "admit",
    "check_room", "limits",
]


@dataclass(frozen=True)
class Limits:
    """What a client may upload, reported in the upload-link responses."""

    max_upload_bytes: int
    quota_bytes: int  # 0: unlimited
    quota_used_bytes: int


def _message(quota_bytes: int, used: int, adding: int) -> str:
    return (
        f"{OUT_OF_QUOTA} The base's asset quota is {quota_bytes} bytes, {used} are used, "
        f"this upload needs {adding} more."
    )


def check_room(conn: Connection, dtable_uuid: str, adding_bytes: int, *, quota_bytes: int) -> None:
    """Raise ``QuotaExceeded`` unless the base's usage plus ``adding_bytes`` fits the quota.
    Inside a write transaction: serialised per base (race-free across processes)."""
    if quota_bytes <= 0:
        return
    q.lock_usage(conn, dtable_uuid)
    used = q.used_bytes(conn, dtable_uuid)
    if used + adding_bytes > quota_bytes:
        raise QuotaExceeded(_message(quota_bytes, used, adding_bytes))


def _used(engine: Engine, dtable_uuid: str) -> int:
    with read_tx(engine) as conn:
        return q.used_bytes(conn, dtable_uuid)


async def used_bytes(ctx: Context, dtable_uuid: str) -> int:
    return await ctx.run_db(_used, ctx.engine, dtable_uuid)


async def admit(ctx: Context, dtable_uuid: str, adding_bytes: int | None) -> None:
    """Refuse (443) before any byte is stored when a known size would cross the quota."""
    quota_bytes = ctx.settings.base_quota_bytes
    if quota_bytes <= 0 or adding_bytes is None:
        return
    used = await used_bytes(ctx, dtable_uuid)
    if used + adding_bytes > quota_bytes:
        raise QuotaExceeded(_message(quota_bytes, used, adding_bytes))


async def admit_form(ctx: Context, dtable_uuid: str, content_length: int | None) -> None:
    """``admit`` for a multipart request: its Content-Length less the form's allowance."""
    if content_length is not None:
        await admit(ctx, dtable_uuid, max(0, content_length - FORM_OVERHEAD_BYTES))


async def limits(ctx: Context, dtable_uuid: str) -> Limits:
    """What the upload-link answers report. Without a quota the usage is not counted
    (``NOT_COUNTED``): summing a base's file sizes reads every file's record, and an upload
    link is asked for before every upload (it cost the link + POST loop of 4 KiB files two
    thirds of its rate on a base of some 10,000 files)."""
    quota_bytes = ctx.settings.base_quota_bytes
    used = await used_bytes(ctx, dtable_uuid) if quota_bytes > 0 else NOT_COUNTED
    return Limits(
        max_upload_bytes=ctx.settings.max_upload_bytes,
        quota_bytes=quota_bytes,
        quota_used_bytes=used,
    )


async def drop_completed(ctx: Context, blob_key: str, lease: Lease) -> None:
    """A resumable upload whose commit went over the quota: it ends (terminated, like a tus
    DELETE) and its completed blob is deleted. Never raises a storage error of its own."""
    try:
        await lease.record(
            state=uploads.TERMINATED, expires_at=time.time() + ctx.settings.upload_session_ttl_s
        )
        await ctx.blobs.delete(blob_key)
    except (OSError, AtollError) as exc:
        log.warning("could not drop blob %s of an upload over quota (gc will): %s", blob_key, exc)
