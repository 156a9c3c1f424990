"""The asset trash: deleting an asset moves it here, restore puts it back, ``atoll gc`` purges
entries older than ``trash_retention_s`` that no row references.

A trashed asset is out of ``assets`` at once, so every lookup (download links, asset URLs,
custom folders, tus/attach targets) stops finding it without knowing about the trash. Its bytes
stay until the purge. Purging takes a page of entries per transaction (their bases' documents
locked first, so no row write of those bases runs between "nobody references it" and "gone";
then the entries removed), and the bytes are deleted after the commit if nothing else uses them
(``db.blobs.drop_ref``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

from sqlalchemy import Connection, Engine

from atoll.db import asset_refs as rq
from atoll.db import assets as aq
from atoll.db import blobs as blob_refs
from atoll.db import rows as docq
from atoll.db import trash as q
from atoll.db.engine import read_tx, write_tx
from atoll.db.trash import Trashed
from atoll.errors import AtollError, InvalidInput, NotFound
from atoll.models import Asset, Principal
from atoll.services import access, events
from atoll.services.asset_refs import targets_of
from atoll.services.context import Context
from atoll.timeutil import utcnow
from atoll.wire import paths

log = logging.getLogger("atoll.trash")

#: Trash entries listed per page (``app-asset-trash``, ``atoll trash``).
TRASH_PAGE = 100
#: Trash entries ``atoll gc`` checks and purges per transaction.
PURGE_BATCH = 100


# ---------------------------------------------------------------- moving in


def move_in(conn: Connection, asset: Asset, deleted_by: str) -> int:
    """Move ``asset`` (read in this transaction) from ``assets`` to the trash; the entry's id."""
    aq.delete_asset(conn, asset.id)
    trash_id = q.insert(conn, asset, time.time(), deleted_by)
    events.file_deleted(conn, asset.dtable_uuid, asset.dir_path, asset.name)  # live updates
    return trash_id


# ---------------------------------------------------------------- listing


def _list(engine: Engine, dtable_uuid: str, after_id: int, limit: int) -> list[Trashed]:
    with read_tx(engine) as conn:
        return q.list_base(conn, dtable_uuid, after_id, limit)


async def list_trash(ctx: Context, principal: Principal, *, after: object = None) -> list[Trashed]:
    """A page of the base's trash in deletion order, entries past id ``after``."""
    after_id = _int_param(after, "after", default=0)
    return await ctx.run_db(_list, ctx.engine, principal.dtable.uuid, after_id, TRASH_PAGE)


def _int_param(value: object, name: str, *, default: int | None = None) -> int:
    if value is None or value == "":
        if default is None:
            raise InvalidInput(f"{name} missing: give a trash entry's id (see the trash listing)")
        return default
    text = str(value)
    if not text.isdigit() or len(text) > 18:
        raise InvalidInput(f"{name} invalid: expected a whole number, got {text[:40]!r}")
    return int(text)


# ---------------------------------------------------------------- restoring


@dataclass(frozen=True)
class Restored:
    asset: Asset
    #: True when the original path was taken again and the file came back under another name.
    renamed: bool


def _restore(engine: Engine, dtable_uuid: str, trash_id: int | None, path: str | None) -> Restored | None:
    with write_tx(engine) as conn:
        entry = _entry(conn, dtable_uuid, trash_id, path)
        if entry is None:
            return None
        asset = entry.asset
        now = utcnow().isoformat()
        aq.ensure_dirs(conn, dtable_uuid, asset.dir_path, now)
        aq.lock_dir(conn, dtable_uuid, asset.dir_path)  # naming: one writer at a time
        name = asset.name
        if aq.get_asset(conn, dtable_uuid, asset.dir_path, name) is not None:
            name = _free_name(conn, dtable_uuid, asset.dir_path, name)
        q.remove(conn, entry.id)
        back = replace(asset, name=name)
        back = replace(back, id=aq.insert_asset(conn, back))
        events.file_uploaded(conn, dtable_uuid, back.dir_path, back.name, back.size)  # live updates
        return Restored(back, renamed=name != asset.name)


def _entry(conn: Connection, dtable_uuid: str, trash_id: int | None, path: str | None) -> Trashed | None:
    if trash_id is not None:
        found = q.get(conn, trash_id, lock=True)
        return found if found is not None and found.asset.dtable_uuid == dtable_uuid else None
    assert path is not None
    dir_path, name = paths.split(path)
    entries = q.at_path(conn, dtable_uuid, dir_path, name)
    return q.get(conn, entries[0].id, lock=True) if entries else None


