"""The file methods of ``Base`` and ``AsyncBase``, written once as operations (``@api``):
upload links, uploads (multipart, or resumable tus above ``resumable_threshold`` and for
upload-and-attach), downloads (resumed with ``Range`` after a cut) and custom folders."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote

from atoll.client import _requests as rq
from atoll.client import _tus as tus
from atoll.client._api import api
from atoll.client._core import BaseCore
from atoll.client._download import SaveTarget, fetch
from atoll.client._effects import Op
from atoll.client._flows import upload
from atoll.client._requests import FileCell
from atoll.client._resumable import TusJob, tus_upload
from atoll.client._resume_store import upload_key
from atoll.client._transport import DEFAULT, ByteSource, Progress, TimeoutArg, UploadSource
from atoll.client._zip import zip_download, zip_params
from atoll.client.exceptions import AtollHTTPError
from atoll.wire import links
from atoll.wire.columns import FILE_CELL_TYPES, ColumnType

#: The thumbnail edge length ``get_thumbnail`` asks for unless told (SeaTable's default).
THUMBNAIL_SIZE = 256


class FileOps(BaseCore):
    # -- system assets --------------------------------------------------------------------

    @api
    def get_file_upload_link(self, *, timeout: TimeoutArg = DEFAULT) -> Op[Any]:
        """``{'upload_link', 'parent_path', 'img_relative_path', 'file_relative_path', ...}``
        (atoll adds ``tus_link``)."""
        return (yield from self._web(rq.app_upload_link(self.server_url), timeout))

    @api
    def get_file_download_link(self, path: str, *, timeout: TimeoutArg = DEFAULT) -> Op[Any]:
        """A one-hour download link for ``path`` relative to the base's asset folder
        (e.g. ``files/2025-08/a.pdf``)."""
        data = yield from self._web(rq.app_download_link(self.server_url, path), timeout)
        return rq.expect_dict(data, "download link").get("download_link")

    @api
    def upload_bytes_file(
        self,
        name: str,
        content: ByteSource,
        relative_path: str | None = None,
        file_type: str = "file",
        replace: bool = False,
        *,
        progress: Progress | None = None,
        timeout: TimeoutArg = DEFAULT,
    ) -> Op[FileCell]:
        """Upload ``content`` (bytes, a binary file object or an iterator of bytes) as ``name``.

        Returns the file-cell dict ``{'type', 'size', 'name', 'url'}``. ``relative_path`` is
        accepted for signature compatibility and ignored, as in 4.0.0 (the server decides).
        """
        if file_type not in FILE_CELL_TYPES:
            raise ValueError("relative or file_type invalid.")
        link = yield from self._system_link(timeout)
        return (yield from self._multipart(link, name, UploadSource(content), file_type, replace,
                                           progress, timeout))

    @api
    def upload_local_file(
        self,
        file_path: str | os.PathLike[str],
        name: str | None = None,
        relative_path: str | None = None,
        file_type: str = "file",
        replace: bool = False,
        *,
        progress: Progress | None = None,
        table: str | None = None,
        row_id: str | None = None,
        column: str | None = None,
        resumable: bool | None = None,
        timeout: TimeoutArg = DEFAULT,
    ) -> Op[FileCell]:
        """Upload a local file, streamed from disk. ``name`` defaults to its base name.

        Resumable (tus) when ``resumable`` is true, or when it is ``None`` and the file has at
        least ``resumable_threshold`` bytes or the upload is attached: with ``table`` and
        ``column`` the file is appended to that cell of row ``row_id`` (a new row without it),
        and the dict also carries ``row_id`` and ``table_id``."""
        if file_type not in FILE_CELL_TYPES:
            raise ValueError("file_type invalid.")
        attach = _attach_target(table, row_id, column, resumable)
        name = name or rq.local_name(file_path)
        with open(file_path, "rb") as f:
            link = yield from self._system_link(timeout)
            relative = _relative_path(link, file_type)
            tus_link = self._tus_link(link, os.fstat(f.fileno()).st_size, attach, resumable)
            if tus_link is None:
                return (yield from self._multipart(link, name, UploadSource(f), file_type, replace,
                                                   progress, timeout))
            meta = tus.upload_metadata(
                filename=name, relative_path=relative, parent_dir=str(link.get("parent_path") or ""),
                file_type=file_type, replace=replace, table=table, row_id=row_id, column=column,
            )
            result = yield from self._resumable(tus_link, meta, file_path, f, progress, timeout)
            return tus.result_cell(result, file_type)

    def _system_link(self, timeout: TimeoutArg) -> Op[dict[str, Any]]:
        link = yield from FileOps.get_file_upload_link.fn(self, timeout=timeout)
        return rq.expect_dict(link, "upload link")

    def _multipart(
        self,
        link: dict[str, Any],
        name: str,
        source: UploadSource,
        file_type: str,
        replace: bool,
        progress: Progress | None,
        timeout: TimeoutArg,
    ) -> Op[FileCell]:
        relative = _relative_path(link, file_type)
        fields = rq.upload_fields(str(link["parent_path"]), relative, replace)
        answer = yield from upload(
            self._transport, str(link["upload_link"]), fields, name, source,
            idempotent=replace, progress=progress, timeout=timeout,
        )
        session = yield from self._base_session(timeout)
        return rq.upload_cell(session, file_type, relative, name, answer)

    def _tus_link(
        self, link: dict[str, Any], size: int, attach: bool, resumable: bool | None
    ) -> str | None:
        """The tus link to upload with, or ``None`` for a plain multipart upload."""
        wanted = (attach or size >= self.resumable_threshold) if resumable is None else resumable
        if not wanted:
            return None
        tus_link = link.get("tus_link")
        if isinstance(tus_link, str) and tus_link:
            return tus_link
        if resumable or attach:
            raise AtollHTTPError(
                200, "the server offers no resumable (tus) upload: its upload link has no tus_link"
            )
        return None

    def _resumable(
        self,
        tus_link: str,
        meta: dict[str, str],
        file_path: str | os.PathLike[str],
        f: IO[bytes],
        progress: Progress | None,
        timeout: TimeoutArg,
    ) -> Op[dict[str, Any]]:
        st = os.fstat(f.fileno())
        session = yield from self._base_session(timeout)
        key = upload_key(
            server=self.server_url, dtable=session.dtable_uuid,
            path=os.path.abspath(os.fspath(file_path)), size=st.st_size, mtime_ns=st.st_mtime_ns,
            **{k: meta.get(k) for k in ("parent_dir", "relative_path", "filename", "replace",
                                        "table", "row_id", "column")},
        )
        job = TusJob(tus_link, meta, st.st_size, "table" in meta, self.resume_store, key)
        return (yield from tus_upload(self._transport, job, f, progress=progress, timeout=timeout,
                                      patience=self.resume_patience_s))

    @api
    def download_file(
        self,
        url: str,
        save_path: SaveTarget,
        *,
        progress: Progress | None = None,
        timeout: TimeoutArg = DEFAULT,
    ) -> Op[Path]:
        """Download the asset behind a cell URL to ``save_path``: a file path, a directory (then
        the file keeps its name) or a writable binary file object. A path gets a temp file
        beside it, renamed over it at the end. A broken connection resumes with ``Range``.
        Returns the written path (4.0.0 returns ``None``)."""
        session = yield from self._base_session(timeout)
        path = links.asset_path_from_url(url, dtable_uuid=session.dtable_uuid)
        return (yield from FileOps.download_asset.fn(self, path, save_path, progress=progress,
                                                     timeout=timeout))

    @api
    def download_asset(
        self,
        path: str,
        save_path: SaveTarget,
        *,
        progress: Progress | None = None,
        timeout: TimeoutArg = DEFAULT,
    ) -> Op[Path]:
        """atoll extension: download by asset path (relative to the base's asset folder, e.g.
        ``files/2025-08/a.pdf`` or ``custom/Main/x.png``). Returns the written path."""
        link = yield from FileOps.get_file_download_link.fn(self, path, timeout=timeout)
        return (yield from self._fetch(link, save_path, path, progress, timeout))

    # -- references and the trash (atoll's additions) ------------------------------------

    @api
    def get_asset_refs(self, path: str, *, timeout: TimeoutArg = DEFAULT) -> Op[Any]:
        """atoll extension: which rows' file and image cells use the asset at ``path`` (relative
        to the base's asset folder, e.g. ``files/2025-08/a.pdf`` or ``custom/Main/x.png``):
        ``{'path', 'trashed', 'total', 'refs': [{'table_name', 'row_id', 'column_name', ...}]}``."""
        return (yield from self._web(rq.asset_refs(self.server_url, path), timeout))

    @api
    def delete_asset(self, path: str, *, timeout: TimeoutArg = DEFAULT) -> Op[Any]:
        """Delete the asset at ``path``: on atoll it goes to the trash (``restore_asset``)."""
        return (yield from self._web(rq.delete_asset(self.server_url, path), timeout))

    @api
    def list_asset_trash(self, *, after: int | None = None, timeout: TimeoutArg = DEFAULT) -> Op[Any]:
        """atoll extension: a page of the base's asset trash, ``{'trash': [...], 'next_after'}``;
        pass ``next_after`` as ``after`` for the next page."""
        return (yield from self._web(rq.asset_trash(self.server_url, after), timeout))

    @api
    def restore_asset(
        self, trash_id: int | None = None, *, path: str | None = None, timeout: TimeoutArg = DEFAULT
    ) -> Op[Any]:
        """atoll extension: put a trashed asset back, by trash entry id or by its old ``path``
        (the newest entry there); ``{'path', 'name', 'renamed'}`` (a conflict name if taken)."""
        if trash_id is None and not path:
            raise ValueError("restore_asset needs a trash entry id or the deleted file's path")
        return (yield from self._web(rq.restore_asset(self.server_url, trash_id, path), timeout))

    # -- thumbnails (atoll's addition) ----------------------------------------------------

    @api
    def get_thumbnail(
        self,
        url_or_path: str,
        save_path: SaveTarget,
        *,
        size: int = THUMBNAIL_SIZE,
        timeout: TimeoutArg = DEFAULT,
    ) -> Op[Path]:
        """atoll: save the thumbnail (a JPEG, or a PNG for images with transparency) of an image
        or PDF asset to ``save_path`` (a file path, a directory, or a binary file object). The
        asset is a cell URL or a path relative to the base's asset folder (``images/2026-01/a.png``);
        ``size`` is one of the server's ``thumbnail_sizes`` (default 256). Returns the written
        path (in a directory: ``thumb<size>-<name>``)."""
        session = yield from self._base_session(timeout)
        path = url_or_path
        if "/" in url_or_path and session.dtable_uuid in url_or_path:
            path = links.asset_path_from_url(url_or_path, dtable_uuid=session.dtable_uuid)
        url = links.thumbnail_url(self.server_url, workspace_id=session.workspace_id or 0,
                                  dtable_uuid=session.dtable_uuid, path=path, size=size)
        name = f"thumb{size}-{links.asset_name(path)}"
        return (yield from fetch(self._transport, url, save_path, name, None, timeout,
                                 auth=rq.auth_headers(self.token, json_content=False)))

    # -- zip download (atoll's addition) --------------------------------------------------

    @api
    def download_zip(
        self,
        table_name: str,
        save_path: SaveTarget,
        *,
        view_name: str | None = None,
        column: str | None = None,
        row_ids: list[str] | None = None,
        template: str | None = None,
        compression: str | None = None,
        progress: Progress | None = None,
        timeout: TimeoutArg = DEFAULT,
    ) -> Op[Path]:
        """atoll extension: a zip of the files in a table's file and image cells (or a view's,
        or one column's; optionally only ``row_ids``), streamed to ``save_path`` (a path, a
        directory: then ``<table>.zip``, or a binary file object). ``template`` names the files
        inside (default ``{row}/{column}/{name}``; also ``{row_name}``); ``compression``
        ``stored`` (default) or ``deflate``. The archive ends with ``manifest.json``. Returns
        the written path."""
        params = zip_params(table_name, view_name=view_name, column=column, row_ids=row_ids,
                            template=template, compression=compression)  # fmt: skip
        return (yield from zip_download(self._transport, self.server_url, self.token, params,
                                        save_path, progress, timeout))  # fmt: skip

    # -- custom folders -------------------------------------------------------------------

    @api
    def list_custom_assets(self, path: str, *, timeout: TimeoutArg = DEFAULT) -> Op[Any]:
        """``{'dir': [{'name'}...], 'file': [{'name'}...]}`` for a folder like ``/Main``."""
        return (yield from self._web(rq.custom_asset_dir(self.server_url, path), timeout))

    @api
    def create_custom_folder(self, path: str, *, timeout: TimeoutArg = DEFAULT) -> Op[Any]:
        """atoll extension (not in SeaTable): create custom folder ``path`` (e.g. ``/Main``)."""
        return (yield from self._web(rq.create_custom_dir(self.server_url, path), timeout))

    @api
    def get_custom_file_info(
        self, path: str, name: str, *, timeout: TimeoutArg = DEFAULT
    ) -> Op[FileCell]:
        """The file-cell dict for ``name`` in custom folder ``path`` (``custom-asset://`` URL)."""
        data = yield from self._web(rq.custom_asset_file(self.server_url, path, name), timeout)
        return rq.custom_file_cell(data)

    @api
    def get_custom_file_upload_link(self, path: str, *, timeout: TimeoutArg = DEFAULT) -> Op[Any]:
        return (yield from self._web(rq.custom_upload_link(self.server_url, path), timeout))

    @api
    def get_custom_file_download_link(self, path: str, *, timeout: TimeoutArg = DEFAULT) -> Op[Any]:
        data = yield from self._web(rq.custom_download_link(self.server_url, path), timeout)
        return rq.expect_dict(data, "download link").get("download_link")

    @api
    def download_custom_file(
        self,
        path: str,
        save_path: SaveTarget,
        *,
        progress: Progress | None = None,
        timeout: TimeoutArg = DEFAULT,
    ) -> Op[Path]:
        """Download custom-folder file ``path`` (e.g. ``/Main/sky.png``) to ``save_path`` (as
        ``download_file``). Returns the written path (4.0.0 returns ``None``)."""
        path = unquote(path)
        link = yield from FileOps.get_custom_file_download_link.fn(self, path, timeout=timeout)
        return (yield from self._fetch(link, save_path, path, progress, timeout))

    def _fetch(
        self, link: Any, save_path: SaveTarget, path: str, progress: Progress | None,
        timeout: TimeoutArg,
    ) -> Op[Path]:
        """Download ``link`` (of the asset at ``path``) to ``save_path``."""
        name = links.asset_name(path)
        return (yield from fetch(self._transport, str(link), save_path, name, progress, timeout))

    @api
    def upload_local_file_to_custom_folder(
        self,
        local_path: str | os.PathLike[str],
        custom_folder_path: str | None = None,
        name: str | None = None,
        *,
        progress: Progress | None = None,
        resumable: bool | None = None,
        table: str | None = None,
        row_id: str | None = None,
        column: str | None = None,
        timeout: TimeoutArg = DEFAULT,
    ) -> Op[FileCell]:
        """Upload into a custom folder (which must exist); never replaces, so a clash gives
        ``name (1).ext``. Returns the file-cell dict with a ``custom-asset://`` URL. Resumable
        and upload-and-attach as ``upload_local_file``."""
        attach = _attach_target(table, row_id, column, resumable)
        name = name or rq.local_name(local_path)
        folder = custom_folder_path or "/"
        raw_link = yield from FileOps.get_custom_file_upload_link.fn(self, unquote(folder),
                                                                     timeout=timeout)
        link = rq.expect_dict(raw_link, "upload link")
        parent, relative = link.get("parent_path"), link.get("relative_path")
        with open(local_path, "rb") as f:
            tus_link = self._tus_link(link, os.fstat(f.fileno()).st_size, attach, resumable)
            if tus_link is None:
                fields = [("parent_dir", parent), ("relative_path", relative), ("replace", "0")]
                answer = yield from upload(
                    self._transport, str(link.get("upload_link")), fields, name, UploadSource(f),
                    idempotent=False, progress=progress, timeout=timeout,
                )
                final = answer.get("name")
                extra: dict[str, Any] = {}
            else:
                meta = tus.upload_metadata(
                    filename=name, relative_path=str(relative or ""), parent_dir=str(parent or ""),
                    table=table, row_id=row_id, column=column,
                )
                extra = yield from self._resumable(tus_link, meta, local_path, f, progress, timeout)
                final = extra.get("name")
        cell = yield from FileOps.get_custom_file_info.fn(
            self, folder, final if isinstance(final, str) else name, timeout=timeout
        )
        return tus.with_attachment(cell, extra)


def _relative_path(link: dict[str, Any], file_type: str) -> str:
    """The folder the system upload link names for ``file_type``: ``images/…`` or ``files/…``."""
    return str(link["img_relative_path" if file_type == ColumnType.IMAGE else "file_relative_path"])


def _attach_target(
    table: str | None, row_id: str | None, column: str | None, resumable: bool | None
) -> bool:
    """Whether the upload is attached to a cell (``ValueError`` for a target it cannot be)."""
    attach = tus.check_attach(table, row_id, column)
    if attach and resumable is False:
        raise ValueError("upload-and-attach needs a resumable upload (resumable=None or True)")
    return attach
