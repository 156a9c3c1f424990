"""UrlRewriter: asset URLs of the source base move to the new server and base; others stay."""

from __future__ import annotations

from atoll.services.archive_io.urls import UrlRewriter

OLD = "11111111-1111-4111-8111-111111111111"
NEW = "22222222-2222-4222-8222-222222222222"


def _rewriter(old_server: str) -> UrlRewriter:
    mapping = {"33333333-3333-4333-8333-333333333333": "44444444-4444-4444-8444-444444444444"}
    return UrlRewriter(old_server, 7, OLD, "https://new.example", 9, NEW, mapping.get)


def test_system_thumbnail_custom_and_foreign_urls() -> None:
    r = _rewriter("http://old.example")
    assert r.url(f"http://old.example/workspace/7/asset/{OLD}/files/a%20b.txt") == (
        f"https://new.example/workspace/9/asset/{NEW}/files/a%20b.txt"
    )
    assert r.url(f"http://old.example/thumbnail/workspace/7/asset/{OLD}/images/x.png?size=256") == (
        f"https://new.example/thumbnail/workspace/9/asset/{NEW}/images/x.png?size=256"
    )
    assert r.url("custom-asset://33333333-3333-4333-8333-333333333333.md") == (
        "custom-asset://44444444-4444-4444-8444-444444444444.md"
    )
    for kept in (
        "custom-asset://55555555-5555-4555-8555-555555555555.md",
        "https://elsewhere.example/x.png",
        f"http://old.example/workspace/7/asset/{NEW}/files/other-base.txt",
    ):
        assert r.url(kept) == kept
    # another host naming the same base: the base part moves, the host stays
    assert r.url(f"https://cdn.example/workspace/7/asset/{OLD}/f.txt") == (
        f"https://cdn.example/workspace/9/asset/{NEW}/f.txt"
    )


def test_without_the_source_server_only_the_base_part_moves() -> None:
    r = _rewriter("")
    assert r.url(f"http://old.example/workspace/7/asset/{OLD}/f.txt") == (
        f"http://old.example/workspace/9/asset/{NEW}/f.txt"
    )


def test_cells() -> None:
    r = _rewriter("http://old.example")
    url = f"http://old.example/workspace/7/asset/{OLD}/images/p.png"
    new = f"https://new.example/workspace/9/asset/{NEW}/images/p.png"
    assert r.cell("image", [url, 3]) == [new, 3]
    assert r.cell("file", [{"name": "p", "url": url}, "odd"]) == [{"name": "p", "url": new}, "odd"]
    assert r.cell("long-text", {"text": f"![]({url})", "images": [url]}) == {
        "text": f"![]({new})",
        "images": [new],
    }
    assert r.cell("text", url) == url  # other columns are left alone
