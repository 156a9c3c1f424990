"""The path and name grammar: canonical forms, Seafile's conflict names, traversal refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atoll.errors import InvalidInput
from atoll.wire import paths

TRAVERSAL = [
    "..", "../x", "a/../../b", "a/..", "..\\x", "a\\b", "%2e%2e", "%2e%2e/x", "%252e%252e",
    "%25252e%25252e", "..%c0%af", "%c0%ae%c0%ae", "．．", "．．/x", "a/．．/b", "x\x00y", "x%00y",
    "a/\x01b", "a/%2fb", "a/%5cb",
]


@pytest.mark.parametrize("raw", TRAVERSAL)
def test_rel_path_refuses_traversal(raw: str) -> None:
    with pytest.raises(InvalidInput):
        paths.rel_path(raw)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [("", "/"), ("/", "/"), ("files/2025-08", "/files/2025-08"), ("/files//2025-08/", "/files/2025-08"),
     ("Main/", "/Main"), ("a b/(1)", "/a b/(1)"), ("100%.txt", "/100%.txt"), ("a∕b", "/a∕b")],
)
def test_rel_path_canonical(raw: str, canonical: str) -> None:
    assert paths.rel_path(raw) == canonical


def test_relative_path_must_not_be_absolute() -> None:
    with pytest.raises(InvalidInput):
        paths.rel_path("/files", allow_absolute=False)
    assert paths.rel_path("files", allow_absolute=False) == "/files"


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a\\b", "x\x00", "\x7f", "．．", "%2e%2e",
                                  "a" * 256, "é" * 128])
def test_bad_file_names(name: str) -> None:
    with pytest.raises(InvalidInput):
        paths.file_name(name)


def test_name_length_boundary() -> None:
    assert paths.file_name("a" * 255) == "a" * 255
    emoji = "😀"  # 4 bytes
    assert paths.file_name("a" * 251 + emoji) == "a" * 251 + emoji
    with pytest.raises(InvalidInput):
        paths.file_name("a" * 252 + emoji)


def test_names_are_nfc() -> None:
    assert paths.file_name("e\u0301.txt") == "\u00e9.txt"


@pytest.mark.parametrize(
    ("name", "n", "expected"),
    [("file.txt", 1, "file (1).txt"), ("a.tar.gz", 2, "a.tar (2).gz"), ("README", 1, "README (1)"),
     (".env", 1, " (1).env"), ("Q3 report (final).pdf", 1, "Q3 report (final) (1).pdf")],
)
def test_duplicate_name(name: str, n: int, expected: str) -> None:
    assert paths.duplicate_name(name, n) == expected


def test_split_and_join() -> None:
    assert paths.split("/a/b/c.txt") == ("/a/b", "c.txt")
    assert paths.split("/c.txt") == ("/", "c.txt")
    assert paths.join("/custom", "/Main/") == "/custom/Main"
    assert paths.join("/", "") == "/"


# ---------------------------------------------------------------- properties (B8)

_ALPHABET = st.sampled_from([*"ab./\\%2eEfF0c1\x00\x01 ．／∕、…é", "%2e", "%2f", "%5c", "..", "%25"])
_PATHS = st.lists(_ALPHABET, max_size=30).map("".join)


@settings(max_examples=3000, deadline=None)
@given(_PATHS)
def test_rel_path_output_is_safe_and_idempotent(raw: str) -> None:
    try:
        out = paths.rel_path(raw)
    except InvalidInput:
        return
    assert out.startswith("/")
    segments = out.split("/")[1:] if out != "/" else []
    for seg in segments:
        assert seg not in ("", ".", "..")
        assert "\\" not in seg and "\x00" not in seg
    assert paths.rel_path(out) == out
    assert paths.is_under(paths.join("/custom", out), "/custom")


@settings(max_examples=3000, deadline=None)
@given(st.text(max_size=300))
def test_file_name_output_is_safe(raw: str) -> None:
    try:
        name = paths.file_name(raw)
    except InvalidInput:
        return
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert name not in (".", "..") and len(name.encode()) <= paths.MAX_NAME_BYTES
    assert paths.file_name(name) == name
