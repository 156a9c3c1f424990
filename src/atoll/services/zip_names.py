"""Paths inside a zip download: a naming template, safe components, unique names.

The template is a ``/``-separated path with placeholders (docs/sdk.md, "Zip download"):
``{row}`` (the row id), ``{row_name}`` (the row's first-column value), ``{column}`` (the
column's name) and ``{name}`` (the file's name). Every value is made safe on its own before it
is put in (no ``/``, ``\\``, control characters, characters Windows refuses, ``.``/``..`` or
reserved device names), so a value never adds a folder or climbs out of the archive. A path
that is already taken (compared case-insensitively, for Windows and macOS) gets `` (1)``,
`` (2)``... before its extension; a folder that clashes with a file gets the same.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field

from atoll.errors import InvalidInput

DEFAULT_TEMPLATE = "{row}/{column}/{name}"
PLACEHOLDERS = ("row", "row_name", "column", "name")
#: Longest template accepted (characters).
MAX_TEMPLATE_CHARS = 500
#: Longest path component kept (characters; longer ones are cut, keeping an extension).
MAX_COMPONENT_CHARS = 120
#: Names reserved at the archive's root (the manifest).
MANIFEST_NAME = "manifest.json"
_UNSAFE = set('<>:"/\\|?*') | {chr(c) for c in range(32)} | {"\x7f"}
_WINDOWS_RESERVED = (
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(1, 10)} | {f"lpt{i}" for i in range(1, 10)}
)


def check_template(template: str) -> str:
    """The template, or 400 naming what is wrong with it."""
    if not template.strip():
        raise InvalidInput("template invalid: it is empty; e.g. {row}/{column}/{name}.")
    if len(template) > MAX_TEMPLATE_CHARS:
        raise InvalidInput(f"template invalid: longer than {MAX_TEMPLATE_CHARS} characters.")
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise InvalidInput(f"template invalid: {exc} (write {{{{ and }}}} for braces).") from None
    for _, field_name, spec, conversion in parsed:
        if field_name is None:
            continue
        if field_name not in PLACEHOLDERS or spec or conversion:
            raise InvalidInput(
                f"template invalid: unknown placeholder {{{field_name}}}; use "
                + ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                + "."
            )
    return template


def safe_component(value: str) -> str:
    """One path component made safe: unsafe characters become ``_``; never empty, ``.``, ``..``."""
    text = "".join("_" if ch in _UNSAFE else ch for ch in value).strip().rstrip(". ")
    if len(text) > MAX_COMPONENT_CHARS:
        _, dot, ext = text.rpartition(".")
        keep = f".{ext}" if dot and 0 < len(ext) <= 16 else ""
        text = text[: MAX_COMPONENT_CHARS - len(keep)] + keep
    if not text or set(text) == {"."}:
        return "_"
    if text.split(".")[0].lower() in _WINDOWS_RESERVED:
        return "_" + text
    return text


def render(template: str, *, row: str, row_name: str, column: str, name: str) -> list[str]:
    """The template filled in with safe values, as path components (empty ones dropped)."""
    values = {
        "row": safe_component(row),
        "row_name": safe_component(row_name or row),
        "column": safe_component(column),
        "name": safe_component(name),
    }
    rendered = template.format(**values)
    parts = [safe_component(p) for p in rendered.replace("\\", "/").split("/") if p.strip()]
    return parts or [values["name"]]


def _numbered(component: str, n: int) -> str:
    stem, dot, ext = component.rpartition(".")
    if dot and stem:
        return f"{stem} ({n}).{ext}"
    return f"{component} ({n})"


@dataclass
class UniqueNames:
    """Hands out archive paths no earlier file or folder holds."""

    files: set[str] = field(default_factory=lambda: {MANIFEST_NAME})
    dirs: set[str] = field(default_factory=set)

    def take(self, parts: list[str]) -> str:
        path = ""
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            candidate, n = part, 0
            while True:
                full = f"{path}/{candidate}" if path else candidate
                key = full.casefold()
                clash = key in self.files or (last and key in self.dirs)
                if not clash:
                    break  # free, or an existing folder to go on inside
                n += 1
                candidate = _numbered(part, n)
            path = full
            (self.files if last else self.dirs).add(key)
        return path
