from __future__ import annotations

import doctest

import pytest

from atoll.wire import links

U = "650d8a0d-7e27-46a8-8b18-6cc6f3db2057"


def test_canonical_uuid_accepts_hex_and_uppercase() -> None:
    assert links.canonical_uuid(U.replace("-", "").upper()) == U
    with pytest.raises(ValueError):
        links.canonical_uuid("nope")


def test_asset_url_matches_official_client() -> None:
    url = links.asset_url("https://h/seatable/", workspace_id=7, dtable_uuid=U,
                          relative_path="/files/2025-08/", name="Q3 report (final) (1).pdf")
    assert url == (
        f"https://h/seatable/workspace/7/asset/{U}/files/2025-08/"
        "Q3%20report%20%28final%29%20%281%29.pdf"
    )


def test_asset_url_quotes_utf8_and_keeps_slashes_in_relative_path() -> None:
    url = links.asset_url("http://h", workspace_id="3", dtable_uuid=U, relative_path="custom/My Folder",
                          name="süß.png")
    assert url == f"http://h/workspace/3/asset/{U}/custom/My%20Folder/s%C3%BC%C3%9F.png"


@pytest.mark.parametrize(
    ("url", "path"),
    [
        (f"https://h/workspace/7/asset/{U}/files/2025-08/a%20b.txt", "files/2025-08/a b.txt"),
        (f"/workspace/7/asset-preview/{U}/images/2025-08/x.png", "images/2025-08/x.png"),
        (f"https://h/thumbnail/workspace/7/asset/{U}/images/x.png?size=256", "images/x.png"),
        (f"https://other/workspace/7/asset/{U}/custom/My%20F/x.pdf#frag", "custom/My F/x.pdf"),
        (f"https://h/workspace/7/asset/{U}/files/a%3Fb.txt?dl=1", "files/a?b.txt"),
    ],
)
def test_asset_path_from_url(url: str, path: str) -> None:
    assert links.asset_path_from_url(url, dtable_uuid=U) == path
    assert links.asset_path_from_url(url, dtable_uuid=U.replace("-", "")) == path


def test_asset_path_from_url_rejects_foreign_url() -> None:
    with pytest.raises(ValueError, match="url invalid"):
        links.asset_path_from_url("https://h/workspace/7/asset/other/x.txt", dtable_uuid=U)


def test_roundtrip() -> None:
    url = links.asset_url("http://h", workspace_id=1, dtable_uuid=U, relative_path="files/2025-08",
                          name="a #1 100%.txt")
    assert links.asset_path_from_url(url, dtable_uuid=U) == "files/2025-08/a #1 100%.txt"
    assert links.asset_name("files/2025-08/a #1 100%.txt") == "a #1 100%.txt"


def test_custom_asset_url_extension_rule() -> None:
    a = "2bbe9499-e1df-4086-bdd3-d130d6c91bd3"
    assert links.custom_asset_url(asset_uuid=a, name="b347.pdf") == f"custom-asset://{a}.pdf"
    assert links.custom_asset_url(asset_uuid=a, name="a.tar.gz") == f"custom-asset://{a}.gz"
    assert links.custom_asset_url(asset_uuid=a, name="README") == f"custom-asset://{a}.README"
    assert links.parse_custom_asset_url(f"custom-asset://{a}.pdf") == (a, "pdf")
    assert links.is_custom_asset_url(f"custom-asset://{a}.pdf")
    for bad in ("http://x", "custom-asset://nope.pdf", f"custom-asset://{a}"):
        with pytest.raises(ValueError):
            links.parse_custom_asset_url(bad)


def test_doctests() -> None:
    assert doctest.testmod(links).failed == 0
