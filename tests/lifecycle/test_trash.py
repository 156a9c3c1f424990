"""DELETE moves an asset to the trash; list and restore it over HTTP (byte-identical, conflict
names); bad input and read-only tokens are refused."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from atoll.db import schema
from tests.lifecycle.conftest import Life, file_cell, readonly_token, sha

APP_ASSET = "/api/v2.1/dtable/app-asset/"
TRASH = "/api/v2.1/dtable/app-asset-trash/"
REFS = "/api/v2.1/dtable/app-asset-refs/"
CUSTOM_FILE = "/api/v2.1/dtable/custom/app-asset-file/"
A = "files/2026-11/a.bin"
CONTENT = bytes(range(256)) * 300 + b"tail"


def _delete(life: Life, path: str, token: str | None = None) -> Any:
    return life.env.client.delete(APP_ASSET, params={"path": path}, headers=life.env.auth(token))


def _trash(life: Life, token: str | None = None, **params: Any) -> Any:
    got = life.env.client.get(TRASH, params=params, headers=life.env.auth(token))
    assert got.status_code == 200, got.text
    return got.json()


def _restore(life: Life, token: str | None = None, **params: Any) -> Any:
    return life.env.client.post(TRASH, params=params, headers=life.env.auth(token))


def _count(life: Life, table: Any) -> int:
    with life.ctx.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_delete_trash_restore_byte_identical(life: Life) -> None:
    life.upload("a.bin", CONTENT)
    uuid = life.asset_uuid(A)
    assert _delete(life, A).json() == {"success": True}
    assert life.env.download_link(A).status_code in (400, 404)  # no lookup finds it any more
    assert _delete(life, A).status_code == 404
    [entry] = _trash(life)["trash"]
    assert (entry["path"], entry["name"], entry["size"], entry["sha256"]) == (
        A,
        "a.bin",
        len(CONTENT),
        sha(CONTENT),
    )
    assert entry["deleted_by"] and entry["uuid"] == uuid and entry["purge_after"] > entry["deleted_at"]
    got = _restore(life, id=str(entry["id"]))
    assert got.status_code == 200, got.text
    assert got.json() == {"success": True, "path": A, "name": "a.bin", "renamed": False}
    assert life.download(A) == CONTENT and life.asset_uuid(A) == uuid  # same bytes, same uuid
    assert _trash(life)["trash"] == [] and _count(life, schema.asset_trash) == 0
    assert _restore(life, id=str(entry["id"])).status_code == 404  # restored once


def test_restore_under_a_conflict_name(life: Life) -> None:
    url = life.upload("a.bin", CONTENT)
    uuid = life.asset_uuid(A)
    [row] = life.append({"F": [file_cell(f"custom-asset://{uuid}.bin")], "P": [url]})
    _delete(life, A)
    refs = life.env.client.get(REFS, params={"path": A}, headers=life.env.auth()).json()
    assert refs["trashed"] is True and refs["total"] == 2  # a trashed file's users are still named
    life.upload("a.bin", b"a new file at the old path")
    got = _restore(life, path=A)
    assert got.status_code == 200, got.text
    assert got.json() == {
        "success": True,
        "path": "files/2026-11/a (1).bin",
        "name": "a (1).bin",
        "renamed": True,
    }
    assert life.download("files/2026-11/a (1).bin") == CONTENT
    assert life.download(A) == b"a new file at the old path"
    assert life.uses("files/2026-11/a (1).bin") == {("T", row, "F")}  # custom-asset:// follows the uuid


def test_custom_folder_delete_goes_to_trash(life: Life) -> None:
    env = life.env
    assert env.client.post("/api/v2.1/dtable/custom/app-asset-dir/", params={"path": "/Main"},
                           headers=env.auth()).status_code == 200  # fmt: skip
    link = env.client.get("/api/v2.1/dtable/custom/app-upload-link/", params={"path": "/Main"},
                          headers=env.auth()).json()  # fmt: skip
    form = {"parent_dir": link["parent_path"], "relative_path": link["relative_path"]}
    up = env.client.post(link["upload_link"] + "?ret-json=1", data=form, files={"file": ("n.txt", b"notes")})
    assert up.status_code == 200, up.text
    gone = env.client.delete(CUSTOM_FILE, params={"path": "/Main", "name": "n.txt"}, headers=env.auth())
    assert gone.status_code == 200, gone.text
    assert env.client.get(CUSTOM_FILE, params={"path": "/Main", "name": "n.txt"},
                          headers=env.auth()).status_code == 404  # fmt: skip
    [entry] = _trash(life)["trash"]
    assert entry["path"] == "custom/Main/n.txt"
    assert _restore(life, path="/custom/Main/n.txt").status_code == 200
    assert life.download("custom/Main/n.txt") == b"notes"


def test_trash_pages(life: Life) -> None:
    for i in range(3):
        life.upload(f"f{i}.txt", b"x")
        _delete(life, f"files/2026-11/f{i}.txt")
    first = _trash(life)
    assert [e["name"] for e in first["trash"]] == ["f0.txt", "f1.txt", "f2.txt"] and first[
        "next_after"
    ] is None
    assert [e["name"] for e in _trash(life, after=str(first["trash"][0]["id"]))["trash"]] == [
        "f1.txt",
        "f2.txt",
    ]


def test_bad_input_and_permissions(life: Life) -> None:
    life.upload("a.bin", CONTENT)
    ro = readonly_token(life.env)
    assert _delete(life, A, ro).status_code == 403
    assert life.download(A) == CONTENT  # the read-only token changed nothing
    assert _delete(life, A).status_code == 200
    [entry] = _trash(life, ro)["trash"]  # reading the trash is allowed
    assert _restore(life, ro, id=str(entry["id"])).status_code == 403
    assert _restore(life).status_code == 400  # neither id nor path
    assert _restore(life, id="abc").status_code == 400
    assert _restore(life, id="99999999").status_code == 404
    assert _restore(life, path="files/2026-11/never.txt").status_code == 404
    assert _restore(life, path="files/../../x").status_code == 400
    assert life.env.client.get(TRASH, params={"after": "-1"}, headers=life.env.auth()).status_code == 400
    assert _delete(life, "files/2026-11/never.txt").status_code == 404
    assert _count(life, schema.asset_trash) == 1 and _count(life, schema.assets) == 0  # nothing left behind


def test_other_base_cannot_restore(life: Life) -> None:
    from atoll.services.access import create_api_token

    life.upload("a.bin", CONTENT)
    _delete(life, A)
    [entry] = _trash(life)["trash"]
    other = create_api_token(life.ctx.engine, base="Other").token
    assert _trash(life, other)["trash"] == []
    assert _restore(life, other, id=str(entry["id"])).status_code == 404
    assert _count(life, schema.asset_trash) == 1
