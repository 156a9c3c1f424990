"""Download links and the file server's files URL: headers, ranges, HEAD, asset URLs."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from atoll.wire.disposition import content_disposition
from tests.assets.conftest import PUBLIC_URL, Env
from tests.errors import error_of

CONTENT = bytes(range(256)) * 64


def _link(env: Env, name: str = "data.bin", content: bytes = CONTENT) -> str:
    env.upload(name, content)
    r = env.download_link(f"files/2026-11/{name}")
    assert r.status_code == 200
    assert set(r.json()) == {"download_link"}
    return str(r.json()["download_link"])


def test_download_link_shape_and_headers(env: Env) -> None:
    link = _link(env, "Q3 report (final).pdf")
    assert link.startswith(PUBLIC_URL + "/seafhttp/files/")
    assert link.endswith("/" + quote("Q3 report (final).pdf", safe=""))
    r = env.client.get(link)
    assert r.status_code == 200 and r.content == CONTENT
    assert r.headers["content-length"] == str(len(CONTENT))
    assert r.headers["etag"] == f'"{hashlib.sha256(CONTENT).hexdigest()}"'
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == (
        "attachment; filename=\"Q3 report (final).pdf\"; filename*=UTF-8''Q3%20report%20%28final%29.pdf"
    )
    assert "sandbox" in r.headers["content-security-policy"]
    assert "content-encoding" not in r.headers


def test_raster_images_inline_html_and_svg_attachment(env: Env) -> None:
    assert env.client.get(_link(env, "p.png")).headers["content-disposition"].startswith("inline")
    assert env.client.get(_link(env, "p.png") + "?dl=1").headers["content-disposition"].startswith(
        "attachment")
    for name in ("x.html", "x.svg", "x.xml", "x.js"):
        r = env.client.get(_link(env, name, b"<script>alert(1)</script>"))
        assert r.headers["content-disposition"].startswith("attachment"), name
        assert r.headers["x-content-type-options"] == "nosniff"


def test_non_ascii_name_disposition(env: Env) -> None:
    r = env.client.get(_link(env, "résumé x.txt"))
    cd = r.headers["content-disposition"]
    assert 'filename="r_sum_ x.txt"' in cd
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9%20x.txt" in cd


def test_quote_in_name_kept_as_sent(env: Env) -> None:
    """Clients send ``"`` as ``%22`` (HTML5 form encoding); like Seafile we keep it verbatim."""
    assert env.upload('say "hi".txt', b"q").json()[0]["name"] == "say %22hi%22.txt"


def test_disposition_cannot_be_injected() -> None:
    value = content_disposition('a"b\r\nX-Evil: 1;.txt', inline=False)
    assert "\r" not in value and "\n" not in value
    assert value.startswith('attachment; filename="a_b__X-Evil: 1;.txt"; filename*=UTF-8\'\'a%22b%0D%0A')


def test_range_and_head(env: Env) -> None:
    link = _link(env)
    r = env.client.get(link, headers={"Range": "bytes=10-19"})
    assert r.status_code == 206 and r.content == CONTENT[10:20]
    assert r.headers["content-range"] == f"bytes 10-19/{len(CONTENT)}"
    r = env.client.get(link, headers={"Range": "bytes=-5"})
    assert r.status_code == 206 and r.content == CONTENT[-5:]
    r = env.client.get(link, headers={"Range": f"bytes={len(CONTENT) + 10}-"})
    assert r.status_code == 416
    r = env.client.head(link)
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-length"] == str(len(CONTENT))


def test_link_is_multi_use_and_follows_replace(env: Env) -> None:
    link = _link(env, "v.txt", b"v1")
    assert env.client.get(link).content == b"v1"
    env.upload("v.txt", b"version 2", replace="1")
    assert env.client.get(link).content == b"version 2"


def test_missing_path(env: Env) -> None:
    r = env.download_link("files/2020-01/nonexistent.txt")
    assert r.status_code == 400
    assert error_of(r) == {"error_msg": "file files/2020-01/nonexistent.txt does not exist"}


