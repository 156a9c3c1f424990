"""Sans-I/O requests and answers for files: upload and download links, custom folders,
the file-cell dicts uploads return, and the multipart body of an upload."""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atoll.client._shared import RequestSpec, Session, decode_text, expect_dict, parse_json
from atoll.client.exceptions import AtollHTTPError
from atoll.wire import urls

# dtable-web endpoints (API token) --------------------------------------------------------


def app_upload_link(server_url: str) -> RequestSpec:
    return RequestSpec("GET", server_url + "/api/v2.1/dtable/app-upload-link/", "api_token")


def app_download_link(server_url: str, path: str) -> RequestSpec:
    return RequestSpec(
        "GET", server_url + "/api/v2.1/dtable/app-download-link/", "api_token", [("path", path)]
    )


def custom_download_link(server_url: str, path: str) -> RequestSpec:
    return RequestSpec(
        "GET",
        server_url + "/api/v2.1/dtable/custom/app-download-link/",
        "api_token",
        [("path", path)],
    )


def custom_upload_link(server_url: str, path: str) -> RequestSpec:
    return RequestSpec(
        "GET",
        server_url + "/api/v2.1/dtable/custom/app-upload-link/",
        "api_token",
        [("path", path)],
    )


def custom_asset_file(server_url: str, path: str, name: str) -> RequestSpec:
    return RequestSpec(
        "GET",
        server_url + "/api/v2.1/dtable/custom/app-asset-file/",
        "api_token",
        [("path", path), ("name", name)],
    )


def custom_asset_dir(server_url: str, path: str) -> RequestSpec:
    return RequestSpec(
        "GET", server_url + "/api/v2.1/dtable/custom/app-asset-dir/", "api_token", [("path", path)]
    )


def create_custom_dir(server_url: str, path: str) -> RequestSpec:
    """atoll's addition: ``POST app-asset-dir/?path=`` creates a custom folder (and parents)."""
    return RequestSpec(
        "POST",
        server_url + "/api/v2.1/dtable/custom/app-asset-dir/",
        "api_token",
        [("path", path)],
        idempotent=True,  # mkdir -p: repeating it changes nothing
    )



# --------------------------------------------------------------------------------------------
# Responses


def parse_upload_response(status: int, content: bytes) -> dict[str, Any]:
    """The first element of the file server's ``ret-json`` array."""
    data = parse_json(status, content)
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return data[0]
    raise AtollHTTPError(status, f"unexpected upload response: {decode_text(content)[:200]}")


def custom_file_cell(data: Any) -> dict[str, Any]:
    """``get_custom_file_info``'s return value from ``{"dirent": {...}}``."""
    d = expect_dict(expect_dict(data, "custom file info").get("dirent"), "custom file info")
    name = d.get("obj_name")
    if not isinstance(name, str):
        raise AtollHTTPError(200, "custom file info without obj_name")
    return urls.file_cell(
        "file", d.get("file_size"), name, urls.custom_asset_url(str(d.get("uuid")), name)
    )


def upload_cell(
    session: Session, file_type: str, relative_path: str, local_name: str, answer: dict[str, Any]
) -> dict[str, Any]:
    name = answer.get("name")
    url = urls.asset_url(
        session.server_url,
        "" if session.workspace_id is None else session.workspace_id,
        session.dtable_uuid,
        relative_path,
        name if isinstance(name, str) else local_name,
    )
    return urls.file_cell(file_type, answer.get("size"), name, url)


def upload_url(upload_link: str) -> str:
    return upload_link + "?ret-json=1"


def upload_fields(parent_dir: str, relative_path: str, replace: bool) -> list[tuple[str, str]]:
    return [
        ("parent_dir", parent_dir),
        ("relative_path", relative_path),
        ("replace", "1" if replace else "0"),
    ]


def local_name(file_path: str | os.PathLike[str]) -> str:
    """4.0.0's default upload name: ``file_path.strip('/').split('/')[-1]``."""
    return os.fspath(file_path).strip("/").split("/")[-1]


def resolve_save_path(save_path: str | os.PathLike[str], name: str) -> Path:
    """Where ``download_file`` writes. An existing directory, or a path ending in a separator,
    receives the file under its own ``name`` (4.0.0 would fail with IsADirectoryError)."""
    raw = os.fspath(save_path)
    p = Path(raw).expanduser()
    if p.is_dir() or raw.endswith(("/", os.sep)):
        if not name or name in (".", ".."):
            raise ValueError(f"cannot derive a file name to save into directory {raw!r}")
        return p / name
    return p


# --------------------------------------------------------------------------------------------
# Multipart (what urllib3 2.x produces for requests' data=/files=: no per-part Content-Type)


def _header_param(name: str, value: str) -> str:
    return '{}="{}"'.format(name, value.translate({10: "%0A", 13: "%0D", 34: "%22"}))


@dataclass(frozen=True)
class MultipartLayout:
    """Text fields, then one file part. ``head`` + file bytes + ``tail`` is the whole body."""

    fields: Sequence[tuple[str, str]]
    filename: str
    file_field: str = "file"
    boundary: str = field(default_factory=lambda: secrets.token_hex(16))

    @property
    def content_type(self) -> str:
        return "multipart/form-data; boundary=" + self.boundary

    @property
    def head(self) -> bytes:
        parts = []
        for name, value in self.fields:
            parts.append(
                f"--{self.boundary}\r\nContent-Disposition: form-data; "
                f"{_header_param('name', name)}\r\n\r\n".encode()
                + value.encode("utf-8")
                + b"\r\n"
            )
        parts.append(
            f"--{self.boundary}\r\nContent-Disposition: form-data; "
            f"{_header_param('name', self.file_field)}; "
            f"{_header_param('filename', self.filename)}\r\n\r\n".encode()
        )
        return b"".join(parts)

    @property
    def tail(self) -> bytes:
        return f"\r\n--{self.boundary}--\r\n".encode()

    def content_length(self, file_size: int) -> int:
        return len(self.head) + file_size + len(self.tail)
