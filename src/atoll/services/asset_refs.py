"""Asset references: which rows' file and image cells point at which asset, kept in step by every
row write, and the "who uses this asset" use case.

A cell's URL is read with the protocol's own parsers (``wire/links.py``): an asset URL
(``…/asset/<uuid>/<path>``, thumbnails and previews too) names the asset's *path*; a
``custom-asset://<asset uuid>.<ext>`` URL names the asset's *uuid* (which stays with the file
through trash and restore). URLs of other bases and external URLs are no references.

Writers call ``rows_added`` / ``rows_changed`` / ``column_changed`` / ``column_deleted`` in their
transaction; deleting rows or a table removes their references in ``db/rows.py`` itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from atoll.db import asset_refs as q
from atoll.db import rows as rq
from atoll.db import trash as tq
from atoll.db.assets import get_asset
from atoll.db.engine import read_tx, write_tx
from atoll.errors import InvalidInput, NotFound
from atoll.models import Asset, Principal
from atoll.services.context import Context
from atoll.wire import paths
from atoll.wire.columns import FILE_CELL_TYPES
from atoll.wire.links import (
    CUSTOM_ASSET_SCHEME,
    asset_path_from_url,
    is_custom_asset_url,
    parse_custom_asset_url,
)

# ---------------------------------------------------------------- cells -> targets


def uuid_target(asset_uuid: str) -> str:
    """The reference target of a ``custom-asset://`` URL."""
    return CUSTOM_ASSET_SCHEME + asset_uuid.lower()


def path_target(path: str) -> str:
    """The reference target of an asset URL: the asset's path as ``Asset.path`` spells it."""
    return "/" + path.strip("/")


def targets_of(asset: Asset) -> list[str]:
    """Every target a cell pointing at ``asset`` can have."""
    return [path_target(asset.path), uuid_target(asset.uuid)]


def url_target(dtable_uuid: str, url: str) -> str | None:
    """The target a cell URL names, or None for anything that is no asset of this base."""
    if is_custom_asset_url(url):
        try:
            return uuid_target(parse_custom_asset_url(url)[0])
        except ValueError:
            return None
    try:
        path = asset_path_from_url(url, dtable_uuid=dtable_uuid)
    except ValueError:
        return None
    return path_target(path) if path.strip("/") else None


def cell_targets(dtable_uuid: str, column_type: str, value: Any) -> set[str]:
    """The targets of one cell of a file or image column (others have none)."""
    if column_type not in FILE_CELL_TYPES or not isinstance(value, list):
        return set()
    found: set[str] = set()
    for item in value:
        url = item.get("url") if isinstance(item, dict) else item
        if isinstance(url, str):
            target = url_target(dtable_uuid, url)
            if target is not None:
                found.add(target)
    return found


def _file_columns(columns: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(c["key"], c["type"]) for c in columns if c.get("type") in FILE_CELL_TYPES]


def refs_of_rows(
    dtable_uuid: str, table: dict[str, Any], rows: Iterable[rq.StoredRow], *, only: str | None = None
) -> Iterator[q.AssetRef]:
    """The references of ``rows`` (of one column if ``only`` is its key)."""
    columns = [(k, t) for k, t in _file_columns(table.get("columns") or []) if only is None or k == only]
    if not columns:
        return
    for row in rows:
        for key, ctype in columns:
            for target in sorted(cell_targets(dtable_uuid, ctype, row.data.get(key))):
                yield q.AssetRef(table["_id"], row.row_id, key, target)


# ---------------------------------------------------------------- keeping them in step


def rows_added(
    conn: Connection, dtable_uuid: str, table: dict[str, Any], rows: Sequence[rq.StoredRow]
) -> None:
    """New rows (append, insert, copies): their references."""
    q.insert(conn, dtable_uuid, refs_of_rows(dtable_uuid, table, rows))


def rows_changed(
    conn: Connection, dtable_uuid: str, table: dict[str, Any], rows: Sequence[rq.StoredRow]
) -> None:
    """Rows whose whole data was just rewritten: their references anew."""
    if not rows or not _file_columns(table.get("columns") or []):
        return
    q.delete_rows(conn, dtable_uuid, table["_id"], [r.row_id for r in rows])
    rows_added(conn, dtable_uuid, table, rows)


