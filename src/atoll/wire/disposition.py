"""Headers for serving user content safely: RFC 6266 Content-Disposition and type policy."""

from __future__ import annotations

import mimetypes
from urllib.parse import quote

from atoll.wire.headers import ANY_ORIGIN, NO_REFERRER, NOSNIFF, PRIVATE_NO_STORE

#: Types a browser may show inline; everything else is served as an attachment.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp"})
DEFAULT_TYPE = "application/octet-stream"


def content_type(name: str) -> str:
    guessed, encoding = mimetypes.guess_type(name, strict=False)
    if guessed is None or encoding is not None:
        return DEFAULT_TYPE
    return guessed


def _ascii_fallback(name: str) -> str:
    out = []
    for ch in name:
        if ch in '"\\' or ord(ch) < 0x20 or ord(ch) >= 0x7F:
            out.append("_")
        else:
            out.append(ch)
    return "".join(out) or "download"


def content_disposition(name: str, *, inline: bool) -> str:
    """``inline|attachment; filename="<ascii>"; filename*=UTF-8''<percent-encoded>``."""
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{_ascii_fallback(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


def may_inline(media_type: str) -> bool:
    return media_type in INLINE_TYPES


def serving_headers(name: str, sha256: str, *, force_download: bool) -> tuple[str, dict[str, str]]:
    """(media type, headers) for a stored file served from a capability URL."""
    media = content_type(name)
    inline = may_inline(media) and not force_download
    return media, {
        "content-disposition": content_disposition(name, inline=inline),
        "etag": f'"{sha256}"',
        **NOSNIFF,
        "content-security-policy": "default-src 'none'; sandbox",
        **PRIVATE_NO_STORE,
        **NO_REFERRER,
        **ANY_ORIGIN,
    }
