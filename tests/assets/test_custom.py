"""Custom asset folders: create, list, upload, info with a stable uuid, download."""

from __future__ import annotations

import hashlib

from tests.assets.conftest import Env
from tests.errors import error_of

BASE = "/api/v2.1/dtable/custom"


def _mkdir(env: Env, path: str) -> int:
    return env.client.post(f"{BASE}/app-asset-dir/", params={"path": path}, headers=env.auth()).status_code


def _custom_upload(env: Env, folder: str, name: str, content: bytes) -> dict[str, object]:
    r = env.client.get(f"{BASE}/app-upload-link/", params={"path": folder}, headers=env.auth())
    assert r.status_code == 200, r.text
    link = r.json()
    assert set(link) == {"upload_link", "tus_link", "parent_path", "relative_path", "workspace_id",
                         "max_upload_bytes", "quota_bytes", "quota_used_bytes"}
    assert link["parent_path"] == f"/asset/{env.uuid}/custom"
    assert link["relative_path"] == folder.lstrip("/")
    up = env.client.post(link["upload_link"] + "?ret-json=1", files={"file": (name, content)},
                         data={"parent_dir": link["parent_path"], "relative_path": link["relative_path"],
                               "replace": "0"})
    assert up.status_code == 200, up.text
    return up.json()[0]  # type: ignore[no-any-return]


def test_root_lists_empty_before_anything(env: Env) -> None:
    r = env.client.get(f"{BASE}/app-asset-dir/", params={"path": "/"}, headers=env.auth())
    assert r.status_code == 200 and r.json() == {"dir": [], "file": []}


def test_custom_folder_flow(env: Env) -> None:
    assert _mkdir(env, "/Main/photos") == 200
    assert _custom_upload(env, "/Main/", "sky.png", b"blue")["name"] == "sky.png"
    assert _custom_upload(env, "/Main/", "sky.png", b"grey")["name"] == "sky (1).png"
    listing = env.client.get(f"{BASE}/app-asset-dir/", params={"path": "/Main"}, headers=env.auth()).json()
    sha = {b: hashlib.sha256(b).hexdigest() for b in (b"blue", b"grey")}
    assert listing == {"dir": [{"name": "photos"}],  # each file with atoll's size and sha256
                       "file": [{"name": "sky (1).png", "size": 4, "sha256": sha[b"grey"]},
                                {"name": "sky.png", "size": 4, "sha256": sha[b"blue"]}]}
    root = env.client.get(f"{BASE}/app-asset-dir/", params={"path": "/"}, headers=env.auth()).json()
    assert root == {"dir": [{"name": "Main"}], "file": []}

    info = env.client.get(f"{BASE}/app-asset-file/", params={"path": "/Main/", "name": "sky.png"},
                          headers=env.auth())
    assert info.status_code == 200
    dirent = info.json()["dirent"]
    assert set(dirent) == {"is_file", "obj_name", "file_size", "last_update", "uuid"}
    assert dirent["obj_name"] == "sky.png" and dirent["file_size"] == 4 and dirent["is_file"] is True
    again = env.client.get(f"{BASE}/app-asset-file/", params={"path": "/Main", "name": "sky.png"},
                           headers=env.auth()).json()["dirent"]
    assert again["uuid"] == dirent["uuid"]

    for path in ("/Main/sky.png", "Main/sky.png"):
        r = env.client.get(f"{BASE}/app-download-link", params={"path": path}, headers=env.auth())
        assert r.status_code == 200
        assert env.client.get(r.json()["download_link"]).content == b"blue"
    # custom files are reachable through the system download link too
    r = env.download_link("custom/Main/sky (1).png")
    assert env.client.get(r.json()["download_link"]).content == b"grey"


def test_custom_errors(env: Env) -> None:
    r = env.client.get(f"{BASE}/app-upload-link/", params={"path": "/Nope/"}, headers=env.auth())
    # statuses are SeaTable's; messages say what is missing as the user named it, and what to do
    assert r.status_code == 404 and error_of(r) == {"error_msg": (
        "folder /Nope does not exist; create it with `atoll mkdir /Nope` or "
        "POST /api/v2.1/dtable/custom/app-asset-dir/?path=/Nope (API token)")}
    r = env.client.get(f"{BASE}/app-asset-dir/", params={"path": "/Nope/deeper"}, headers=env.auth())
    assert r.status_code == 404 and error_of(r)["error_msg"].startswith("folder /Nope/deeper does not exist;")
    r = env.client.get(f"{BASE}/app-asset-dir/", params={"path": "Main"}, headers=env.auth())
    assert r.status_code == 404 and error_of(r) == {"error_msg": (
        "folder Main does not exist: custom folder paths start with / (try /Main)")}
    r = env.client.get(f"{BASE}/app-asset-dir/", params={"path": ""}, headers=env.auth())
    assert r.status_code == 400 and error_of(r) == {
        "error_msg": "path missing: give a custom folder path such as / or /Main"}
    r = env.client.get(f"{BASE}/app-asset-file/", params={"path": "/", "name": ""}, headers=env.auth())
    assert r.status_code == 400
    assert error_of(r) == {"error_msg": "name missing: give the file's name in the folder"}
    r = env.client.get(f"{BASE}/app-asset-file/", params={"path": "/", "name": "x.txt"}, headers=env.auth())
    assert r.status_code == 404 and error_of(r) == {"error_msg": "file x.txt does not exist in folder /"}
    r = env.client.get(f"{BASE}/app-asset-file/", params={"path": "/Main/", "name": "x.txt"},
                       headers=env.auth())
    assert r.status_code == 404 and error_of(r) == {"error_msg": "file x.txt does not exist in folder /Main"}
    r = env.client.get(f"{BASE}/app-download-link/", params={"path": "/none.txt"}, headers=env.auth())
    assert r.status_code == 400 and error_of(r) == {"error_msg": "file /none.txt does not exist"}
    r = env.client.get(f"{BASE}/app-download-link/", params={"path": "/Main/a/none.txt"}, headers=env.auth())
    assert r.status_code == 400 and error_of(r) == {"error_msg": "file /Main/a/none.txt does not exist"}
    # no internal path in any message: the system link names a custom file by its folder path
    r = env.download_link("custom/Main/none.txt")
    assert r.status_code == 400 and error_of(r) == {"error_msg": "file /Main/none.txt does not exist"}
    assert _mkdir(env, "/../x") == 400
    assert _mkdir(env, "/") == 400
