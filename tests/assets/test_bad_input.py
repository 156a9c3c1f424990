"""Bad input on the asset paths: the right 4xx, a clear message, and nothing left behind."""

from __future__ import annotations

import uuid

import pytest

from atoll.services.access import create_api_token, issue_ticket
from tests.assets.conftest import Env, MakeEnv
from tests.errors import error_of

BAD_PATHS = ["../x", "a/../../b", "..\\x", "a\\b", "x\x00y", "%2e%2e/x", "%252e%252e/x", "．．/x",
             "..%c0%af", "a/\x01"]
BAD_NAMES = ["../x.txt", "a/b.txt", "..", ".", "x\x00.txt", "%2e%2e", "．．", "a\\b.txt", "n" * 256,
             "é" * 128, ""]


def _assert_unchanged(env: Env, before: object, r: object) -> None:
    status = r.status_code  # type: ignore[attr-defined]
    assert 400 <= status < 500, (status, r.text)  # type: ignore[attr-defined]
    assert env.state() == before


@pytest.mark.parametrize("relative_path", [*BAD_PATHS, "/files", "\\files"])
def test_bad_relative_path(env: Env, relative_path: str) -> None:
    link = env.upload_link()
    before = env.state()
    r = env.upload("x.txt", b"x", relative_path=relative_path, link=link)
    assert r.status_code == 400  # type: ignore[attr-defined]
    _assert_unchanged(env, before, r)


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_file_name(env: Env, name: str) -> None:
    link = env.upload_link()
    before = env.state()
    r = env.upload(name, b"payload", link=link)
    _assert_unchanged(env, before, r)


def test_parent_dir_must_match_ticket(env: Env) -> None:
    link = env.upload_link()
    before = env.state()
    other = f"/asset/{uuid.uuid4()}"
    for parent in (other, link["parent_path"] + "/files", "/asset"):
        r = env.upload("x.txt", b"x", link=link, parent_dir=parent)
        assert r.status_code == 403 and error_of(r) == "Parent dir doesn't match."
        _assert_unchanged(env, before, r)
    for parent in (link["parent_path"] + "/../" + str(uuid.uuid4()), link["parent_path"] + "\\..", ""):
        r = env.upload("x.txt", b"x", link=link, parent_dir=parent)
        assert r.status_code == 400  # type: ignore[attr-defined]
        _assert_unchanged(env, before, r)


def test_missing_fields(env: Env) -> None:
    link = env.upload_link()
    before = env.state()
    r = env.client.post(link["upload_link"], files={"file": ("x.txt", b"x")})
    assert r.status_code == 400 and error_of(r) == "No parent_dir given."
    _assert_unchanged(env, before, r)
    r = env.client.post(link["upload_link"], data={"parent_dir": link["parent_path"]},
                        files={"other": ("x.txt", b"x")})
    assert r.status_code == 400 and error_of(r) == "No file in multipart form."
    _assert_unchanged(env, before, r)


@pytest.mark.parametrize("replace", ["2", "yes", "true", "", "-1"])
def test_replace_must_be_0_or_1(env: Env, replace: str) -> None:
    link = env.upload_link()
    before = env.state()
    r = env.upload("x.txt", b"x", link=link, replace=replace)
    assert r.status_code == 400 and error_of(r) == "Invalid argument replace."
    _assert_unchanged(env, before, r)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", b"hello"),
        (None, b"--b\r\n"),
        ("multipart/form-data", b"--b\r\n"),
        ("multipart/form-data; boundary=b", b"garbage without boundary"),
        ("multipart/form-data; boundary=b",
         b'--b\r\nContent-Disposition: form-data; name="file"; filename="t.txt"\r\n\r\ntruncated'),
        ("multipart/form-data; boundary=b", b'--b\r\nNo-Disposition: x\r\n\r\nv\r\n--b--\r\n'),
        ("multipart/form-data; boundary=b", b"--b\r\n" + b"X-H: " + b"v" * 10000 + b"\r\n\r\nx\r\n--b--\r\n"),
        ("multipart/form-data; boundary=b",
         b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"; '
         b"filename*=UTF-8''b.txt\r\n\r\nx\r\n--b--\r\n"),
        ("multipart/form-data; boundary=b",
         b'--b\r\nContent-Disposition: form-data; name="file"; filename="\xff\xfe.txt"\r\n\r\n'
         b"x\r\n--b--\r\n"),
    ],
)
def test_malformed_multipart(env: Env, content_type: str | None, body: bytes) -> None:
    link = env.upload_link()
    before = env.state()
    headers = {"content-type": content_type} if content_type else {}
    r = env.client.post(link["upload_link"], content=body, headers=headers)
    assert r.status_code == 400, r.text
    _assert_unchanged(env, before, r)


