"""Seed "Custom folders": list, upload, file info, download, and the info dict in a file cell.

Custom sub-folders must exist before one can upload into them (contract §5.1); the test creates
``/Main`` before it runs this script. The custom root ``/`` is created by the server on demand.

Run: <client-venv>/bin/python custom.py <server_url> <api_token>
"""

from __future__ import annotations

import os

from _common import (
    WORKDIR,
    auth,
    begin,
    content_for,
    file_sha256,
    http_get,
    png_bytes,
    sha256,
    write_local,
)

Base, version, ck = begin()
base = auth(ck, Base)
sky = png_bytes(4, 4, (135, 206, 235))
sky2 = png_bytes(5, 5, (0, 0, 0))


def download_custom(path: str, tag: str) -> str:
    local_path = os.path.join(WORKDIR, "custom-dl-" + tag)
    base.download_custom_file(path, local_path)
    return file_sha256(local_path)


with ck("list_root_before") as r:
    r["listing"] = base.list_custom_assets("/")

# Upload into the custom root (custom_folder_path defaults to '/').
with ck("upload_root") as r:
    local_path = write_local("root file.txt", content_for("root file"))
    info_dict = base.upload_local_file_to_custom_folder(local_path)
    r["info"] = info_dict
    r["sha256"] = sha256(content_for("root file"))
    r["len"] = len(content_for("root file"))
    r["downloaded_sha256"] = download_custom("/root file.txt", "root")
    r["info_again"] = base.get_custom_file_info("/", info_dict["name"])

with ck("list_root") as r:
    r["listing"] = base.list_custom_assets("/")

# --- /Main/ (must pre-exist) ---------------------------------------------------------

# Seed: upload_local_file_to_custom_folder(local_path, custom_path)
with ck("upload_main") as r:
    local_path = write_local("sky.png", sky)
    custom_path = "/Main/"
    info_dict = base.upload_local_file_to_custom_folder(local_path, custom_path)
    r["info"] = info_dict
    r["sha256"] = sha256(sky)
    r["len"] = len(sky)

with ck("upload_main_again") as r:
    local_path = write_local("sky.png", sky2)
    r["info"] = base.upload_local_file_to_custom_folder(local_path, "/Main/")
    r["sha256"] = sha256(sky2)

with ck("upload_main_named") as r:
    data = content_for("my photo (1).png")
    local_path = write_local("whatever.bin", data)
    r["info"] = base.upload_local_file_to_custom_folder(local_path, "/Main/", name="ü photo (1).png")
    r["sha256"] = sha256(data)
    r["downloaded_sha256"] = download_custom("/Main/ü photo (1).png", "named")

# Seed: get_custom_file_info(path, name) -- the uuid is stable.
with ck("custom_file_info") as r:
    folder_dir = "/Main/"
    file_name = "sky.png"
    first = base.get_custom_file_info(folder_dir, file_name)
    second = base.get_custom_file_info(folder_dir, file_name)
    r["first"] = first
    r["second"] = second
    r["no_trailing_slash"] = base.get_custom_file_info("/Main", file_name)

with ck("custom_file_info_missing") as r:
    r["result"] = ck.expect_error(base.get_custom_file_info, "/Main/", "no such file.png")

# Seed: list_custom_assets
with ck("list_main") as r:
    r["main"] = base.list_custom_assets("/Main/")
    r["root"] = base.list_custom_assets("/")

# Seed: download_custom_file(custom_file_path, local_path)
with ck("download_custom") as r:
    custom_file_path = "/Main/sky.png"
    local_path = os.path.join(WORKDIR, "sky.png")
    base.download_custom_file(custom_file_path, local_path)
    r["sha256"] = file_sha256(local_path)
    r["expected_sha256"] = sha256(sky)
    r["renamed_sha256"] = download_custom("/Main/sky (1).png", "renamed")
    r["expected_renamed_sha256"] = sha256(sky2)
    link = base.get_custom_file_download_link("/Main/sky.png")
    status, body, _ = http_get(link)
    r["link"] = {"status": status, "sha256": sha256(body)}

with ck("download_custom_missing") as r:
    r["result"] = ck.expect_error(base.get_custom_file_download_link, "/Main/missing.png")

# Custom files are also reachable through the system download link (contract §4.7).
with ck("custom_via_system_link") as r:
    link = base.get_file_download_link("custom/Main/sky.png")
    status, body, _ = http_get(link)
    r["status"] = status
    r["sha256"] = sha256(body)
    r["expected_sha256"] = sha256(sky)

# Paths are joined by string concatenation: no leading "/" -> 404, "" -> 400 (contract Q15).
with ck("custom_path_quirks") as r:
    r["no_leading_slash"] = ck.expect_error(base.list_custom_assets, "Main")
    r["empty"] = ck.expect_error(base.list_custom_assets, "")
    r["missing_dir"] = ck.expect_error(base.list_custom_assets, "/Nope/")

# Uploading into a custom folder that does not exist fails (contract §5.1).
with ck("custom_upload_missing_folder") as r:
    local_path = write_local("orphan.txt", b"orphan")
    r["result"] = ck.expect_error(base.upload_local_file_to_custom_folder, local_path, "/Nope/")

# Seed: base.update_row('Table1', row_id, {"File": [info_dict]})
with ck("file_cell") as r:
    existing = [t.get("name") for t in base.list_tables()]
    if "Table1" not in existing:
        base.add_table(
            "Table1",
            columns=[
                {"column_name": "Name", "column_type": "text"},
                {"column_name": "File", "column_type": "file"},
            ],
        )
    row_id = base.append_row("Table1", {"Name": "with custom file"})["_id"]
    info_dict = base.get_custom_file_info("/Main/", "sky.png")
    r["update_returned"] = base.update_row("Table1", row_id, {"File": [info_dict]})
    r["expected"] = [info_dict]
    r["got"] = base.get_row("Table1", row_id).get("File")

ck.emit()
