"""Issue 7: the front door (``/``, ``/favicon.ico``), unknown paths, and the browser-facing 403 of
asset URLs. In-process."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from starlette.testclient import TestClient

from atoll.server.endpoints.home import VERSION
from atoll.services.access import create_api_token
from atoll.services.context import Context
from tests.conftest import App, MakeApp
from tests.errors import error_of

PUBLIC_URL = "https://atoll.example.org"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


@pytest.fixture(scope="module")
def app(make_module_app: MakeApp) -> App:
    # The Host header is deliberately another name: URLs must come from public_url.
    return make_module_app(public_url=PUBLIC_URL, base_url="http://evil.example")


@pytest.fixture(scope="module")
def ctx(app: App) -> Context:
    return app.ctx


@pytest.fixture(scope="module")
def client(app: App) -> TestClient:
    return app.client


def assert_strict_csp(headers: dict[str, str] | object, html: str) -> None:
    csp = headers["content-security-policy"]  # type: ignore[index]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert "script-src" not in directives  # so no script runs (default-src 'none')
    assert directives["frame-ancestors"] == "'none'" and directives["form-action"] == "'none'"
    assert "unsafe-inline" not in csp and "http" not in csp
    # the one inline stylesheet is allowed by its hash, and nothing loads from elsewhere
    styles = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert len(styles) == 1
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    assert directives["style-src"] == f"'sha256-{digest}'"
    assert "<script" not in html and "http://" not in re.sub(r"<pre>.*?</pre>", "", html, flags=re.S)
    assert headers["x-content-type-options"] == "nosniff"  # type: ignore[index]


def test_front_page_is_html_with_strict_csp(client: TestClient) -> None:
    r = client.get("/", headers={"accept": BROWSER})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert_strict_csp(r.headers, r.text)
    assert "Accept" in r.headers["vary"]
    page = r.text
    assert "evil.example" not in page
    assert VERSION in page
    for text in (f'href="{PUBLIC_URL}/docs"', f'href="{PUBLIC_URL}/api/health"',
                 f'href="{PUBLIC_URL}/openapi.json"',
                 "atoll token create --base", "from seatable_api import Base",
                 f"Base(api_token, &quot;{PUBLIC_URL}&quot;)", "import atoll", 'href="/favicon.ico"'):
        assert text in page, text
    # curl and other clients without a preference get the page too
    assert client.get("/", headers={"accept": "*/*"}).headers["content-type"].startswith("text/html")
    assert client.head("/").status_code == 200


@pytest.mark.parametrize("accept", ["application/json", "application/json, text/html;q=0.5",
                                    "text/html;q=0.1, application/*"])
def test_front_page_as_json(client: TestClient, accept: str) -> None:
    r = client.get("/", headers={"accept": accept})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    info = r.json()
    assert info["name"] == "atoll" and info["version"] == VERSION
    assert info["public_url"] == PUBLIC_URL
    assert info["docs"] == f"{PUBLIC_URL}/docs" and info["openapi"] == f"{PUBLIC_URL}/openapi.json"
    assert info["health"] == f"{PUBLIC_URL}/api/health"
    assert PUBLIC_URL in info["connect"]["official_client"] and PUBLIC_URL in info["connect"]["atoll_sdk"]
    assert "evil.example" not in r.text


def test_html_wins_when_preferred(client: TestClient) -> None:
    r = client.get("/", headers={"accept": "text/html, application/json;q=0.9"})
    assert r.headers["content-type"].startswith("text/html")


def test_favicon(client: TestClient) -> None:
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml"
    assert r.content.startswith(b"<svg") and len(r.content) < 2048
    assert b"script" not in r.content and b"href" not in r.content


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/api/v2.1/", "error_msg"),
        ("/api/v2.1/nothing/here/", "error_msg"),
        ("/dtable-server/api/v1/nothing/", "error_msg"),
        ("/api-gateway/api/v2/nothing/", "error_message"),
        ("/docs/", "error_msg"),
    ],
)
def test_unknown_paths_answer_a_helpful_404(client: TestClient, path: str, key: str) -> None:
    for method in ("GET", "POST", "DELETE"):
        r = client.request(method, path)
        assert r.status_code == 404 and r.headers["content-type"] == "application/json"
        message = r.json()[key]
        assert path in message and f"{PUBLIC_URL}/docs" in message


def test_unknown_file_server_path_is_plain_text_and_long_paths_are_cut(client: TestClient) -> None:
    r = client.get("/seafhttp/nothing")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/plain")
    assert "/seafhttp/nothing" in r.text
    r = client.get("/api/v2.1/" + "x" * 5000)
    assert r.status_code == 404 and len(error_of(r)["error_msg"]) < 400


def test_known_paths_keep_their_own_404s(client: TestClient, ctx: Context) -> None:
    made = create_api_token(ctx.engine, base="Front404")
    r = client.get("/api/v2.1/dtable/app-download-link/", params={"path": "files/none.txt"},
                   headers={"Authorization": f"Token {made.token}"})
    assert r.status_code == 400 and error_of(r) == {"error_msg": "file files/none.txt does not exist"}
    assert client.post("/api2/ping/").status_code == 405  # a wrong method stays 405


def test_browser_opening_an_asset_url_gets_an_html_403(client: TestClient, ctx: Context) -> None:
    made = create_api_token(ctx.engine, base="FrontAssets")
    url = f"/workspace/{made.dtable.workspace_id}/asset/{made.dtable.uuid}/images/2026-01/a.png"
    r = client.get(url, headers={"accept": BROWSER})
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert_strict_csp(r.headers, r.text)
    assert "needs a token" in r.text and "app-download-link" in r.text
    assert made.token not in r.text and made.dtable.uuid not in r.text
    # the same with a wrong token
    r = client.get(url, headers={"accept": BROWSER, "Authorization": "Token " + "0" * 40})
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "image/avif,image/webp,*/*;q=0.8"])
def test_api_clients_keep_the_json_403(client: TestClient, ctx: Context, accept: str | None) -> None:
    made = create_api_token(ctx.engine, base="FrontAssetsJson")
    url = f"/workspace/{made.dtable.workspace_id}/asset/{made.dtable.uuid}/images/2026-01/a.png"
    headers = {"accept": accept} if accept else {}
    r = client.get(url, headers=headers)
    assert r.status_code == 403 and error_of(r) == {"error_msg": "Permission denied."}
    r = client.head(url, headers={"accept": BROWSER})
    assert r.status_code == 403 and not r.headers["content-type"].startswith("text/html")
    # with the token it still redirects (404 here: no such file)
    r = client.get(url, headers={"accept": BROWSER, "Authorization": f"Token {made.token}"},
                   follow_redirects=False)
    assert r.status_code == 404
