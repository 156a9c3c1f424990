"""JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1) from Python type hints.

The wire functions are typed to return the TypedDicts of ``wire/shapes.py``; this turns those
same types into schemas, so the OpenAPI document (``server/openapi.py``) and the code cannot
drift apart. Supported: ``str``, ``int``, ``float``, ``bool``, ``None``, ``Any``, ``Literal``,
unions, ``list``/``Sequence``, ``dict[str, X]``, ``Annotated[X, "description"]`` and TypedDicts
(named, emitted once under ``components/schemas`` and referenced). A TypedDict is closed
(``additionalProperties: false``) unless decorated with ``open_shape``: rows, whose keys are the
base's own column names, and documents stored verbatim.

Python 3.11 does not see ``NotRequired``/``Required`` in string annotations
(``from __future__ import annotations``) when it computes ``__required_keys__``; the markers
are read again from the resolved hints here.
"""

from __future__ import annotations

import collections.abc
import types
import typing
from typing import Any, TypeVar, get_args, get_origin

T = TypeVar("T")

_OPEN_ATTR = "__atoll_open__"
REF_PREFIX = "#/components/schemas/"


def open_shape(cls: T) -> T:
    """Mark a TypedDict as open: keys beyond the declared ones may appear (any value)."""
    setattr(cls, _OPEN_ATTR, True)
    return cls


def describe(cls: type) -> str:
    """A TypedDict's docstring as one paragraph (empty for the default one)."""
    doc = cls.__doc__ or ""
    if doc.startswith(cls.__name__ + "("):  # typing's generated docstring
        return ""
    return " ".join(doc.split())


class SchemaBuilder:
    """Collects named schemas in ``components`` while turning types into schemas."""

    def __init__(self) -> None:
        self.components: dict[str, dict[str, Any]] = {}

    def schema(self, tp: Any) -> dict[str, Any]:
        if tp is Any or tp is object:
            return {}
        if tp is None or tp is type(None):
            return {"type": "null"}
        if tp is bool:
            return {"type": "boolean"}
        if tp is int:
            return {"type": "integer"}
        if tp is float:
            return {"type": "number"}
        if tp is str:
            return {"type": "string"}
        if typing.is_typeddict(tp):
            return self._named(tp)
        origin = get_origin(tp)
        args = get_args(tp)
        if origin is typing.Annotated:
            inner = self.schema(args[0])
            notes = [a for a in args[1:] if isinstance(a, str)]
            if notes:
                # A $ref with siblings is fine in 2020-12; the note describes this use.
                inner = {**inner, "description": " ".join(notes)}
            return inner
        if origin is typing.Literal:
            if len(args) == 1:
                return {"const": args[0]}
            return {"enum": list(args)}
        if origin is typing.Union or origin is types.UnionType:
            return {"anyOf": [self.schema(a) for a in args]}
        if origin in (list, collections.abc.Sequence):
            return {"type": "array", "items": self.schema(args[0]) if args else {}}
        if origin in (dict, collections.abc.Mapping):
            value = self.schema(args[1]) if len(args) == 2 else {}
            return {"type": "object", "additionalProperties": value}
        if tp is list:
            return {"type": "array"}
        if tp is dict:
            return {"type": "object"}
        raise TypeError(f"no JSON Schema for {tp!r}")

    def _named(self, cls: Any) -> dict[str, Any]:
        name = cls.__name__
        ref = {"$ref": REF_PREFIX + name}
        if name in self.components:
            return ref
        self.components[name] = {}  # placeholder: recursive shapes end here
        hints = typing.get_type_hints(cls, include_extras=True)
        props: dict[str, Any] = {}
        required_keys = set(cls.__required_keys__)
        for key, hint in hints.items():
            # Python 3.11 misses NotRequired/Required in string annotations: look again.
            marker = get_origin(hint)
            if marker is typing.NotRequired:
                required_keys.discard(key)
            elif marker is typing.Required:
                required_keys.add(key)
            props[key] = self.schema(_strip_required(hint))
        out: dict[str, Any] = {"type": "object", "properties": props}
        required = sorted(required_keys)
        if required:
            out["required"] = required
        out["additionalProperties"] = bool(getattr(cls, _OPEN_ATTR, False))
        text = describe(cls)
        if text:
            out["description"] = text
        self.components[name] = out
        return ref


def _strip_required(hint: Any) -> Any:
    origin = get_origin(hint)
    if origin is typing.NotRequired or origin is typing.Required:
        return _strip_required(get_args(hint)[0])
    if origin is typing.Annotated:
        args = get_args(hint)
        inner = _strip_required(args[0])
        if inner is not args[0]:
            return typing.Annotated[inner, *args[1:]]
    return hint
