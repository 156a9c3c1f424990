"""atoll's JSON for asset references and the asset trash (no SeaTable counterpart)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from atoll.models import Asset
from atoll.wire.shapes import AssetRef, AssetRefs, AssetTrash, Restored, TrashEntry


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def asset_ref_json(
    table_id: str, table_name: str, row_id: str, column_key: str, column_name: str
) -> AssetRef:
    return {"table_id": table_id, "table_name": table_name, "row_id": row_id,
            "column_key": column_key, "column_name": column_name}  # fmt: skip


def asset_refs_json(path: str, trashed: bool, total: int, refs: Sequence[AssetRef]) -> AssetRefs:
    return {"path": path, "trashed": trashed, "total": total, "refs": list(refs)}


def trash_entry_json(
    trash_id: int, asset: Asset, deleted_at: float, deleted_by: str, retention_s: float
) -> TrashEntry:
    return {
        "id": trash_id,
        "path": asset.path.lstrip("/"),
        "name": asset.name,
        "size": asset.size,
        "sha256": asset.sha256,
        "uuid": asset.uuid,
        "deleted_at": _iso(deleted_at),
        "deleted_by": deleted_by,
        "purge_after": _iso(deleted_at + retention_s),
    }


def asset_trash_json(entries: Sequence[TrashEntry], next_after: int | None) -> AssetTrash:
    return {"trash": list(entries), "next_after": next_after}


def restored_json(asset: Asset, renamed: bool) -> Restored:
    return {"success": True, "path": asset.path.lstrip("/"), "name": asset.name, "renamed": renamed}
