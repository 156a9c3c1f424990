"""The seed's detailed upload: upload link, upload-api, conflict naming, replace, listing."""

from __future__ import annotations

import hashlib
import re

from atoll.services import maintenance
from atoll.timeutil import year_month
from tests.assets.conftest import PUBLIC_URL, Env
from tests.errors import error_of


def test_upload_link_shape(env: Env) -> None:
    link = env.upload_link()
    assert set(link) == {"upload_link", "tus_link", "parent_path", "img_relative_path", "file_relative_path",
                         "workspace_id", "max_upload_bytes", "quota_bytes", "quota_used_bytes"}
    assert link["upload_link"].startswith(PUBLIC_URL + "/seafhttp/upload-api/")
    assert "?" not in link["upload_link"]
    assert link["parent_path"] == f"/asset/{env.uuid}"
    assert link["img_relative_path"] == f"images/{year_month()}"
    assert link["file_relative_path"] == f"files/{year_month()}"
    assert link["workspace_id"] == env.workspace_id


def test_upload_returns_json_list_and_stores_bytes(env: Env) -> None:
    content = b"hello atoll\n" * 1000
    r = env.upload("hello.txt", content)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    [item] = r.json()
    assert item["name"] == "hello.txt"
    assert item["size"] == len(content)
    assert re.fullmatch(r"[0-9a-f]{40}", item["id"])
    assert item["id"] == hashlib.sha256(content).hexdigest()[:40]
    link = env.download_link("files/2026-11/hello.txt").json()["download_link"]
    assert env.client.get(link).content == content


def test_without_ret_json_answers_text_ids(env: Env) -> None:
    r = env.upload("a.txt", b"a", query="")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert re.fullmatch(r"[0-9a-f]{40}", r.text)


def test_conflicts_get_seafile_names(env: Env) -> None:
    names = [env.upload("a.tar.gz", b"x").json()[0]["name"] for _ in range(3)]
    assert names == ["a.tar.gz", "a.tar (1).gz", "a.tar (2).gz"]
    assert env.upload("README", b"x").json()[0]["name"] == "README"
    assert env.upload("README", b"x").json()[0]["name"] == "README (1)"
    assert env.upload(".env", b"x").json()[0]["name"] == ".env"
    assert env.upload(".env", b"x").json()[0]["name"] == " (1).env"


def test_replace_overwrites_and_keeps_name(env: Env) -> None:
    env.upload("r.txt", b"old")
    before = env.state()
    r = env.upload("r.txt", b"new content", replace="1")
    assert r.json() == [{"name": "r.txt", "id": hashlib.sha256(b"new content").hexdigest()[:40],
                         "size": 11}]
    link = env.download_link("/files/2026-11/r.txt").json()["download_link"]
    assert env.client.get(link).content == b"new content"
    files, assets, dirs = env.state()
    assert (len(files), assets, dirs) == (len(before[0]), before[1], before[2])  # old blob gone


def test_relative_path_folders_are_created(env: Env) -> None:
    r = env.upload("deep.txt", b"d", relative_path="custom/a/b/c")
    assert r.status_code == 200
    assert env.download_link("custom/a/b/c/deep.txt").status_code == 200


def test_no_relative_path_uploads_to_parent(env: Env) -> None:
    assert env.upload("top.txt", b"t", relative_path=None).status_code == 200
    assert env.download_link("top.txt").status_code == 200


def test_several_files_in_one_request(env: Env) -> None:
    link = env.upload_link()
    r = env.client.post(
        link["upload_link"] + "?ret-json=1",
        data={"parent_dir": link["parent_path"], "relative_path": "files/x"},
        files=[("file", ("one.txt", b"1")), ("file", ("one.txt", b"22")), ("file", ("two.txt", b"333"))],
    )
    assert r.status_code == 200
    assert [(i["name"], i["size"]) for i in r.json()] == [("one.txt", 1), ("one (1).txt", 2), ("two.txt", 3)]


def test_link_is_reusable(env: Env) -> None:
    link = env.upload_link()
    assert env.upload("1.txt", b"1", link=link).status_code == 200
    assert env.upload("2.txt", b"2", link=link).status_code == 200


def test_unicode_and_quote_names_round_trip(env: Env) -> None:
    for name in ["Q3 report (final).pdf", "日本語 ファイル.txt", "a%22b.txt", "100%.txt"]:
        r = env.upload(name, name.encode())
        assert r.status_code == 200, r.text
        stored = r.json()[0]["name"]
        assert stored == name
        link = env.download_link(f"files/2026-11/{stored}").json()["download_link"]
        assert env.client.get(link).content == name.encode()


def test_empty_file(env: Env) -> None:
    r = env.upload("empty.bin", b"")
    assert r.json()[0]["size"] == 0
    link = env.download_link("files/2026-11/empty.bin").json()["download_link"]
    got = env.client.get(link)
    assert got.status_code == 200 and got.content == b""


def test_delete_asset(env: Env) -> None:
    env.upload("gone.txt", b"bye")
    r = env.client.delete("/api/v2.1/dtable/app-asset/", params={"path": "/files/2026-11/gone.txt"},
                          headers=env.auth())
    assert r.status_code == 200 and r.json() == {"success": True}
    assert env.download_link("files/2026-11/gone.txt").status_code == 400
    r = env.client.delete("/api/v2.1/dtable/app-asset/", params={"path": "/files/2026-11/gone.txt"},
                          headers=env.auth())
    assert r.status_code == 404 and error_of(r) == {"error_msg": "file files/2026-11/gone.txt does not exist"}
    files, assets, _ = env.state()
    assert assets == 0 and len(files[0]) == 1  # in the trash: the bytes stay until gc purges it
    env.client.portal.call(lambda: maintenance.collect(env.ctx, retention_s=0))  # type: ignore[union-attr]
    files, assets, _ = env.state()
    assert assets == 0 and files == (frozenset(), frozenset())  # no blob, no unfinished write
