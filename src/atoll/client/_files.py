"""``atoll.Base``'s file methods: upload and download links, uploads and downloads of the
base's assets, and custom folders."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from atoll.client import _requests_files as rf
from atoll.client import _shared as sh
from atoll.client._transport import (
    DEFAULT,
    ByteSource,
    Progress,
    TimeoutArg,
    TransportMixin,
    UploadSource,
)
from atoll.wire import urls


class FilesMixin(TransportMixin):
    """Uploads, downloads and custom folders of ``atoll.Base``."""

    # -- system assets --------------------------------------------------------------------

    def get_file_upload_link(self, *, timeout: TimeoutArg = DEFAULT) -> Any:
        """``{'upload_link', 'parent_path', 'img_relative_path', 'file_relative_path', ...}``"""
        self._sess()
        return self._call(lambda: rf.app_upload_link(self.server_url), timeout)

    def get_file_download_link(self, path: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        """A one-hour download link for ``path`` relative to the base's asset folder
        (e.g. ``files/2025-08/a.pdf``)."""
        self._sess()
        data = self._call(lambda: rf.app_download_link(self.server_url, path), timeout)
        return sh.expect_dict(data, "download link").get("download_link")

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
    ) -> dict[str, Any]:
        """Upload ``content`` (bytes, a binary file object or an iterator of bytes) as ``name``.

        Returns the file-cell dict ``{'type', 'size', 'name', 'url'}``. ``relative_path`` is
        accepted for signature compatibility and ignored, as in 4.0.0 (the server decides).
        """
        return self._upload_system(name, UploadSource(content), file_type, replace, progress,
                                   timeout)

    def upload_local_file(
        self,
        file_path: str | os.PathLike[str],
        name: str | None = None,
        relative_path: str | None = None,
        file_type: str = "file",
        replace: bool = False,
        *,
        progress: Progress | None = None,
        timeout: TimeoutArg = DEFAULT,
    ) -> dict[str, Any]:
        """Upload a local file, streamed from disk. ``name`` defaults to its base name."""
        if file_type not in urls.FILE_TYPES:
            raise ValueError("file_type invalid.")
        if not name:
            name = rf.local_name(file_path)
        with open(file_path, "rb") as f:
            return self._upload_system(name, UploadSource(f), file_type, replace, progress,
                                       timeout)

    def _upload_system(
        self,
        name: str,
        source: UploadSource,
        file_type: str,
        replace: bool,
        progress: Progress | None,
        timeout: TimeoutArg,
    ) -> dict[str, Any]:
        if file_type not in urls.FILE_TYPES:
            raise ValueError("relative or file_type invalid.")
        link = sh.expect_dict(self.get_file_upload_link(timeout=timeout), "upload link")
        relative = str(link["img_relative_path" if file_type == "image" else "file_relative_path"])
        fields = rf.upload_fields(str(link["parent_path"]), relative, replace)
        answer = self._upload(
            str(link["upload_link"]), fields, name, source,
            idempotent=replace, progress=progress, timeout=timeout,
        )
        return rf.upload_cell(self._sess(), file_type, relative, name, answer)

    def download_file(
        self,
        url: str,
        save_path: str | os.PathLike[str],
        *,
        progress: Progress | None = None,
        timeout: TimeoutArg = DEFAULT,
    ) -> None:
        """Download the asset behind a cell URL to ``save_path`` (a file path, or a directory:
        then the file keeps its name). Streams to a temp file beside the target, then renames."""
        path = urls.asset_path_from_url(url, self._sess().dtable_uuid)
        self.download_asset(path, save_path, progress=progress, timeout=timeout)

    def download_asset(
        self,
        path: str,
        save_path: str | os.PathLike[str],
        *,
        progress: Progress | None = None,
        timeout: TimeoutArg = DEFAULT,
    ) -> Path:
        """atoll extension: download by asset path (relative to the base's asset folder, e.g.
        ``files/2025-08/a.pdf`` or ``custom/Main/x.png``). Returns the written path."""
        link = self.get_file_download_link(path, timeout=timeout)
        return self._fetch(str(link), save_path, urls.asset_name(path), progress, timeout)

    # -- custom folders -------------------------------------------------------------------

    def list_custom_assets(self, path: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        """``{'dir': [{'name'}...], 'file': [{'name'}...]}`` for a folder like ``/Main``."""
        self._sess()
        return self._call(lambda: rf.custom_asset_dir(self.server_url, path), timeout)

    def create_custom_folder(self, path: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        """atoll extension (not in SeaTable): create custom folder ``path`` (e.g. ``/Main``)."""
        self._sess()
        return self._call(lambda: rf.create_custom_dir(self.server_url, path), timeout)

    def get_custom_file_info(
        self, path: str, name: str, *, timeout: TimeoutArg = DEFAULT
    ) -> dict[str, Any]:
        """The file-cell dict for ``name`` in custom folder ``path`` (``custom-asset://`` URL)."""
        self._sess()
        data = self._call(lambda: rf.custom_asset_file(self.server_url, path, name), timeout)
        return rf.custom_file_cell(data)

    def get_custom_file_upload_link(self, path: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        self._sess()
        return self._call(lambda: rf.custom_upload_link(self.server_url, path), timeout)

    def get_custom_file_download_link(self, path: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
        self._sess()
        data = self._call(lambda: rf.custom_download_link(self.server_url, path), timeout)
        return sh.expect_dict(data, "download link").get("download_link")

    def download_custom_file(
        self,
        path: str,
        save_path: str | os.PathLike[str],
        *,
        progress: Progress | None = None,
        timeout: TimeoutArg = DEFAULT,
    ) -> None:
        """Download custom-folder file ``path`` (e.g. ``/Main/sky.png``) to ``save_path``."""
        path = unquote(path)
        link = self.get_custom_file_download_link(path, timeout=timeout)
        self._fetch(str(link), save_path, urls.asset_name(path), progress, timeout)

    def upload_local_file_to_custom_folder(
        self,
        local_path: str | os.PathLike[str],
        custom_folder_path: str | None = None,
        name: str | None = None,
        *,
        progress: Progress | None = None,
        timeout: TimeoutArg = DEFAULT,
    ) -> dict[str, Any]:
        """Upload into a custom folder (which must exist); never replaces, so a clash gives
        ``name (1).ext``. Returns the file-cell dict with a ``custom-asset://`` URL."""
        if not name:
            name = rf.local_name(local_path)
        if not custom_folder_path:
            custom_folder_path = "/"
        link = sh.expect_dict(
            self.get_custom_file_upload_link(unquote(custom_folder_path), timeout=timeout),
            "upload link",
        )
        fields = [
            ("parent_dir", link.get("parent_path")),
            ("relative_path", link.get("relative_path")),
            ("replace", "0"),
        ]
        with open(local_path, "rb") as f:
            answer = self._upload(
                str(link.get("upload_link")), fields, name, UploadSource(f),
                idempotent=False, progress=progress, timeout=timeout,
            )
        final = answer.get("name")
        return self.get_custom_file_info(
            custom_folder_path, final if isinstance(final, str) else name, timeout=timeout
        )