def test_too_many_parts(env: Env) -> None:
    link = env.upload_link()
    before = env.state()
    fields = b"".join(b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nv\r\n' for _ in range(1001))
    r = env.client.post(link["upload_link"], content=fields + b"--b--\r\n",
                        headers={"content-type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413
    _assert_unchanged(env, before, r)


def test_oversized_field(env: Env) -> None:
    link = env.upload_link()
    before = env.state()
    r = env.client.post(link["upload_link"], data={"parent_dir": "x" * (65 * 1024)},
                        files={"file": ("a.txt", b"a")})
    assert r.status_code == 413
    _assert_unchanged(env, before, r)


def test_body_over_limit_refused_before_reading(make_env: MakeEnv) -> None:
    env = make_env(max_upload_bytes=1000)
    link = env.upload_link()
    before = env.state()
    r = env.upload("big.bin", b"x" * 5000, link=link)
    assert r.status_code == 413  # type: ignore[attr-defined]
    _assert_unchanged(env, before, r)

    def chunks():  # no Content-Length: cut off while streaming
        for _ in range(10):
            yield b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.bin\"\r\n\r\n"
            yield b"y" * 900

    r = env.client.post(link["upload_link"], content=chunks(),
                        headers={"content-type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413
    _assert_unchanged(env, before, r)


def test_forged_expired_and_wrong_base_tickets(env: Env) -> None:
    link = env.upload_link()
    before = env.state()
    ticket = link["upload_link"].rsplit("/", 1)[1]
    for bad in (ticket[:-3] + "abc", "not-a-ticket", "a.b.c"):
        r = env.client.post(f"/seafhttp/upload-api/{bad}", data={"parent_dir": link["parent_path"]},
                            files={"file": ("x.txt", b"x")})
        assert r.status_code == 403 and error_of(r) == "Access token not found"
        _assert_unchanged(env, before, r)
    expired = issue_ticket("upload", env.uuid, link["parent_path"], env.ctx.secret, -30)
    r = env.client.post(f"/seafhttp/upload-api/{expired}", data={"parent_dir": link["parent_path"]},
                        files={"file": ("x.txt", b"x")})
    assert r.status_code == 403
    _assert_unchanged(env, before, r)
    # another base's ticket cannot write into this base
    other = create_api_token(env.ctx.engine, base="Other")
    other_link = env.upload_link(other.token)
    before = env.state()
    r = env.upload("x.txt", b"x", link=other_link, parent_dir=link["parent_path"])
    assert r.status_code == 403  # type: ignore[attr-defined]
    _assert_unchanged(env, before, r)


@pytest.mark.parametrize("path", BAD_PATHS)
def test_bad_download_and_delete_paths(env: Env, path: str) -> None:
    env.upload("keep.txt", b"k")
    before = env.state()
    r = env.download_link(path)
    assert r.status_code == 400, r.text  # type: ignore[attr-defined]
    r = env.client.delete("/api/v2.1/dtable/app-asset/", params={"path": path}, headers=env.auth())
    assert r.status_code == 400
    assert env.state() == before


def test_empty_download_path(env: Env) -> None:
    assert env.download_link("").status_code == 400  # type: ignore[attr-defined]
    assert env.download_link("/").status_code == 400  # type: ignore[attr-defined]


def test_a_file_of_exactly_the_limit_fits_one_byte_more_does_not(make_env: MakeEnv) -> None:
    """The limit is the file's size: a request's multipart framing does not count against it."""
    env = make_env(max_upload_bytes=5000)
    assert env.upload("exact.bin", b"x" * 5000).status_code == 200  # type: ignore[attr-defined]
    before = env.state()
    r = env.upload("over.bin", b"x" * 5001)
    assert r.status_code == 413  # type: ignore[attr-defined]
    _assert_unchanged(env, before, r)
