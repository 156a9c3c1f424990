"""Archive paths: the naming template's checks, safe components, unique names."""

from __future__ import annotations

import pytest

from atoll.errors import InvalidInput
from atoll.services.zip_names import MAX_COMPONENT_CHARS, UniqueNames, check_template, render, safe_component


@pytest.mark.parametrize(("raw", "safe"), [
    ("a.txt", "a.txt"), ("a/b", "a_b"), ("..", "_"), (".", "_"), ("", "_"), ("   ", "_"),
    ("x\x00y\x1f", "x_y_"), ('a<b>c:"d|e?f*', "a_b_c__d_e_f_"), ("back\\slash", "back_slash"),
    ("CON", "_CON"), ("nul.txt", "_nul.txt"), ("trailing. ", "trailing"), ("Grüße 🙂.pdf", "Grüße 🙂.pdf"),
])  # fmt: skip
def test_safe_component(raw: str, safe: str) -> None:
    assert safe_component(raw) == safe


def test_long_component_keeps_its_extension() -> None:
    out = safe_component("x" * 500 + ".jpeg")
    assert len(out) == MAX_COMPONENT_CHARS and out.endswith(".jpeg")


@pytest.mark.parametrize("bad", ["", " ", "{size}", "{name!r}", "{name:>9}", "{row[0]}", "{", "}", "x" * 501])
def test_bad_templates(bad: str) -> None:
    with pytest.raises(InvalidInput, match="template invalid"):
        check_template(bad)


def test_render_never_climbs_or_adds_folders() -> None:
    assert render("{row}/{column}/{name}", row="r1", row_name="", column="a/b", name="../x") == [
        "r1",
        "a_b",
        ".._x",
    ]
    assert render("{row_name}/{name}", row="r1", row_name="", column="c", name="f") == ["r1", "f"]
    assert render("../{name}", row="r", row_name="", column="c", name="f") == ["_", "f"]
    assert render("//{name}//", row="r", row_name="", column="c", name="f") == ["f"]


def test_unique_names_files_and_folders() -> None:
    names = UniqueNames()
    assert names.take(["manifest.json"]) == "manifest (1).json"  # reserved for the manifest
    assert names.take(["a", "f.txt"]) == "a/f.txt"
    assert names.take(["A", "F.TXT"]) == "A/F (1).TXT"  # case-insensitive, the folder is shared
    assert names.take(["a"]) == "a (1)"  # a file cannot take a folder's name
    assert names.take(["a (1)", "g"]) == "a (1) (1)/g"  # nor a folder a file's
    assert names.take(["noext"]) == "noext"
    assert names.take(["noext"]) == "noext (1)"
