"""Seed "files" examples: simple and detailed upload, simple and detailed download.

Run: <client-venv>/bin/python uploads.py <server_url> <api_token>
"""

from __future__ import annotations

import os

import requests
from _common import (
    API_TOKEN,
    MONTH,
    SERVER_URL,
    WORKDIR,
    asset_path,
    auth,
    begin,
    content_for,
    file_sha256,
    http_get,
    is_legacy,
    png_bytes,
    sha256,
    write_local,
)
from _names import NAMES, SPECIAL_NAMES

Base, version, ck = begin()
legacy = is_legacy(version)
base = auth(ck, Base)


def download_to(url: str, filename: str) -> str:
    """base.download_file into a file path; return the saved bytes' sha256."""
    save_path = os.path.join(WORKDIR, "dl-" + filename.replace("/", "_"))
    base.download_file(url, save_path)
    return file_sha256(save_path)


# --- simple upload ----------------------------------------------------------------------

# Seed "Upload a file from memory", example 2 (upload_bytes_file with file_type='image').
img = png_bytes(2, 2, (10, 200, 30))
with ck("bytes_image") as r:
    info_dict = base.upload_bytes_file("my_uploaded_img.png", img, file_type="image")
    r["info"] = info_dict
    r["sha256"] = sha256(img)
    r["len"] = len(img)

# Plain file upload, default file_type.
txt = content_for("my_uploaded_file.txt")
with ck("bytes_file") as r:
    info_dict = base.upload_bytes_file("my_uploaded_file.txt", txt)
    r["info"] = info_dict
    r["sha256"] = sha256(txt)
    r["len"] = len(txt)
    r["downloaded_sha256"] = download_to(info_dict["url"], "my_uploaded_file.txt")

# Seed example 1, "upload a file from website": the website is our own download link.
with ck("bytes_from_website") as r:
    file_url = base.get_file_download_link(f"files/{MONTH}/my_uploaded_file.txt")
    response = requests.get(file_url)
    r["status"] = response.status_code
    info_dict = base.upload_bytes_file("my_uploaded_file_copy.txt", response.content)
    r["info"] = info_dict
    r["sha256"] = sha256(response.content)
    r["expected_sha256"] = sha256(txt)

# Seed "Upload file by local file path": replace=True over the image uploaded above.
img2 = png_bytes(3, 1, (0, 0, 255))
with ck("local_image_replace") as r:
    local_img_file = write_local("a.png", img2)
    info_dict = base.upload_local_file(
        local_img_file, name="my_uploaded_img.png", file_type="image", replace=True
    )
    r["info"] = info_dict
    r["sha256"] = sha256(img2)
    r["len"] = len(img2)
    r["downloaded_sha256"] = download_to(info_dict["url"], "my_uploaded_img.png")

# upload_local_file with defaults (name from path, file_type default). 2.6.11 raises here.
with ck("local_defaults") as r:
    local_file = write_local("local default.txt", content_for("local default.txt"))
    r["result"] = ck.expect_error(base.upload_local_file, local_file)
    r["sha256"] = sha256(content_for("local default.txt"))

# replace=False twice: the second one is renamed "name (1).ext".
with ck("no_replace_twice") as r:
    first = base.upload_bytes_file("dup.txt", b"first version\n")
    second = base.upload_bytes_file("dup.txt", b"second version\n", replace=False)
    third = base.upload_bytes_file("dup.txt", b"third version\n")
    r["infos"] = [first, second, third]
    r["downloaded_sha256"] = [download_to(i["url"], i["name"] or "x") for i in (first, second, third)]
    r["expected_sha256"] = [
        sha256(b"first version\n"),
        sha256(b"second version\n"),
        sha256(b"third version\n"),
    ]

# Conflict naming splits at the last dot (a.tar.gz -> a.tar (1).gz), no extension -> "README (1)".
with ck("conflict_names") as r:
    names = {}
    for name in ("README", "a.tar.gz"):
        base.upload_bytes_file(name, b"one")
        names[name] = base.upload_bytes_file(name, b"two")["name"]
    r["names"] = names

# replace=True keeps the name and replaces the bytes.
with ck("replace_true") as r:
    a = base.upload_bytes_file("rep.txt", b"old bytes")
    b = base.upload_bytes_file("rep.txt", b"new bytes", replace=True)
    r["infos"] = [a, b]
    r["downloaded_sha256"] = download_to(b["url"], "rep.txt")
    r["expected_sha256"] = sha256(b"new bytes")

# --- names with spaces, parentheses, unicode: simple and detailed download ---------------


