"""tus 1.0 requests and answers without I/O (docs/resumable.md): the headers of creation, HEAD
and PATCH, ``Upload-Metadata``, and the completion result (``Atoll-Upload-Result`` or the JSON
of ``GET <upload url>``), as the resumable upload operation (``_resumable``) sends and reads them."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urljoin

import httpx

from atoll.client import _requests as rq
from atoll.client._requests import FileCell
from atoll.client.exceptions import AtollHTTPError

TUS_VERSION = "1.0.0"
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
RESULT_HEADER = "Atoll-Upload-Result"
#: Backoff between attempts of a resumable upload: 0.5 s doubling up to 10 s, with jitter.
BACKOFF = rq.RetryPolicy(backoff_base=0.5, backoff_max=10.0)
DEFAULT_THRESHOLD = 8 * 1024 * 1024
DEFAULT_PATIENCE_S = 300.0


def encode_metadata(metadata: dict[str, str]) -> str:
    """tus ``Upload-Metadata``: ``key base64(value)`` pairs, comma-separated."""
    return ",".join(
        f"{key} {base64.b64encode(value.encode('utf-8')).decode('ascii')}"
        for key, value in metadata.items()
    )


def upload_metadata(
    *,
    filename: str,
    relative_path: str,
    parent_dir: str | None,
    file_type: str = "file",
    replace: bool = False,
    table: str | None = None,
    row_id: str | None = None,
    column: str | None = None,
) -> dict[str, str]:
    meta = {"filename": filename, "file_type": file_type, "relative_path": relative_path}
    if parent_dir:
        meta["parent_dir"] = parent_dir
    if replace:
        meta["replace"] = "1"
    if table is not None and column is not None:
        meta["table"] = table
        meta["column"] = column
        if row_id is not None:
            meta["row_id"] = row_id
    return meta


def check_attach(table: str | None, row_id: str | None, column: str | None) -> bool:
    """Whether the upload is attached to a cell; ``ValueError`` for a half-given target."""
    if table is None and column is None:
        if row_id is not None:
            raise ValueError("row_id needs table and column")
        return False
    if not table or not column:
        raise ValueError("upload-and-attach needs both table and column")
    return True


def _headers(**extra: str) -> dict[str, str]:
    return {"Tus-Resumable": TUS_VERSION, **extra}


def create_headers(length: int, metadata: dict[str, str]) -> dict[str, str]:
    return _headers(**{"Upload-Length": str(length), "Upload-Metadata": encode_metadata(metadata)})


def head_headers() -> dict[str, str]:
    return _headers()


def patch_headers(offset: int, length: int) -> dict[str, str]:
    return _headers(**{
        "Upload-Offset": str(offset),
        "Content-Type": OFFSET_CONTENT_TYPE,
        "Content-Length": str(length),
    })


def upload_location(tus_link: str, response: httpx.Response) -> str:
    """The upload URL a 201 names (a relative ``Location`` is resolved against the link)."""
    location = response.headers.get("location")
    if response.status_code != 201 or not location:
        raise AtollHTTPError(response.status_code, "tus creation answered without a Location")
    return str(urljoin(tus_link, location))


def offset_of(response: httpx.Response) -> int:
    value = response.headers.get("upload-offset", "")
    if not value.isdigit():
        raise AtollHTTPError(response.status_code, f"tus answer without Upload-Offset ({value!r})")
    return int(value)


def length_of(response: httpx.Response) -> int | None:
    value = response.headers.get("upload-length", "")
    return int(value) if value.isdigit() else None


def result_from_header(response: httpx.Response) -> dict[str, Any] | None:
    raw = response.headers.get(RESULT_HEADER)
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def status_result(data: Any) -> tuple[bool, dict[str, Any] | None]:
    """``GET <upload url>``'s JSON: (complete, result)."""
    d = rq.expect_dict(data, "upload status")
    result = d.get("result")
    return bool(d.get("complete")), result if isinstance(result, dict) else None


def result_cell(result: dict[str, Any], file_type: str) -> FileCell:
    """The cell dict of a completed upload, with ``row_id``/``table_id`` when it was attached."""
    cell = FileCell(
        type=str(result.get("type") or file_type),
        size=result.get("size"),
        name=result.get("name"),
        url=str(result.get("url")),
    )
    return with_attachment(cell, result)


def with_attachment(cell: FileCell, result: dict[str, Any]) -> FileCell:
    """``cell`` with the ``row_id`` and ``table_id`` of an attached upload's result."""
    row_id, table_id = result.get("row_id"), result.get("table_id")
    if isinstance(row_id, str):
        cell["row_id"] = row_id
    if isinstance(table_id, str):
        cell["table_id"] = table_id
    return cell
