"""The name policy (docs/names.md; reliability-test-plan B2, B3): one table of names, checked
through the pure functions of ``wire.paths`` and through the real upload endpoint."""

from __future__ import annotations

import pytest

from atoll.errors import InvalidInput
from atoll.services.access import create_api_token
from atoll.wire import paths
from tests.assets.conftest import PUBLIC_URL, Env
from tests.conftest import MakeApp
from tests.errors import error_of

EMOJI = "\U0001f600"  # 4 bytes of UTF-8

#: (name, why it is refused)
REFUSED: list[tuple[str, str]] = [
    ("C:\\evil\\x.txt", "backslash"),
    ("\\\\server\\share\\x.txt", "backslash"),
    ("a\\b.txt", "backslash"),
    ("CON", "reserved"),
    ("con", "reserved"),
    ("nul.txt", "reserved"),
    ("NUL.tar.gz", "reserved"),
    ("Aux.", "reserved"),
    ("prn .txt", "reserved"),
    ("COM1", "reserved"),
    ("com9.log", "reserved"),
    ("COM\u00b9", "reserved"),
    ("LPT1", "reserved"),
    ("lpt9.txt", "reserved"),
    ("CONIN$", "reserved"),
    ("conout$.txt", "reserved"),
    ("x.", "trailing"),
    ("x...", "trailing"),
    ("x.txt ", "trailing"),
    ("   ", "blank"),
    ("\u3000", "blank"),
    ("\u200b", "blank"),
    ("\u200b \ufeff", "blank"),
    ("x\u2215..\u2215y", "look-alike"),
    ("a\u2044b", "look-alike"),
    ("a\u29f8b", "look-alike"),
    ("a\uff0fb", "look-alike"),
    ("a\uff3cb", "look-alike"),
    ("a\u2216b", "look-alike"),
    ("a\u29f5b", "look-alike"),
    ("a\u29f9b", "look-alike"),
    ("a\ufe68b", "look-alike"),
    ("a\u2571b", "look-alike"),
    ("\u202egpj.exe", "bidi"),
    ("a\u202ab", "bidi"),
    ("a\u2066b\u2069", "bidi"),
    ("n" * 256, "length"),
    ("\u00e9" * 128, "length"),
    ("a" * 252 + EMOJI, "length"),
    ("..", "dots"),
    (".", "dots"),
    ("a/b.txt", "slash"),
    ("x\x00.txt", "control"),
    ("x\x1f.txt", "control"),
]

#: (name as sent, name as stored)
ACCEPTED: list[tuple[str, str]] = [
    ("a" * 255, "a" * 255),
    ("a" * 251 + EMOJI, "a" * 251 + EMOJI),
    ("conx.txt", "conx.txt"),
    ("CONSOLE.txt", "CONSOLE.txt"),
    ("COM10.txt", "COM10.txt"),
    ("nul_.txt", "nul_.txt"),
    ("my.con", "my.con"),
    ("-leading dash.txt", "-leading dash.txt"),
    (" leading space.txt", " leading space.txt"),
    (".env", ".env"),
    ("a\u200fb.txt", "a\u200fb.txt"),  # RLM: a mark, allowed (right-to-left names need it)
    ("e\u0301.txt", "\u00e9.txt"),  # NFC
    ("Q3 report (final).pdf", "Q3 report (final).pdf"),
    (
        "\u65e5\u672c\u8a9e \u0645\u0631\u062d\u0628\u0627.txt",
        "\u65e5\u672c\u8a9e \u0645\u0631\u062d\u0628\u0627.txt",
    ),
]


@pytest.mark.parametrize(("name", "why"), REFUSED)
def test_pure_refuses(name: str, why: str) -> None:
    with pytest.raises(InvalidInput, match=r"^invalid fileName: "):
        paths.file_name(name)


@pytest.mark.parametrize(("name", "stored"), ACCEPTED)
def test_pure_accepts(name: str, stored: str) -> None:
    assert paths.file_name(name) == stored
    assert paths.file_name(stored) == stored


def test_every_listed_lookalike_and_bidi_control_is_refused() -> None:
    for char in [*paths.LOOKALIKE_SEPARATORS, *paths.BIDI_CONTROLS]:
        with pytest.raises(InvalidInput):
            paths.file_name(f"a{char}b.txt")
        with pytest.raises(InvalidInput):
            paths.rel_path(f"files/a{char}b", new=True)
    for device in paths.WINDOWS_RESERVED:
        for name in (device, device.lower(), f"{device}.txt", f"{device.lower()}.tar.gz"):
            with pytest.raises(InvalidInput, match="reserved device name"):
                paths.file_name(name)


