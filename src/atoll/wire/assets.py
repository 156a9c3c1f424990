"""SeaTable's JSON bodies for system assets, custom folders and the file server (the URLs and
paths in them come from ``atoll.wire.links``)."""

from __future__ import annotations

from atoll.models import Asset
from atoll.wire.links import CUSTOM_DIR, FILES_DIR, IMAGES_DIR, asset_root, tus_url, upload_url
from atoll.wire.shapes import (
    CustomDir,
    CustomFile,
    CustomUploadLink,
    DownloadLink,
    Success,
    UploadedFile,
    UploadLimits,
    UploadLink,
)


def upload_link_json(
    public_url: str,
    ticket: str,
    dtable_uuid: str,
    workspace_id: int,
    year_month: str,
    limits: UploadLimits | None = None,
) -> UploadLink:
    """SeaTable's keys, then atoll's ``limits`` (``max_upload_bytes``, ``quota_bytes``,
    ``quota_used_bytes``): the official client ignores extra keys."""
    body: UploadLink = {
        "upload_link": upload_url(public_url, ticket=ticket),
        "tus_link": tus_url(public_url, ticket=ticket),
        "parent_path": asset_root(dtable_uuid=dtable_uuid),
        "img_relative_path": f"{IMAGES_DIR}/{year_month}",
        "file_relative_path": f"{FILES_DIR}/{year_month}",
        "workspace_id": workspace_id,
    }
    if limits is not None:
        body["max_upload_bytes"] = limits["max_upload_bytes"]
        body["quota_bytes"] = limits["quota_bytes"]
        body["quota_used_bytes"] = limits["quota_used_bytes"]
    return body


def custom_upload_link_json(
    public_url: str,
    ticket: str,
    dtable_uuid: str,
    relative_path: str,
    workspace_id: int,
    limits: UploadLimits | None = None,
) -> CustomUploadLink:
    body: CustomUploadLink = {
        "upload_link": upload_url(public_url, ticket=ticket),
        "tus_link": tus_url(public_url, ticket=ticket),
        "parent_path": asset_root(dtable_uuid=dtable_uuid) + CUSTOM_DIR,
        "relative_path": relative_path,
        "workspace_id": workspace_id,
    }
    if limits is not None:
        body["max_upload_bytes"] = limits["max_upload_bytes"]
        body["quota_bytes"] = limits["quota_bytes"]
        body["quota_used_bytes"] = limits["quota_used_bytes"]
    return body


def limits_json(max_upload_bytes: int, quota_bytes: int, quota_used_bytes: int) -> UploadLimits:
    return {
        "max_upload_bytes": max_upload_bytes,
        "quota_bytes": quota_bytes,
        "quota_used_bytes": quota_used_bytes,
    }


def download_link_json(link: str) -> DownloadLink:
    return {"download_link": link}


def file_id(asset: Asset) -> str:
    """Seafile answers a 40-hex file id; ours is the first 40 hex digits of the SHA-256."""
    return asset.sha256[:40]


def uploaded_json(assets: list[Asset]) -> list[UploadedFile]:
    """``?ret-json=1``: one object per uploaded file."""
    return [{"name": a.name, "id": file_id(a), "size": a.size} for a in assets]


def uploaded_json_from_result(result: dict[str, object]) -> list[UploadedFile]:
    """The last chunk of a resumable upload answers like a whole upload."""
    return [{"name": str(result["name"]), "id": str(result["id"]), "size": int(str(result["size"]))}]


def uploaded_text(assets: list[Asset]) -> str:
    """Without ``ret-json``: the file ids, tab-separated."""
    return "\t".join(file_id(a) for a in assets)


def custom_dir_json(dirs: list[str], files: list[Asset]) -> CustomDir:
    """SeaTable's ``{"dir": [{"name"}], "file": [{"name"}]}``; atoll adds each file's ``size``
    and ``sha256`` (the official client ignores them; ``atoll sync`` compares by them)."""
    return {
        "dir": [{"name": d} for d in dirs],
        "file": [{"name": f.name, "size": f.size, "sha256": f.sha256} for f in files],
    }


def custom_file_json(asset: Asset) -> CustomFile:
    return {
        "dirent": {
            "is_file": True,
            "obj_name": asset.name,
            "file_size": asset.size,
            "last_update": asset.mtime.isoformat(timespec="seconds"),
            "uuid": asset.uuid,
        }
    }


def success_json() -> Success:
    return {"success": True}
