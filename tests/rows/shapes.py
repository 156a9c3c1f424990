"""Compare a response with a SeaTable capture: the same keys at every level and the same JSON
types. The captures' placeholders (``"str"``, ``"int"``, ``"bool"``, ``"list"``, ``"dict"``) stand for
any value of that type."""

from __future__ import annotations

from typing import Any

PLACEHOLDERS: dict[str, type] = {"str": str, "int": int, "bool": bool, "list": list, "dict": dict}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    return "dict"


def assert_shape(actual: Any, expected: Any, path: str = "$") -> None:
    if isinstance(expected, str) and expected in PLACEHOLDERS:
        want = PLACEHOLDERS[expected]
        ok = isinstance(actual, want) and not (want is int and isinstance(actual, bool))
        assert ok, f"{path}: expected a {expected}, got {actual!r}"
        return
    assert _json_type(actual) == _json_type(expected), f"{path}: expected {expected!r}, got {actual!r}"
    if isinstance(expected, dict):
        missing, extra = set(expected) - set(actual), set(actual) - set(expected)
        assert not missing and not extra, f"{path}: missing {sorted(missing)}, extra {sorted(extra)}"
        for key in expected:
            assert_shape(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list) and expected:
        for i, item in enumerate(actual):
            model = expected[i] if len(expected) == len(actual) else expected[0]
            assert_shape(item, model, f"{path}[{i}]")