@pytest.mark.parametrize("folder", ["files/CON", "files/x.", "a\u2215b", "\u202eabc", "files/ ", "LPT1/x"])
def test_new_folders_follow_the_policy_lookups_do_not(folder: str) -> None:
    with pytest.raises(InvalidInput):
        paths.rel_path(folder, new=True)
    assert paths.rel_path(folder) == "/" + folder  # a name stored before stays reachable


# ---------------------------------------------------------------- through the upload endpoint


@pytest.fixture
def env(make_app: MakeApp) -> Env:
    app = make_app(public_url=PUBLIC_URL)
    created = create_api_token(app.ctx.engine, base="Names")
    return Env(app.ctx, app.client, created.token, created.dtable.uuid, created.dtable.workspace_id,
               app.ctx.settings.data_dir)


def _raw_upload(env: Env, filename_param: bytes, link: dict[str, str] | None = None) -> object:
    """An upload whose Content-Disposition carries ``filename_param`` byte for byte."""
    link = link or env.upload_link()
    body = (
        b'--b\r\nContent-Disposition: form-data; name="parent_dir"\r\n\r\n'
        + link["parent_path"].encode()
        + b"\r\n"
        b'--b\r\nContent-Disposition: form-data; name="relative_path"\r\n\r\nfiles/names\r\n'
        b'--b\r\nContent-Disposition: form-data; name="file"; ' + filename_param + b"\r\n\r\n"
        b"payload\r\n--b--\r\n"
    )
    return env.client.post(
        link["upload_link"] + "?ret-json=1",
        content=body,
        headers={"content-type": "multipart/form-data; boundary=b"},
    )


@pytest.mark.parametrize(("name", "why"), REFUSED)
def test_upload_refuses(env: Env, name: str, why: str) -> None:
    if "/" in name or any(ord(c) < 0x20 for c in name):
        pytest.skip("the client percent-escapes it or cannot send it (covered by tests/assets)")
    link = env.upload_link()
    before = env.state()
    r = env.upload(name, b"payload", link=link, relative_path="files/names")
    assert r.status_code == 400, (name, r.status_code, r.text)  # type: ignore[attr-defined]
    assert r.text.startswith("invalid fileName: "), r.text  # type: ignore[attr-defined]
    assert env.state() == before


@pytest.mark.parametrize(
    "param",
    [
        b'filename="C:\\evil\\x.txt"',
        b"filename=C:\\evil\\x.txt",
        b'filename="\\\\server\\share\\x.txt"',
        b'filename="C:\\\\evil\\\\x.txt"',
        b'filename="D:\\x.txt"',
    ],
)
def test_windows_paths_are_refused_not_stripped(env: Env, param: bytes) -> None:
    link = env.upload_link()
    before = env.state()
    r = _raw_upload(env, param, link)
    assert r.status_code == 400, r.text  # type: ignore[attr-defined]
    assert error_of(r) == "invalid fileName: a backslash (\\) is not allowed in a name."
    assert env.state() == before


def test_quoted_pairs_are_not_backslashes(env: Env) -> None:
    r = _raw_upload(env, b'filename="say \\"hi\\".txt"')
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    assert r.json()[0]["name"] == 'say "hi".txt'  # type: ignore[attr-defined]


@pytest.mark.parametrize(("name", "stored"), ACCEPTED)
def test_upload_accepts_and_serves_the_same_name(env: Env, name: str, stored: str) -> None:
    r = env.upload(name, b"payload", relative_path="files/names")
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    assert r.json()[0]["name"] == stored  # type: ignore[attr-defined]
    link = env.download_link(f"files/names/{stored}")
    assert link.status_code == 200, link.text  # type: ignore[attr-defined]
    got = env.client.get(link.json()["download_link"])  # type: ignore[attr-defined]
    assert got.status_code == 200 and got.content == b"payload"


@pytest.mark.parametrize(
    "relative_path", ["files/CON", "files/x.", "files/a\u2215b", "\u202efiles", "files/ "]
)
def test_upload_refuses_new_folders_against_the_policy(env: Env, relative_path: str) -> None:
    link = env.upload_link()
    before = env.state()
    r = env.upload("ok.txt", b"x", link=link, relative_path=relative_path)
    assert r.status_code == 400, r.text  # type: ignore[attr-defined]
    assert env.state() == before


def test_custom_folders_follow_the_policy(env: Env) -> None:
    url = "/api/v2.1/dtable/custom/app-asset-dir/"
    for bad in ("/CON", "/Main/nul.txt", "/a\u2215b", "/x.", "/\u202eabc"):
        r = env.client.post(url, params={"path": bad}, headers=env.auth())
        assert r.status_code == 400, (bad, r.text)
        # a lookup of such a name is not refused as a name: it is simply not there
        assert env.client.get(url, params={"path": bad}, headers=env.auth()).status_code == 404
    assert env.client.post(url, params={"path": "/Main/2026"}, headers=env.auth()).status_code == 200
