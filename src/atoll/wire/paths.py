"""The grammar of asset paths and file names, and the only place that validates them.

Paths are relative to a base's asset root (``/asset/<uuid>``) and are returned in canonical
form: ``/`` or ``/a/b`` — NFC, no empty, ``.`` or ``..`` segments. Anything that could step
outside the root — ``..`` (also percent-encoded, double-encoded or fullwidth), backslashes,
NUL and control characters — is refused with InvalidInput, never "cleaned".
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote

from atoll.errors import InvalidInput

#: Seafile refuses names of 256 bytes or more (UTF-8).
MAX_NAME_BYTES = 255
#: Longest accepted path, in bytes (UTF-8).
MAX_PATH_BYTES = 4096
#: How many times a segment is percent-decoded when looking for hidden traversal.
DECODE_ROUNDS = 3
#: Seafile's cap on ``name (N).ext`` renames.
MAX_DUPLICATE_NAMES = 1000

_FORBIDDEN_CHARS = {"\\", "\x00"}


def _has_control(text: str) -> bool:
    return any(ord(c) < 0x20 or ord(c) == 0x7F for c in text)


def _looks_like_traversal(segment: str) -> bool:
    """True if any decoding of ``segment`` is ``.``/``..`` or smuggles a separator."""
    candidate = segment
    for _ in range(DECODE_ROUNDS + 1):
        folded = unicodedata.normalize("NFKC", candidate)
        if folded in (".", "..") or "/" in folded or "\\" in folded or "\x00" in folded:
            return True
        try:
            decoded = unquote(candidate, errors="strict")
        except UnicodeDecodeError:
            return True  # overlong or invalid UTF-8 behind percent signs (e.g. %c0%af)
        if decoded == candidate:
            return False
        candidate = decoded
    return True


def check_segment(segment: str, what: str) -> str:
    segment = unicodedata.normalize("NFC", segment)
    if segment in ("", ".", ".."):
        raise InvalidInput(f"Invalid {what}: empty, '.' or '..' segment.")
    if _FORBIDDEN_CHARS & set(segment) or _has_control(segment):
        raise InvalidInput(f"Invalid {what}: backslash, NUL or control character.")
    if _looks_like_traversal(segment):
        raise InvalidInput(f"Invalid {what}: '..' or a separator in disguise.")
    if len(segment.encode("utf-8")) > MAX_NAME_BYTES:
        raise InvalidInput(f"Invalid {what}: a name is {MAX_NAME_BYTES + 1} bytes or longer.")
    return segment


def file_name(raw: str) -> str:
    """A file name as stored and served (NFC). ``/``, ``..``, NUL, 256+ bytes -> 400."""
    if "/" in raw:
        raise InvalidInput(f"invalid fileName: {raw!r}.")
    try:
        return check_segment(raw, "fileName")
    except InvalidInput as exc:
        raise InvalidInput(f"invalid fileName: {exc.message}") from exc


def rel_path(raw: str, what: str = "path", *, allow_absolute: bool = True) -> str:
    """Canonical ``/a/b`` for a user-given relative path. ``''`` and ``/`` give ``/``.

    ``allow_absolute=False`` refuses a leading ``/`` (Seafile's relative_path rule).
    """
    if len(raw.encode("utf-8", errors="replace")) > MAX_PATH_BYTES:
        raise InvalidInput(f"Invalid {what}: longer than {MAX_PATH_BYTES} bytes.")
    if not allow_absolute and raw.startswith(("/", "\\")):
        raise InvalidInput(f"Invalid {what}: it must not start with '/'.")
    if _FORBIDDEN_CHARS & set(raw) or _has_control(raw):
        raise InvalidInput(f"Invalid {what}: backslash, NUL or control character.")
    segments = [s for s in raw.split("/") if s not in ("",)]
    clean = [check_segment(s, what) for s in segments]
    return "/" + "/".join(clean)


def join(dir_path: str, *more: str) -> str:
    parts = [p for p in dir_path.split("/") if p]
    for extra in more:
        parts += [p for p in extra.split("/") if p]
    return "/" + "/".join(parts)


def split(path: str) -> tuple[str, str]:
    """``/a/b/c.txt`` -> (``/a/b``, ``c.txt``)."""
    head, _, name = path.rpartition("/")
    return (head or "/"), name


def is_under(path: str, root: str) -> bool:
    return root == "/" or path == root or path.startswith(root.rstrip("/") + "/")


def duplicate_name(name: str, n: int) -> str:
    """Seafile's conflict name: split at the last dot, ``a.tar.gz`` -> ``a.tar (1).gz``."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        return f"{name} ({n})"
    return f"{stem} ({n}).{ext}"
