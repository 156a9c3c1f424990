"""The grammar of asset paths and file names, and the only place that validates them.

Paths are relative to a base's asset root (``/asset/<uuid>``) and are returned in canonical
form: ``/`` or ``/a/b`` — NFC, no empty, ``.`` or ``..`` segments. Anything that could step
outside the root — ``..`` (also percent-encoded, double-encoded or fullwidth), backslashes,
NUL and control characters — is refused with InvalidInput, never "cleaned". This holds for
every path, also one that only looks a file up.

A **new** name (an uploaded file, the folders of ``relative_path``, a custom folder being
created: ``new=True``) must also be portable and unambiguous (docs/names.md):

- not a Windows device name (WINDOWS_RESERVED), also with an extension (``nul.txt``), any case;
- no trailing dot or space, not blank (only whitespace or invisible format characters);
- none of the look-alikes of ``/`` and ``\\`` in LOOKALIKE_SEPARATORS;
- none of the bidirectional embedding, override and isolate controls in BIDI_CONTROLS
  (the marks U+200E, U+200F and U+061C are allowed: right-to-left names need them);
- at most MAX_NAME_BYTES bytes of UTF-8 (Seafile's limit), NFC.

Lookups (``new=False``) skip these naming rules, so a name stored before them stays reachable.
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

#: Windows device names (and the part before the first dot of a name), compared in upper case.
WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{dev}{n}" for dev in ("COM", "LPT") for n in (*"0123456789", "\u00b9", "\u00b2", "\u00b3")}
)
#: Characters that render like ``/`` or ``\\`` and would make a name read as a path.
LOOKALIKE_SEPARATORS: dict[str, str] = {
    "\u2215": "DIVISION SLASH",
    "\u2044": "FRACTION SLASH",
    "\u29f8": "BIG SOLIDUS",
    "\uff0f": "FULLWIDTH SOLIDUS",
    "\u2571": "BOX DRAWINGS LIGHT DIAGONAL UPPER RIGHT TO LOWER LEFT",
    "\u1735": "PHILIPPINE SINGLE PUNCTUATION",
    "\u0337": "COMBINING SHORT SOLIDUS OVERLAY",
    "\u0338": "COMBINING LONG SOLIDUS OVERLAY",
    "\uff3c": "FULLWIDTH REVERSE SOLIDUS",
    "\u2216": "SET MINUS",
    "\u29f5": "REVERSE SOLIDUS OPERATOR",
    "\u29f9": "BIG REVERSE SOLIDUS",
    "\ufe68": "SMALL REVERSE SOLIDUS",
    "\u2572": "BOX DRAWINGS LIGHT DIAGONAL UPPER LEFT TO LOWER RIGHT",
    "\u20e5": "COMBINING REVERSE SOLIDUS OVERLAY",
}
#: Bidirectional embeddings, overrides and isolates: they reorder how the rest of a name is
#: shown (``\u202egpj.exe`` displays as ``exe.jpg``).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


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


def _blank(text: str) -> bool:
    return all(c.isspace() or unicodedata.category(c) == "Cf" for c in text)


def naming_problem(name: str) -> str | None:
    """Why ``name`` (one NFC segment, already free of traversal) may not be given to a new file
    or folder, or None. See the module docstring."""
    if _blank(name):
        return "a name must not be blank"
    if name.endswith((".", " ")):
        return "a name must not end with a dot or a space"
    stem = name.split(".", 1)[0].rstrip(" ").upper()
    if stem in WINDOWS_RESERVED:
        return f"{stem} is a reserved device name"
    for char in name:
        if char in LOOKALIKE_SEPARATORS:
            return f"U+{ord(char):04X} {LOOKALIKE_SEPARATORS[char]} looks like a path separator"
        if char in BIDI_CONTROLS:
            return f"U+{ord(char):04X} ({unicodedata.name(char)}) reorders how the name is shown"
    return None


def check_segment(segment: str, what: str, *, new: bool = False) -> str:
    segment = unicodedata.normalize("NFC", segment)
    if segment in ("", ".", ".."):
        raise InvalidInput(f"Invalid {what}: empty, '.' or '..' segment.")
    if _FORBIDDEN_CHARS & set(segment) or _has_control(segment):
        raise InvalidInput(f"Invalid {what}: backslash, NUL or control character.")
    if _looks_like_traversal(segment):
        raise InvalidInput(f"Invalid {what}: '..' or a separator in disguise.")
    if len(segment.encode("utf-8")) > MAX_NAME_BYTES:
        raise InvalidInput(f"Invalid {what}: a name is {MAX_NAME_BYTES + 1} bytes or longer.")
    problem = naming_problem(segment) if new else None
    if problem is not None:
        raise InvalidInput(f"Invalid {what}: {problem}.")
    return segment


def file_name(raw: str, *, new: bool = True) -> str:
    """A file name as stored and served (NFC). ``/``, ``..``, NUL, 256+ bytes -> 400; and for a
    ``new`` name (an upload; the default) the naming rules of the module docstring."""
    if "/" in raw:
        raise InvalidInput(f"invalid fileName: {raw!r} contains '/'.")
    try:
        return check_segment(raw, "fileName", new=new)
    except InvalidInput as exc:
        reason = exc.message.removeprefix("Invalid fileName: ")
        raise InvalidInput(f"invalid fileName: {raw!r}: {reason}") from exc


def rel_path(raw: str, what: str = "path", *, allow_absolute: bool = True, new: bool = False) -> str:
    """Canonical ``/a/b`` for a user-given relative path. ``''`` and ``/`` give ``/``.

    ``allow_absolute=False`` refuses a leading ``/`` (Seafile's relative_path rule); ``new=True``
    applies the naming rules to every segment (folders that may be created).
    """
    if len(raw.encode("utf-8", errors="replace")) > MAX_PATH_BYTES:
        raise InvalidInput(f"Invalid {what}: longer than {MAX_PATH_BYTES} bytes.")
    if not allow_absolute and raw.startswith(("/", "\\")):
        raise InvalidInput(f"Invalid {what}: it must not start with '/'.")
    if _FORBIDDEN_CHARS & set(raw) or _has_control(raw):
        raise InvalidInput(f"Invalid {what}: backslash, NUL or control character.")
    segments = [s for s in raw.split("/") if s not in ("",)]
    clean = [check_segment(s, what, new=new) for s in segments]
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
