"""Which blobs the metadata references (tables ``assets`` and ``asset_trash``: a trashed file's
bytes must move with the rest, it may be restored), page by page, for moving and checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Subquery, func, literal, select, union_all

from atoll.db import schema


@dataclass(frozen=True)
class BlobRef:
    """One file that points at a blob: enough to name it to a human."""

    blob_key: str
    size: int
    sha256: str
    base: str
    path: str


def _files() -> Subquery:
    """Every file that points at a blob: the assets, then the trashed ones (``trashed`` 1)."""
    a, t = schema.assets, schema.asset_trash
    cols = ("blob_key", "size", "sha256", "dtable_uuid", "dir_path", "name", "id")
    return union_all(
        select(*(a.c[c] for c in cols), literal(0).label("trashed")),
        select(*(t.c[c] for c in cols), literal(1).label("trashed")),
    ).subquery("files")


def totals(conn: Connection) -> tuple[int, int]:
    """(distinct blobs referenced, their bytes)."""
    a = _files()
    keys = select(a.c.blob_key, func.max(a.c.size).label("size")).group_by(a.c.blob_key).subquery()
    count, size = conn.execute(select(func.count(), func.coalesce(func.sum(keys.c.size), 0))).one()
    return int(count), int(size)


def refs_after(conn: Connection, after: str, limit: int) -> dict[str, list[BlobRef]]:
    """The next ``limit`` referenced blob keys greater than ``after`` (keyset paging: each page
    is one short transaction), each with every file that points at it (trashed ones last)."""
    a, d = _files(), schema.dtables
    keys = (
        select(a.c.blob_key).where(a.c.blob_key > after).group_by(a.c.blob_key)
        .order_by(a.c.blob_key).limit(limit)
    )
    page = list(conn.execute(keys).scalars())
    if not page:
        return {}
    found = conn.execute(
        select(a.c.blob_key, a.c.size, a.c.sha256, d.c.name, a.c.dir_path, a.c.name.label("file"))
        .join(d, d.c.uuid == a.c.dtable_uuid)
        .where(a.c.blob_key.in_(page))
        .order_by(a.c.trashed, a.c.id)
    )
    refs: dict[str, list[BlobRef]] = {key: [] for key in page}
    for key, size, sha256, base, dir_path, file in found:
        path = dir_path.rstrip("/") + "/" + file
        refs[key].append(BlobRef(key, int(size), sha256, base, path))
    return refs


def referenced(conn: Connection, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` some file points at."""
    a = _files()
    return set(conn.execute(select(a.c.blob_key).where(a.c.blob_key.in_(keys)).distinct()).scalars())