def name_round_trip(name: str) -> dict:
    data = content_for(name)
    info = base.upload_bytes_file(name, data)
    out = {"info": info, "sha256": sha256(data), "len": len(data)}
    out["download_file_sha256"] = download_to(info["url"], name)
    link = base.get_file_download_link(f"files/{MONTH}/{name}")
    out["download_link"] = link
    status, body, headers = http_get(link)
    out["link_status"] = status
    out["link_sha256"] = sha256(body)
    out["link_headers"] = {k.lower(): v for k, v in headers.items()}
    return out


for group, names in (("names", NAMES), ("names_special", SPECIAL_NAMES)):
    for name in names:
        with ck(f"{group}:{name}") as r:
            r.update(name_round_trip(name))

# --- simple download: save_path as the seed shows it (a directory) --------------------------
with ck("download_to_dir") as r:
    save_dir = os.path.join(WORKDIR, "files") + "/"
    os.makedirs(save_dir, exist_ok=True)
    url = ck.results["bytes_file"]["info"]["url"]
    r["result"] = ck.expect_error(base.download_file, url, save_dir)
    r["dir_listing"] = sorted(os.listdir(save_dir))

# --- detailed upload, exactly as the seed ------------------------------------------------

with ck("upload_link") as r:
    upload_link_dict = base.get_file_upload_link()
    r["dict"] = upload_link_dict


def detailed_upload(name: str, data: bytes, replace: int, relative_path: str | None) -> dict:
    path = write_local(name, data)
    upload_link_dict = base.get_file_upload_link()
    parent_dir = upload_link_dict["parent_path"]
    upload_link = upload_link_dict["upload_link"] + "?ret-json=1"
    form = {"parent_dir": parent_dir, "replace": 1 if replace else 0}
    if relative_path is not None:
        form["relative_path"] = relative_path
    response = requests.post(upload_link, data=form, files={"file": (name, open(path, "rb"))})  # noqa: SIM115 - as in the seed
    out = {"status": response.status_code, "content_type": response.headers.get("content-type")}
    try:
        out["json"] = response.json()
    except ValueError:
        out["text"] = response.text[:500]
    out["parent_dir"] = parent_dir
    out["sha256"] = sha256(data)
    out["len"] = len(data)
    return out


# Without relative_path: the file lands directly in parent_dir (/asset/<uuid>/<name>).
with ck("detailed_no_relative_path") as r:
    r.update(detailed_upload("file_uploaded.txt", content_for("detailed-1"), 1, None))
    name = r["json"][0]["name"]
    link = base.get_file_download_link(name)
    status, body, _ = http_get(link)
    r["download"] = {"status": status, "sha256": sha256(body)}

# With relative_path in the contract's form (files/YYYY-MM).
with ck("detailed_relative_path") as r:
    rel = (ck.results.get("upload_link", {}).get("dict") or {}).get("file_relative_path") or (
        f"files/{MONTH}"
    )
    r["relative_path"] = rel
    r.update(detailed_upload("file uploaded (2).txt", content_for("detailed-2"), 1, rel))
    name = r["json"][0]["name"]
    link = base.get_file_download_link(f"{rel}/{name}")
    status, body, _ = http_get(link)
    r["download"] = {"status": status, "sha256": sha256(body)}
    # The URL a user would build for a cell, resolved by download_file.
    from urllib.parse import quote
    from uuid import UUID

    cell_url = (
        f"{SERVER_URL}/workspace/{base.workspace_id}/asset/{UUID(base.dtable_uuid)}/"
        f"{quote(rel)}/{quote(name)}"
    )
    r["download_file_sha256"] = download_to(cell_url, "detailed-2")

# replace=1 twice keeps the name; replace=0 renames.
with ck("detailed_replace") as r:
    rel = f"files/{MONTH}"
    one = detailed_upload("detailed_rep.txt", b"v1", 1, rel)
    two = detailed_upload("detailed_rep.txt", b"v2", 1, rel)
    three = detailed_upload("detailed_rep.txt", b"v3", 0, rel)
    r["names"] = [x.get("json", [{}])[0].get("name") for x in (one, two, three)]
    r["statuses"] = [x["status"] for x in (one, two, three)]
    _, body, _ = http_get(base.get_file_download_link(f"{rel}/detailed_rep.txt"))
    r["replaced_sha256"] = sha256(body)
    r["expected_sha256"] = sha256(b"v2")

# Without ret-json the file server answers the ids as text (contract §4.3 step 7).
with ck("detailed_no_ret_json") as r:
    d = base.get_file_upload_link()
    resp = requests.post(
        d["upload_link"],
        data={"parent_dir": d["parent_path"], "relative_path": f"files/{MONTH}", "replace": 1},
        files={"file": ("no-ret-json.txt", b"plain ids")},
    )
    r["status"] = resp.status_code
    r["text"] = resp.text

