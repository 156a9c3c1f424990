"""Where a resumable upload goes, from what the client said: tus's ``Upload-Metadata`` or the
fields of a Seafile-style chunk. The same rules as a plain upload (``services.assets.Upload``):
the parent must be the link's, names and folders are checked as there."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from atoll.errors import InvalidInput, PermissionDenied
from atoll.models import Ticket
from atoll.services import attach
from atoll.services.context import Context
from atoll.services.resumable import Target
from atoll.services.rows import app_actor
from atoll.timeutil import year_month
from atoll.wire import paths
from atoll.wire.links import FILES_DIR, IMAGES_DIR, asset_root

FILE_TYPES = {"file": FILES_DIR, "image": IMAGES_DIR}
TRUE, FALSE = ("1", "true", "yes"), ("0", "false", "no", "")


def base_dir(ticket: Ticket) -> str:
    """The link's parent relative to the asset root: ``/`` or ``/custom``."""
    root = asset_root(dtable_uuid=ticket.dtable_uuid)
    assert paths.is_under(ticket.path, root)
    return ticket.path[len(root) :] or "/"


def check_parent(ticket: Ticket, value: str | None) -> None:
    if value is not None and paths.rel_path(value, "parent_dir") != ticket.path:
        raise PermissionDenied("Parent dir doesn't match.")


def _flag(value: str | None, what: str) -> bool:
    text = (value or "").strip().lower()
    if text not in TRUE + FALSE:
        raise InvalidInput(f"Invalid argument {what}.")
    return text in TRUE


def _folder(ticket: Ticket, relative_path: str | None, file_type: str) -> str:
    if relative_path is None:
        default = f"{FILE_TYPES[file_type]}/{year_month()}" if base_dir(ticket) == "/" else ""
        return paths.join(base_dir(ticket), default)
    relative = paths.rel_path(relative_path, "relative path", allow_absolute=False, new=True)
    return paths.join(base_dir(ticket), relative)


async def from_tus_metadata(ctx: Context, ticket: Ticket, meta: Mapping[str, str], raw: str) -> Target:
    """A tus upload's target; the attach target (table, column, row) is checked now."""
    if "filename" not in meta:
        raise InvalidInput("Upload-Metadata must carry filename.")
    name = paths.file_name(meta["filename"])
    file_type = meta.get("file_type", "file") or "file"
    if file_type not in FILE_TYPES:
        raise InvalidInput("Upload-Metadata file_type must be file or image.")
    check_parent(ticket, meta.get("parent_dir"))
    target_attach = None
    if "table" in meta or "column" in meta or "row_id" in meta:
        if not meta.get("table") or not meta.get("column"):
            raise InvalidInput("Upload-Metadata: attaching needs both table and column (row_id is optional).")
        target_attach = await ctx.run_db(
            attach.resolve,
            ctx.engine,
            ticket.dtable_uuid,
            table=meta["table"],
            column=meta["column"],
            row_id=meta.get("row_id") or None,
        )
    return Target(
        dtable_uuid=ticket.dtable_uuid,
        dir_path=_folder(ticket, meta.get("relative_path"), file_type),
        name=name,
        replace=_flag(meta.get("replace"), "replace"),
        file_type=file_type,
        attach=target_attach,
        actor=app_actor(ticket.dtable_uuid, ticket.app),
        metadata=raw,
    )


def from_chunk_fields(
    ticket: Ticket, *, parent_dir: str | None, relative_path: str | None, name: str, replace: str | None
) -> Target:
    """A Seafile-style chunked upload's target (the multipart fields and the header's name)."""
    if not parent_dir:
        raise InvalidInput("No parent_dir given.")
    check_parent(ticket, parent_dir)
    folder = paths.join(
        base_dir(ticket),
        paths.rel_path(relative_path or "/", "relative path", allow_absolute=False, new=True),
    )
    return Target(
        dtable_uuid=ticket.dtable_uuid,
        dir_path=folder,
        name=paths.file_name(name),
        replace=_flag(replace, "replace"),
        actor=app_actor(ticket.dtable_uuid, ticket.app),
    )


def natural_key(target: Target) -> str:
    """A chunked upload's session key: the base, the folder and the name."""
    return hashlib.sha256(f"{target.dtable_uuid}\0{target.dir_path}\0{target.name}".encode()).hexdigest()
