"""Zip download: every file of a table, a view or a column (optionally of some rows) as one
streamed archive with a manifest, in constant memory and without temp files.

``prepare`` checks the request and reads the first page of rows (so a bad table, view, column
or row id is a 400/404 before the response starts); ``ZipDownload.stream()`` then reads the rows
page by page through ``services.rows.list_rows`` (a view's filters, sorts and hidden columns
apply), resolves each file or image cell to an asset of *this* base (a ``/workspace/<w>/asset/
<uuid>/...`` URL of the base, or a ``custom-asset://`` one) and streams its blob into the
archive (``services.zipstream``). A cell pointing anywhere else (another base, another site, a
missing file) is never fetched: the manifest lists it as skipped, with the reason. The manifest
(``manifest.json``: per file its row id, column, name, path in the archive, size and SHA-256)
is the archive's last entry.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from sqlalchemy import Engine, select

from atoll.db import assets as asset_q
from atoll.db import schema
from atoll.db.engine import read_tx
from atoll.errors import InvalidInput
from atoll.models import Asset, Principal
from atoll.services import rows as row_service
from atoll.services import zip_names
from atoll.services.context import Context
from atoll.services.structure import TableRef
from atoll.services.zipstream import ZipEntry, ZipWriter, chunks_of
from atoll.wire import paths
from atoll.wire.columns import FILE_CELL_TYPES, ColumnType
from atoll.wire.links import canonical_uuid, is_custom_asset_url, parse_custom_asset_url

#: Rows read per page while zipping (the SeaTable page size).
ZIP_PAGE_ROWS = 1000


@dataclass(frozen=True)
class ZipRequest:
    table: TableRef
    view_name: str | None = None
    column: str | None = None
    row_ids: frozenset[str] | None = None
    template: str = zip_names.DEFAULT_TEMPLATE
    deflate: bool = False


def parse_row_ids(raw: str | None, limit: int) -> frozenset[str] | None:
    """``id1,id2,...`` (None or empty: every row); at most ``limit`` (``max_zip_row_ids``)."""
    if raw is None or not raw.strip():
        return None
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if len(ids) > limit:
        raise InvalidInput(f"row_ids invalid: at most {limit} row ids per request.")
    for row_id in ids:
        if not row_service.could_be_row_id(row_id):
            raise InvalidInput(f"row_ids invalid: {row_id!r} is not a row id.")
    return frozenset(ids)


def parse_compression(raw: str | None) -> bool:
    """``stored`` (default: no compression, fastest) or ``deflate``; True for deflate."""
    value = (raw or "stored").strip().lower()
    if value not in ("stored", "deflate"):
        raise InvalidInput("compression invalid: expected stored or deflate.")
    return value == "deflate"


@dataclass(frozen=True)
class FileRef:
    """One file named by a cell: where it is in the table, and how the cell points at it."""

    row_id: str
    row_name: str
    column: str
    name: str
    url: str


@dataclass
class ManifestLine:
    row_id: str
    column: str
    name: str
    path: str | None
    size: int | None
    sha256: str | None
    skipped: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "row_id": self.row_id, "column": self.column, "name": self.name,
            "path": self.path, "size": self.size, "sha256": self.sha256,
        }  # fmt: skip
        if self.skipped is not None:
            out["skipped"] = self.skipped
        return out


@dataclass
class ZipDownload:
    ctx: Context
    principal: Principal
    request: ZipRequest
    #: The file columns zipped (the named one, or every visible file and image column).
    columns: list[dict[str, Any]]
    first_column_key: str | None
    first_page: list[Any]
    filename: str
    manifest: list[ManifestLine] = field(default_factory=list)

    def stream(self) -> AsyncIterator[bytes]:
        writer = ZipWriter(deflate=self.request.deflate)
        return writer.stream(self._entries())

    async def _entries(self) -> AsyncIterator[ZipEntry]:
        taken = zip_names.UniqueNames()
        async for refs in self._pages():
            found = await self.ctx.run_db(_resolve, self.ctx.engine, self.principal.dtable.uuid, refs)
            for ref, asset in zip(refs, found, strict=True):
                if isinstance(asset, str):
                    self.manifest.append(
                        ManifestLine(ref.row_id, ref.column, ref.name, None, None, None, asset)
                    )
                    continue
                parts = zip_names.render(self.request.template, row=ref.row_id, row_name=ref.row_name,
                                         column=ref.column, name=ref.name or asset.name)  # fmt: skip
                path = taken.take(parts)
                name = ref.name or asset.name
                line = ManifestLine(ref.row_id, ref.column, name, path, asset.size, asset.sha256)
                self.manifest.append(line)
                chunks = self.ctx.blobs.open(asset.blob_key, 0, asset.size)  # no read past the end
                yield ZipEntry(path, chunks, size=asset.size, mtime=asset.mtime)
        body = json.dumps({"files": [m.as_json() for m in self.manifest]}, ensure_ascii=False, indent=1)
        data = body.encode("utf-8")
        yield ZipEntry(zip_names.MANIFEST_NAME, chunks_of([data]), size=len(data))

    async def _pages(self) -> AsyncIterator[list[FileRef]]:
        page, start = self.first_page, 0
        while True:
            yield list(self._refs(page))
            if len(page) < ZIP_PAGE_ROWS:
                return
            start += ZIP_PAGE_ROWS
            page = (await _page(self.ctx, self.principal, self.request, start)).rows

    def _refs(self, page: list[Any]) -> Iterator[FileRef]:
        wanted = self.request.row_ids
        for row in page:
            if wanted is not None and row.row_id not in wanted:
                continue
            first = row.data.get(self.first_column_key) if self.first_column_key else None
            row_name = "" if first is None else str(first)
            for column in self.columns:
                yield from _cell_refs(row.row_id, row_name, column, row.data.get(column["key"]))


def _cell_refs(row_id: str, row_name: str, column: dict[str, Any], cell: Any) -> Iterator[FileRef]:
    if not isinstance(cell, list):
        return
    for item in cell:
        if isinstance(item, str):  # an image cell: URLs
            url, name = item, item.rstrip("/").rsplit("/", 1)[-1]
        elif isinstance(item, dict) and isinstance(item.get("url"), str):
            url, name = item["url"], str(item.get("name") or item["url"].rsplit("/", 1)[-1])
        else:
            continue
        yield FileRef(row_id, row_name, column["name"], name, url)


async def _page(ctx: Context, principal: Principal, request: ZipRequest, start: int) -> row_service.RowPage:
    return await row_service.list_rows(
        ctx, principal, request.table, view_name=request.view_name, start=start, limit=ZIP_PAGE_ROWS
    )


async def prepare(ctx: Context, principal: Principal, request: ZipRequest) -> ZipDownload:
    """Check the request and read its first page: errors are 4xx before any byte is sent."""
    zip_names.check_template(request.template)
    page = await _page(ctx, principal, request, 0)
    file_columns = [c for c in page.columns if c.get("type") in FILE_CELL_TYPES]
    if request.column is not None:
        named = [c for c in page.columns if request.column in (c.get("name"), c.get("key"))]
        if not named:
            raise InvalidInput(f"column invalid: {request.column} not found (or hidden in the view).")
        if named[0].get("type") not in FILE_CELL_TYPES:
            raise InvalidInput(
                f"column invalid: {request.column} is a {named[0].get('type')} column, "
                f"not a {ColumnType.FILE.value} or {ColumnType.IMAGE.value} column."
            )
        file_columns = named[:1]
    first_key = page.columns[0]["key"] if page.columns else None
    table_name = request.table.name or request.table.table_id or "table"
    label = "-".join(x for x in (table_name, request.view_name, request.column) if x)
    return ZipDownload(ctx, principal, request, file_columns, first_key, page.rows,
                       filename=zip_names.safe_component(label) + ".zip")  # fmt: skip


# ---------------------------------------------------------------- resolving cells


def _resolve(engine: Engine, dtable_uuid: str, refs: list[FileRef]) -> list[Asset | str]:
    """Each ref's asset of this base, or why it is skipped (never fetched)."""
    with read_tx(engine) as conn:
        return [_resolve_one(conn, dtable_uuid, ref.url) for ref in refs]


def _resolve_one(conn: Any, dtable_uuid: str, url: str) -> Asset | str:
    if is_custom_asset_url(url):
        try:
            asset_uuid, _ = parse_custom_asset_url(url)
        except ValueError:
            return "not a file of this base"
        t = schema.assets
        row = (
            conn.execute(select(t).where(t.c.dtable_uuid == dtable_uuid, t.c.uuid == asset_uuid))
            .mappings()
            .first()
        )
        return asset_q.asset_of(row) if row is not None else "file not found"
    marker = f"/asset/{canonical_uuid(dtable_uuid)}/"
    if marker not in url:
        return "not a file of this base"
    tail = url.split(marker, 1)[1]
    for sep in ("#", "?"):
        tail = tail.split(sep, 1)[0]
    try:
        path = paths.rel_path(unquote(tail), "path")
    except InvalidInput:
        return "not a file of this base"
    dir_path, name = paths.split(path)
    asset = asset_q.get_asset(conn, dtable_uuid, dir_path, name)
    return asset if asset is not None else "file not found"