def column_changed(conn: Connection, dtable_uuid: str, table: dict[str, Any], column: dict[str, Any]) -> None:
    """Recompute one column's references (after it was retyped), reading the table in batches."""
    q.delete_table(conn, dtable_uuid, table["_id"], column_key=column["key"])
    if column.get("type") not in FILE_CELL_TYPES:
        return
    where = rq.data_contains(rq.dumps(column["key"]))
    batch: list[rq.StoredRow] = []
    for row in rq.iter_rows(conn, dtable_uuid, table["_id"], where=where):
        batch.append(row)
        if len(batch) >= rq.BATCH_ROWS:
            q.insert(conn, dtable_uuid, refs_of_rows(dtable_uuid, table, batch, only=column["key"]))
            batch = []
    q.insert(conn, dtable_uuid, refs_of_rows(dtable_uuid, table, batch, only=column["key"]))


def column_deleted(conn: Connection, dtable_uuid: str, table_id: str, column_key: str) -> None:
    q.delete_table(conn, dtable_uuid, table_id, column_key=column_key)


def backfill(engine: Engine) -> int:
    """Compute the references of every table of every base (after ``atoll db upgrade`` to the
    schema that added them). Returns how many tables were done; a base is one transaction."""
    done = 0
    with engine.connect() as conn:
        bases = rq.list_doc_ids(conn)
    for dtable_uuid in bases:
        with write_tx(engine) as conn:
            doc = rq.lock_doc(conn, dtable_uuid).doc
            for table in doc.get("tables") or []:
                q.delete_table(conn, dtable_uuid, table["_id"])
                batch: list[rq.StoredRow] = []
                for row in rq.iter_rows(conn, dtable_uuid, table["_id"]):
                    batch.append(row)
                    if len(batch) >= rq.BATCH_ROWS:
                        rows_added(conn, dtable_uuid, table, batch)
                        batch = []
                rows_added(conn, dtable_uuid, table, batch)
                done += 1
    return done


# ---------------------------------------------------------------- who uses this asset


@dataclass(frozen=True)
class RowUse:
    """One cell that uses an asset, named for a human."""

    table_id: str
    table_name: str
    row_id: str
    column_key: str
    column_name: str


@dataclass(frozen=True)
class AssetUses:
    path: str  # relative to the asset root, as the user gave it (canonical)
    trashed: bool  # the asset is in the trash (its references still count)
    uses: list[RowUse]
    total: int


def _asset_or_trashed(conn: Connection, dtable_uuid: str, path: str) -> tuple[Asset, bool] | None:
    dir_path, name = paths.split(path)
    asset = get_asset(conn, dtable_uuid, dir_path, name)
    if asset is not None:
        return asset, False
    trashed = tq.at_path(conn, dtable_uuid, dir_path, name)
    return (trashed[0].asset, True) if trashed else None


def _uses(engine: Engine, dtable_uuid: str, path: str, limit: int) -> AssetUses | None:
    with read_tx(engine) as conn:
        found = _asset_or_trashed(conn, dtable_uuid, path)
        if found is None:
            return None
        asset, trashed = found
        refs = q.refs_to(conn, dtable_uuid, targets_of(asset), limit)
        total = q.count_refs(conn, dtable_uuid, targets_of(asset))
        doc = rq.load_doc(conn, dtable_uuid).doc
    tables = {t["_id"]: t for t in doc.get("tables") or []}
    seen: dict[tuple[str, str, str], RowUse] = {}
    for ref in refs:
        table = tables.get(ref.table_id, {})
        columns = table.get("columns") or []
        column: dict[str, Any] = next((c for c in columns if c.get("key") == ref.column_key), {})
        key = (ref.table_id, ref.row_id, ref.column_key)
        seen.setdefault(key, RowUse(ref.table_id, table.get("name", ""), ref.row_id, ref.column_key,
                                    column.get("name", "")))  # fmt: skip
    uses = list(seen.values())
    return AssetUses(path=path.lstrip("/"), trashed=trashed, uses=uses, total=max(total, len(uses)))


async def asset_uses(ctx: Context, principal: Principal, raw_path: str) -> AssetUses:
    """Which rows' file and image cells use the asset at ``raw_path`` (relative to the asset
    root, like ``app-asset``'s ``path``: ``files/2025-08/a.pdf``, ``custom/Main/a.png``)."""
    if not raw_path.strip("/"):
        raise InvalidInput("path missing: give the file's path, e.g. files/2025-08/report.pdf")
    path = paths.rel_path(raw_path, "path")
    found = await ctx.run_db(
        _uses, ctx.engine, principal.dtable.uuid, path, ctx.settings.max_asset_refs_listed
    )
    if found is None:
        raise NotFound(f"file {path.lstrip('/')} does not exist (nor in the trash)")
    return found
