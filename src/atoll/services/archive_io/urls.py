"""Asset URLs in an imported base's cells, moved to the new server and base.

System assets (``<server>/workspace/<w>/asset/<uuid>/...`` and the thumbnail form) get the new
server URL, workspace id and base uuid; ``custom-asset://<uuid>.<ext>`` URLs get the uuid of the
asset's copy when it is one of the archive's assets (``wire.copy_urls.Rebase``). Long-text cells
have the same system URLs replaced in their text and image lists. Other URLs are kept verbatim.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from atoll.wire.copy_urls import FILE_COLUMN, IMAGE_COLUMN, Rebase
from atoll.wire.links import CUSTOM_ASSET_SCHEME, canonical_uuid

LONG_TEXT_COLUMN = "long-text"
REWRITTEN_TYPES = (FILE_COLUMN, IMAGE_COLUMN, LONG_TEXT_COLUMN)


def _part(workspace_id: int, dtable_uuid: str) -> str:
    return f"/workspace/{workspace_id}/asset/{canonical_uuid(dtable_uuid)}/"


class UrlRewriter:
    def __init__(
        self,
        old_server: str,
        old_workspace_id: int,
        old_uuid: str,
        new_server: str,
        new_workspace_id: int,
        new_uuid: str,
        custom: Callable[[str], str | None],
    ) -> None:
        old, new = _part(old_workspace_id, old_uuid), _part(new_workspace_id, new_uuid)
        old_server, new_server = old_server.rstrip("/"), new_server.rstrip("/")
        on_old_server = [
            (f"{old_server}{old}", f"{new_server}{new}"),
            (f"{old_server}/thumbnail{old}", f"{new_server}/thumbnail{new}"),
        ]
        # Without the source's URL (an archive that lacks it) only the base part moves.
        self._pairs = [*(on_old_server if old_server else []), (old, new)]
        self._rebase = Rebase(old_workspace_id, old_uuid, new_workspace_id, new_uuid, custom)

    def text(self, value: str) -> str:
        for old, new in self._pairs:
            value = value.replace(old, new)
        return value

    def url(self, url: str) -> str:
        return self._rebase.url(url) if url.startswith(CUSTOM_ASSET_SCHEME) else self.text(url)

    def _deep(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.url(value)
        if isinstance(value, list):
            return [self._deep(v) for v in value]
        if isinstance(value, dict):
            return {k: self._deep(v) for k, v in value.items()}
        return value

    def cell(self, column_type: str, value: Any) -> Any:
        if column_type == IMAGE_COLUMN and isinstance(value, list):
            return [self.url(v) if isinstance(v, str) else v for v in value]
        if column_type == FILE_COLUMN and isinstance(value, list):
            return [
                {**v, "url": self.url(v["url"])}
                if isinstance(v, dict) and isinstance(v.get("url"), str)
                else v
                for v in value
            ]
        if column_type == LONG_TEXT_COLUMN:
            return self._deep(value)
        return value
