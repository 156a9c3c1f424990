"""Rewriting the asset URLs of a copied base's cells so that they name the copy (copy_base).

System assets: ``…/workspace/<wid>/asset/<uuid>/<path>`` (and the thumbnail and preview URLs
that contain that part) get the copy's workspace id and uuid, in file and image cells and inside
long-text cells (markdown, or the ``{"text", "preview", …}`` form). Custom-folder files:
``custom-asset://<asset_uuid>.<ext>`` get the uuid of the asset's copy, when the asset belongs
to the source base. Anything else (external URLs, other bases' assets) is kept verbatim.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from atoll.wire.links import CUSTOM_ASSET_SCHEME, canonical_uuid, parse_custom_asset_url

FILE_COLUMN = "file"
IMAGE_COLUMN = "image"
LONG_TEXT_COLUMN = "long-text"
URL_COLUMN_TYPES = (FILE_COLUMN, IMAGE_COLUMN)
#: Columns whose cells may hold this server's asset URLs.
REBASED_COLUMN_TYPES = (FILE_COLUMN, IMAGE_COLUMN, LONG_TEXT_COLUMN)


def _asset_part(workspace_id: int, dtable_uuid: str) -> str:
    return f"/workspace/{workspace_id}/asset/{canonical_uuid(dtable_uuid)}/"


@dataclass(frozen=True)
class Rebase:
    """From the source base to its copy; ``custom`` maps a source asset uuid to its copy's
    (None: not an asset of the source base, kept)."""

    src_workspace_id: int
    src_uuid: str
    dst_workspace_id: int
    dst_uuid: str
    custom: Callable[[str], str | None]

    def url(self, url: str) -> str:
        if url.startswith(CUSTOM_ASSET_SCHEME):
            try:
                asset_uuid, ext = parse_custom_asset_url(url)
            except ValueError:
                return url
            new = self.custom(asset_uuid)
            return url if new is None else f"{CUSTOM_ASSET_SCHEME}{new}.{ext}"
        old = _asset_part(self.src_workspace_id, self.src_uuid)
        return url.replace(old, _asset_part(self.dst_workspace_id, self.dst_uuid))

    def _file(self, item: Any) -> Any:
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            return {**item, "url": self.url(item["url"])}
        return item

    def text(self, value: str) -> str:
        """Long text: every system-asset URL of the source base in it, as the copy's."""
        old = _asset_part(self.src_workspace_id, self.src_uuid)
        return value.replace(old, _asset_part(self.dst_workspace_id, self.dst_uuid))

    def _long_text(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):  # the rich form: text, preview, images, links, …
            return {k: self._long_text(v) if isinstance(v, str | list) else v
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self.text(v) if isinstance(v, str) else v for v in value]
        return value

    def cell(self, column_type: str, value: Any) -> Any:
        """A file, image or long-text cell with its URLs rewritten (other values unchanged)."""
        if column_type == LONG_TEXT_COLUMN:
            return self._long_text(value)
        if not isinstance(value, list):
            return value
        if column_type == IMAGE_COLUMN:
            return [self.url(v) if isinstance(v, str) else v for v in value]
        if column_type == FILE_COLUMN:
            return [self._file(v) for v in value]
        return value


def custom_uuids(column_type: str, value: Any) -> Iterator[str]:
    """The asset uuids of the ``custom-asset://`` URLs in a file or image cell."""
    if column_type not in URL_COLUMN_TYPES or not isinstance(value, list):
        return
    for item in value:
        url = item.get("url") if isinstance(item, dict) else item
        if isinstance(url, str) and url.startswith(CUSTOM_ASSET_SCHEME):
            try:
                yield parse_custom_asset_url(url)[0]
            except ValueError:
                continue