def _free_name(conn: Connection, dtable_uuid: str, dir_path: str, name: str) -> str:
    stem = name.rpartition(".")[0] if "." in name else name
    taken = aq.names_in_dir(conn, dtable_uuid, dir_path, stem)
    for n in range(1, paths.MAX_DUPLICATE_NAMES + 1):
        candidate = paths.duplicate_name(name, n)
        if candidate not in taken and len(candidate.encode("utf-8")) <= paths.MAX_NAME_BYTES:
            return candidate
    raise InvalidInput("Too many files with same name: delete or rename some first.")


async def restore(
    ctx: Context, principal: Principal, *, trash_id: object = None, path: object = None
) -> Restored:
    """Put a trashed asset back (by trash id, or the newest entry once at ``path``), under a
    conflict name (``a (1).pdf``) if its path was taken meanwhile. The same bytes, the same
    asset uuid (so ``custom-asset://`` cells resolve again)."""
    access.require_write(principal)
    wanted_id: int | None = None
    wanted_path: str | None = None
    if trash_id not in (None, ""):
        wanted_id = _int_param(trash_id, "id")
    elif isinstance(path, str) and path.strip("/"):
        wanted_path = paths.rel_path(path, "path")
    else:
        raise InvalidInput("id or path missing: name the trash entry (its id) or the deleted file's path")
    done = await ctx.run_db(_restore, ctx.engine, principal.dtable.uuid, wanted_id, wanted_path)
    if done is None:
        what = f"id {wanted_id}" if wanted_id is not None else f"file {str(wanted_path).lstrip('/')}"
        raise NotFound(f"trash entry {what} does not exist in this base's trash")
    return done


# ---------------------------------------------------------------- purging (atoll gc)


@dataclass
class PurgeReport:
    purged: list[Trashed]
    #: Entries past the retention kept because a row still references them.
    referenced: list[Trashed]


def _due(engine: Engine, cutoff: float, after_id: int) -> list[Trashed]:
    with read_tx(engine) as conn:
        return q.older_than(conn, cutoff, after_id, PURGE_BATCH)


def _referenced(conn: Connection, entry: Trashed) -> bool:
    return rq.is_referenced(conn, entry.asset.dtable_uuid, targets_of(entry.asset))


def _check(engine: Engine, entries: list[Trashed]) -> list[bool]:
    """Whether a row references each entry (one read transaction for the page)."""
    with read_tx(engine) as conn:
        return [_referenced(conn, entry) for entry in entries]


def _purge_page(engine: Engine, entries: list[Trashed]) -> tuple[list[Trashed], list[Trashed], set[str]]:
    """(purged, kept because referenced, blob keys now unused) for one page, in one transaction.
    The documents of the page's bases are locked first (in uuid order; every row writer locks
    only its own base's): their row writes wait, so no reference can appear between the check
    and the removal."""
    purged: list[Trashed] = []
    kept: list[Trashed] = []
    with write_tx(engine) as conn:
        for dtable_uuid in sorted({e.asset.dtable_uuid for e in entries}):
            docq.lock_doc(conn, dtable_uuid)
        for entry in entries:
            if _referenced(conn, entry):
                kept.append(entry)
            elif q.remove(conn, entry.id):  # not restored or purged meanwhile
                purged.append(entry)
        # each purged entry held one reference; the last one out frees the bytes
        unused = {e.asset.blob_key for e in purged if blob_refs.drop_ref(conn, e.asset.blob_key)}
    return purged, kept, unused


async def purge(
    ctx: Context, *, retention_s: float, dry_run: bool = False, now: float | None = None
) -> PurgeReport:
    """Purge trash entries deleted more than ``retention_s`` ago that no row references, a page
    (``PURGE_BATCH``) per transaction; their bytes go after each commit when nothing else uses
    them. ``dry_run``: only say which."""
    cutoff = (now if now is not None else time.time()) - retention_s
    report = PurgeReport([], [])
    after = 0
    while True:
        page = await ctx.run_db(_due, ctx.engine, cutoff, after)
        if dry_run:
            for entry, referenced in zip(page, await ctx.run_db(_check, ctx.engine, page), strict=True):
                (report.referenced if referenced else report.purged).append(entry)
        elif page:
            purged, kept, unused = await ctx.run_db(_purge_page, ctx.engine, page)
            report.purged += purged
            report.referenced += kept
            for key in sorted(unused):
                await _delete_bytes(ctx, key)
        if len(page) < PURGE_BATCH:
            return report
        after = page[-1].id


async def _delete_bytes(ctx: Context, key: str) -> None:
    try:
        await ctx.blobs.delete(key)
    except (OSError, AtollError) as exc:  # an orphan now: the next gc reaps it
        log.warning("could not delete the bytes %s of a purged trash entry (gc will): %s", key, exc)