# File-server errors for malformed uploads (contract §4.3 steps 1-5).
with ck("detailed_errors") as r:
    d = base.get_file_upload_link()
    link = d["upload_link"] + "?ret-json=1"
    parent = d["parent_path"]
    f = {"file": ("bad.txt", b"bad")}

    def post(url: str, form: dict, files: dict | None = f) -> int:
        return requests.post(url, data=form, files=files).status_code

    r["parent_dir_mismatch"] = post(link, {"parent_dir": parent + "-other", "replace": 0})
    r["no_parent_dir"] = post(link, {"replace": 0})
    r["relative_path_leading_slash"] = post(
        link, {"parent_dir": parent, "relative_path": "/files/x", "replace": 0}
    )
    r["relative_path_dotdot"] = post(
        link, {"parent_dir": parent, "relative_path": "files/../../x", "replace": 0}
    )
    r["bad_replace"] = post(link, {"parent_dir": parent, "replace": 7})
    r["no_file"] = post(link, {"parent_dir": parent, "replace": 0}, files={"other": ("x", b"x")})
    bad_ticket = d["upload_link"].rstrip("/").rsplit("/", 1)[0] + "/" + "0" * 36 + "?ret-json=1"
    r["unknown_ticket"] = post(bad_ticket, {"parent_dir": parent, "replace": 0})
    listing_link = base.get_file_download_link(f"files/{MONTH}/my_uploaded_file.txt")
    r["download_unknown_ticket"] = http_get(listing_link.rsplit("/", 2)[0] + "/" + "0" * 36 + "/x.txt")[0]

# A larger file through upload_local_file / download_file (whole body in memory, timeout=30).
with ck("large_file") as r:
    big = os.urandom(8 * 1024 * 1024 + 3)
    path = write_local("big file.bin", big)
    info = base.upload_local_file(path, file_type="file")
    r["info"] = info
    r["len"] = len(big)
    r["sha256"] = sha256(big)
    r["downloaded_sha256"] = download_to(info["url"], "big file.bin")

# Download link response: length, ranges.
with ck("download_headers") as r:
    data = content_for("my_uploaded_file.txt")
    link = base.get_file_download_link(f"files/{MONTH}/my_uploaded_file.txt")
    resp = requests.get(link)
    r["status"] = resp.status_code
    r["content_length"] = resp.headers.get("content-length")
    r["content_disposition"] = resp.headers.get("content-disposition")
    r["expected_length"] = len(data)
    part = requests.get(link, headers={"Range": "bytes=2-5"})
    r["range_status"] = part.status_code
    r["range_ok"] = part.content == data[2:6]
    r["content_range"] = part.headers.get("content-range")

# --- caller-chosen relative_path (2.6.11 sends it; 4.0.0 ignores the argument) ------------
with ck("relative_path_argument") as r:
    data = content_for("old-client.txt")
    info = base.upload_bytes_file("old-client.txt", data, relative_path="files/2020-01")
    r["info"] = info
    r["sha256"] = sha256(data)
    r["downloaded_sha256"] = download_to(info["url"], "old-client.txt")
    r["asset_path"] = asset_path(base, info["url"])

if legacy:
    # 2.6.11 only: an arbitrary relative path (contract Q4).
    with ck("relative_path_custom") as r:
        data = content_for("legacy-custom.bin")
        info = base.upload_bytes_file("legacy.bin", data, relative_path="/custom/legacy/")
        r["info"] = info
        r["sha256"] = sha256(data)
        r["downloaded_sha256"] = download_to(info["url"], "legacy.bin")

# Download links are multi-use (contract Q13).
with ck("download_link_reuse") as r:
    link = base.get_file_download_link(f"files/{MONTH}/my_uploaded_file.txt")
    r["statuses"] = [http_get(link)[0] for _ in range(2)]

# The download-link path may start with "/" (contract §4.5).
with ck("download_link_leading_slash") as r:
    link = base.get_file_download_link(f"/files/{MONTH}/my_uploaded_file.txt")
    status, body, _ = http_get(link)
    r["status"] = status
    r["sha256"] = sha256(body)
    r["expected_sha256"] = sha256(txt)

# Missing asset: the client raises (no 200 from the download link endpoint).
with ck("download_missing") as r:
    r["result"] = ck.expect_error(base.get_file_download_link, f"files/{MONTH}/no-such-file.txt")

ck.results["api_token_len"] = len(API_TOKEN)
ck.emit()
