from __future__ import annotations

import pytest

from atoll.wire import urls

U = "650d8a0d-7e27-46a8-8b18-6cc6f3db2057"


def test_canonical_uuid_accepts_hex_and_uppercase() -> None:
    assert urls.canonical_uuid(U.replace("-", "").upper()) == U
    with pytest.raises(ValueError):
        urls.canonical_uuid("nope")


def test_asset_url_matches_official_client() -> None:
    url = urls.asset_url("https://h/seatable/", 7, U, "/files/2025-08/", "Q3 report (final) (1).pdf")
    assert url == (
        f"https://h/seatable/workspace/7/asset/{U}/files/2025-08/"
        "Q3%20report%20%28final%29%20%281%29.pdf"
    )


def test_asset_url_quotes_utf8_and_keeps_slashes_in_relative_path() -> None:
    url = urls.asset_url("http://h", "3", U, "custom/My Folder", "süß.png")
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
    assert urls.asset_path_from_url(url, U) == path
    assert urls.asset_path_from_url(url, U.replace("-", "")) == path


def test_asset_path_from_url_rejects_foreign_url() -> None:
    with pytest.raises(ValueError, match="url invalid"):
        urls.asset_path_from_url("https://h/workspace/7/asset/other/x.txt", U)


def test_roundtrip() -> None:
    url = urls.asset_url("http://h", 1, U, "files/2025-08", "a #1 100%.txt")
    assert urls.asset_path_from_url(url, U) == "files/2025-08/a #1 100%.txt"
    assert urls.asset_name("files/2025-08/a #1 100%.txt") == "a #1 100%.txt"


def test_file_cell() -> None:
    assert urls.file_cell("image", 3, "a.png", "u") == {
        "type": "image", "size": 3, "name": "a.png", "url": "u"
    }


def test_custom_asset_url_extension_rule() -> None:
    a = "2bbe9499-e1df-4086-bdd3-d130d6c91bd3"
    assert urls.custom_asset_url(a, "b347.pdf") == f"custom-asset://{a}.pdf"
    assert urls.custom_asset_url(a, "a.tar.gz") == f"custom-asset://{a}.gz"
    assert urls.custom_asset_url(a, "README") == f"custom-asset://{a}.README"
    assert urls.parse_custom_asset_url(f"custom-asset://{a}.pdf") == (a, "pdf")
    assert urls.is_custom_asset_url(f"custom-asset://{a}.pdf")
    for bad in ("http://x", "custom-asset://nope.pdf", f"custom-asset://{a}"):
        with pytest.raises(ValueError):
            urls.parse_custom_asset_url(bad)
