"""tus 1.0 on the wire: header names and values, ``Upload-Metadata``, and atoll's result.

https://tus.io/protocols/resumable-upload (core, creation, creation-with-upload, termination,
expiration, checksum). docs/resumable.md describes what atoll serves.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import json
from collections.abc import Callable
from typing import Any

from atoll.errors import InvalidInput

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,expiration,checksum"
#: Upload-Checksum algorithms served (the discovery header is derived from it).
CHECKSUM_ALGORITHMS: dict[str, Callable[[], Any]] = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
RESULT_HEADER = "Atoll-Upload-Result"
#: The tus status for a checksum that does not match (tus checksum extension).
CHECKSUM_MISMATCH_STATUS = 460
#: Upload-Metadata larger than this is refused (it is stored with the session).
MAX_METADATA_BYTES = 8 * 1024

_EXPOSED = ("Upload-Offset, Upload-Length, Upload-Metadata, Upload-Expires, Location, Tus-Resumable, "
            f"Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm, {RESULT_HEADER}")
_ALLOWED = ("Authorization, Content-Type, Origin, X-Requested-With, X-Request-ID, X-HTTP-Method-Override, "
            "Upload-Length, Upload-Offset, Upload-Metadata, Upload-Checksum, Upload-Defer-Length, "
            "Upload-Concat, Tus-Resumable")
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": _EXPOSED,
}
CORS_PREFLIGHT = {
    **CORS,
    "Access-Control-Allow-Methods": "POST, HEAD, PATCH, DELETE, GET, OPTIONS",
    "Access-Control-Allow-Headers": _ALLOWED,
    "Access-Control-Max-Age": "86400",
}


def discovery_headers(max_size: int) -> dict[str, str]:
    return {
        **CORS_PREFLIGHT,
        "Tus-Resumable": TUS_VERSION,
        "Tus-Version": TUS_VERSION,
        "Tus-Extension": EXTENSIONS,
        "Tus-Max-Size": str(max_size),
        "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
    }


def common_headers() -> dict[str, str]:
    return {**CORS, "Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store"}


def expires(epoch_s: float) -> str:
    """``Upload-Expires``: an RFC 9110 date."""
    return email.utils.formatdate(epoch_s, usegmt=True)


def parse_metadata(header: str | None) -> dict[str, str]:
    """``key base64,key2 base64`` -> dict; keys unique, values UTF-8. Malformed -> 400."""
    if not header:
        return {}
    if len(header) > MAX_METADATA_BYTES:
        raise InvalidInput(f"Upload-Metadata is longer than {MAX_METADATA_BYTES} bytes.")
    out: dict[str, str] = {}
    for pair in header.split(","):
        key, _, value = pair.strip().partition(" ")
        if not key or " " in value.strip() or key in out:
            raise InvalidInput(f"Upload-Metadata: malformed or repeated pair {pair.strip()[:40]!r}.")
        try:
            out[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise InvalidInput(f"Upload-Metadata: the value of {key!r} is not base64 of UTF-8.") from None
    return out


def encode_metadata(values: dict[str, str]) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def parse_length(value: str | None, header: str) -> int:
    """A non-negative integer header (Upload-Length, Upload-Offset)."""
    if value is None or not value.strip().isdigit() or len(value.strip()) > 19:
        raise InvalidInput(f"{header} must be a non-negative integer.")
    return int(value.strip())


def result_header(result: dict[str, Any]) -> str:
    """The completed upload as compact ASCII JSON (a header value never holds raw UTF-8)."""
    return json.dumps(result, separators=(",", ":"), ensure_ascii=True)


def status_json(*, offset: int, length: int, complete: bool, expires_at: float,
                result: dict[str, Any] | None) -> dict[str, Any]:
    return {"offset": offset, "length": length, "complete": complete, "expires": expires(expires_at),
            "result": result}