def test_forged_and_wrong_op_tickets(env: Env) -> None:
    link = _link(env)
    ticket = link.split("/seafhttp/files/")[1].split("/")[0]
    forged = ticket[:-2] + ("AA" if not ticket.endswith("AA") else "BB")
    r = env.client.get(f"/seafhttp/files/{forged}/data.bin")
    assert r.status_code == 403 and error_of(r) == "Access token not found"
    upload_ticket = env.upload_link()["upload_link"].rsplit("/", 1)[1]
    r = env.client.get(f"/seafhttp/files/{upload_ticket}/data.bin")
    assert r.status_code == 403 and error_of(r) == "Operation does not match access token."


def test_asset_url_redirects_with_token(env: Env) -> None:
    env.upload("a b.png", b"png")
    url = f"/workspace/{env.workspace_id}/asset/{env.uuid}/files/2026-11/{quote('a b.png')}"
    assert env.client.get(url, follow_redirects=False).status_code == 403
    r = env.client.get(url, headers=env.auth(), follow_redirects=False)
    assert r.status_code == 302
    assert r.headers["location"].startswith(PUBLIC_URL + "/seafhttp/files/")
    assert env.client.get(url, headers=env.auth()).content == b"png"
    access = env.client.get("/api/v2.1/dtable/app-access-token/", headers=env.auth()).json()
    r = env.client.get(url, headers={"Authorization": "Bearer " + access["access_token"]})
    assert r.content == b"png"
    assert env.client.head(url, headers=env.auth()).status_code == 200
    missing = url.replace("a%20b.png", "nope.png")
    assert env.client.head(missing, headers=env.auth()).status_code == 404


def test_public_url_not_host_header(env: Env) -> None:
    r = env.client.get("/api/v2.1/dtable/app-upload-link/",
                       headers={**env.auth(), "Host": "evil.example", "X-Forwarded-Host": "evil.example"})
    assert r.json()["upload_link"].startswith(PUBLIC_URL + "/")


def test_link_answers_are_not_cacheable(env: Env) -> None:
    env.upload("c.txt", b"c")
    assert env.client.get("/api/v2.1/dtable/app-upload-link/", headers=env.auth()).headers[
        "cache-control"] == "no-store"
    assert env.download_link("files/2026-11/c.txt").headers["cache-control"] == "no-store"
    assert env.client.get("/api/v2.1/dtable/app-access-token/", headers=env.auth()).headers[
        "cache-control"] == "no-store"


def test_logs_never_hold_tickets() -> None:
    from atoll.server.app import loggable_path

    assert loggable_path("/seafhttp/files/abc.def.ghi/x.txt") == "/seafhttp/files/<ticket>/x.txt"
    assert loggable_path("/seafhttp/upload-api/abc.def") == "/seafhttp/upload-api/<ticket>"
    assert loggable_path("/api2/ping/") == "/api2/ping/"


def test_if_none_match_gives_304(env: Env) -> None:
    link = _link(env, "e.png", b"png bytes")
    etag = env.client.get(link).headers["etag"]
    r = env.client.get(link, headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b"" and r.headers["etag"] == etag
    r = env.client.get(link, headers={"If-None-Match": '"other", ' + etag})
    assert r.status_code == 304
    r = env.client.get(link, headers={"If-None-Match": '"other"'})
    assert r.status_code == 200 and r.content == b"png bytes"


def test_if_range_with_another_etag_gets_the_whole_file(env: Env) -> None:
    """A resumed download whose file changed meanwhile must not splice two versions."""
    content = bytes(range(256)) * 64
    env.upload("r.bin", content)
    link = env.download_link("files/2026-11/r.bin").json()["download_link"]
    etag = env.client.get(link).headers["etag"]
    same = env.client.get(link, headers={"Range": "bytes=100-", "If-Range": etag})
    assert same.status_code == 206 and same.content == content[100:]
    other = env.client.get(link, headers={"Range": "bytes=100-", "If-Range": '"not-the-etag"'})
    assert other.status_code == 200 and other.content == content
