"""Seed "Update image/file cells in table" plus the row/table calls around it.

Run: <client-venv>/bin/python rows.py <server_url> <api_token>
"""

from __future__ import annotations

from _common import (
    SERVER_URL,
    auth,
    begin,
    content_for,
    is_legacy,
    png_bytes,
    write_local,
)

Base, version, ck = begin()
legacy = is_legacy(version)
base = auth(ck, Base)

COLUMNS = [
    {"column_name": "Name", "column_type": "text"},
    {"column_name": "img_col", "column_type": "image"},
    {"column_name": "file_col", "column_type": "file"},
]


def by_id(rows: list[dict], row_id: str) -> dict | None:
    return next((r for r in rows or [] if r.get("_id") == row_id), None)


def shape(table: dict) -> dict:
    return {
        "name": table.get("name"),
        "_id": table.get("_id"),
        "columns": [
            {"name": c.get("name"), "type": c.get("type"), "key": c.get("key")}
            for c in table.get("columns") or []
        ],
    }


with ck("initial_tables") as r:
    r["names"] = [t.get("name") for t in base.list_tables()]

with ck("add_table") as r:
    res = base.add_table("Table1", columns=COLUMNS)
    r["returned_keys"] = sorted(res) if isinstance(res, dict) else repr(res)
    r["table"] = shape(res) if isinstance(res, dict) else None

# Assets to put into cells.
with ck("uploads") as r:
    r["img"] = base.upload_bytes_file("cell image.png", png_bytes(1, 2), file_type="image")
    r["img2"] = base.upload_bytes_file("cell image 2.png", png_bytes(2, 1), file_type="image")
    r["file"] = base.upload_bytes_file("cell file (1).pdf", content_for("cell file"))
    r["file2"] = base.upload_bytes_file("naïve 文件.txt", content_for("cell file 2"))
up = ck.results["uploads"]

with ck("append_row") as r:
    res = base.append_row("Table1", {"Name": "first"})
    r["returned"] = res
    row_id = res["_id"]
    r["row_id"] = row_id

with ck("get_row") as r:
    row = base.get_row("Table1", row_id)
    r["row"] = row

with ck("list_rows") as r:
    r["rows"] = base.list_rows("Table1")

# Seed: insert an image into a cell in the image column named 'img_col'.
with ck("seed_image_cell") as r:
    row = base.get_row("Table1", row_id)
    img_url = up["img"]["url"]
    row["img_col"] = [img_url]
    r["update_returned"] = base.update_row("Table1", row["_id"], row)
    r["expected"] = [img_url]
    r["get_row"] = base.get_row("Table1", row_id).get("img_col")
    r["list_rows"] = (by_id(base.list_rows("Table1"), row_id) or {}).get("img_col")

# Seed: insert a file into a cell in the file column named 'file_col'.
with ck("seed_file_cell") as r:
    info_dict = up["file"]
    row["file_col"] = [info_dict]
    r["update_returned"] = base.update_row("Table1", row["_id"], row)
    r["expected"] = [info_dict]
    got = base.get_row("Table1", row_id)
    r["get_row"] = got.get("file_col")
    r["get_row_img"] = got.get("img_col")
    r["list_rows"] = (by_id(base.list_rows("Table1"), row_id) or {}).get("file_col")

# Seed: insert a file/image into a cell which already has contents.
with ck("seed_append_to_cell") as r:
    row = base.get_row("Table1", row_id)
    row["img_col"].append(up["img2"]["url"])
    row["file_col"].append(up["file2"])
    r["update_returned"] = base.update_row("Table1", row["_id"], row)
    r["expected_img"] = [up["img"]["url"], up["img2"]["url"]]
    r["expected_file"] = [up["file"], up["file2"]]
    got = base.get_row("Table1", row_id)
    r["get_row"] = {
        "img_col": got.get("img_col"),
        "file_col": got.get("file_col"),
        "Name": got.get("Name"),
    }
    listed = by_id(base.list_rows("Table1"), row_id) or {}
    r["list_rows"] = {"img_col": listed.get("img_col"), "file_col": listed.get("file_col")}

# The seed's info_dict at that point came from upload_local_file(..., file_type='image'):
# an image upload's dict (type 'image') goes into the file column (contract §6).
with ck("image_info_in_file_cell") as r:
    res = base.append_row("Table1", {"Name": "img in file col"})
    rid = res["_id"]
    info_dict = base.upload_local_file(
        write_local("a.png", png_bytes(2, 3)),
        name="my_uploaded_img.png",
        file_type="image",
        replace=True,
    )
    row = base.get_row("Table1", rid)
    row["img_col"] = [info_dict.get("url")]
    row["file_col"] = [info_dict]
    r["update_returned"] = base.update_row("Table1", row["_id"], row)
    got = base.get_row("Table1", rid)
    r["expected"] = {"img_col": [info_dict["url"]], "file_col": [info_dict]}
    r["got"] = {"img_col": got.get("img_col"), "file_col": got.get("file_col")}
    base.delete_row("Table1", rid)

# Cell values that did not come from an upload (contract §6: relative and external URLs).
with ck("other_cell_urls") as r:
    rel = up["img"]["url"][len(SERVER_URL) :]
    values = {
        "img_col": [rel, "https://seatable.io/logo.svg"],
        "file_col": [
            {
                "name": "x.pdf",
                "size": 3,
                "type": "file",
                "url": "/workspace/1/asset/00000000-0000-0000-0000-000000000000/files/x.pdf",
            }
        ],
    }
    res = base.append_row("Table1", {"Name": "other", **values})
    other_id = res["_id"]
    got = base.get_row("Table1", other_id)
    r["expected"] = values
    r["got"] = {"img_col": got.get("img_col"), "file_col": got.get("file_col")}
    base.delete_row("Table1", other_id)

with ck("batch_append_rows") as r:
    res = base.batch_append_rows(
        "Table1",
        [
            {"Name": "b1", "file_col": [up["file"]]},
            {"Name": "b2", "img_col": [up["img"]["url"]]},
            {"Name": "b3"},
        ],
    )
    r["returned"] = res
    rows = base.list_rows("Table1")
    r["names"] = [x.get("Name") for x in rows]
    ids = {x.get("Name"): x.get("_id") for x in rows}
    r["ids"] = ids
    b1 = by_id(rows, ids.get("b1")) or {}
    b2 = by_id(rows, ids.get("b2")) or {}
    r["b1_file_col"] = b1.get("file_col")
    r["b2_img_col"] = b2.get("img_col")
    r["expected_b1_file_col"] = [up["file"]]
    r["expected_b2_img_col"] = [up["img"]["url"]]
ids = ck.results["batch_append_rows"].get("ids") or {}

with ck("batch_update_rows") as r:
    res = base.batch_update_rows(
        "Table1",
        [
            {"row_id": ids["b1"], "row": {"Name": "B1", "img_col": [up["img2"]["url"]]}},
            {"row_id": ids["b2"], "row": {"Name": "B2"}},
        ],
    )
    r["returned"] = res
    got1 = base.get_row("Table1", ids["b1"])
    got2 = base.get_row("Table1", ids["b2"])
    r["b1"] = {
        "Name": got1.get("Name"),
        "img_col": got1.get("img_col"),
        "file_col": got1.get("file_col"),
    }
    r["b2"] = {"Name": got2.get("Name"), "img_col": got2.get("img_col")}
    r["expected_b1"] = {"Name": "B1", "img_col": [up["img2"]["url"]], "file_col": [up["file"]]}
    r["expected_b2"] = {"Name": "B2", "img_col": [up["img"]["url"]]}

with ck("list_rows_paging") as r:
    # rows now: first, B1, B2, b3
    r["all"] = [x.get("Name") for x in base.list_rows("Table1")]
    r["order_asc"] = [x.get("Name") for x in base.list_rows("Table1", order_by="Name")]
    r["order_desc"] = [x.get("Name") for x in base.list_rows("Table1", order_by="Name", desc=True)]
    r["start1_limit2"] = [x.get("Name") for x in base.list_rows("Table1", start=1, limit=2)]
    r["limit1"] = [x.get("Name") for x in base.list_rows("Table1", limit=1)]
    r["ordered_paged"] = [
        x.get("Name") for x in base.list_rows("Table1", order_by="Name", desc=True, start=1, limit=2)
    ]

# A new table has a "Default View"; list_rows(view_name=...) and list_views see it.
with ck("default_view") as r:
    views = base.list_views("Table1")
    r["views"] = [v.get("name") for v in views.get("views", [])]
    r["rows"] = [x.get("Name") for x in base.list_rows("Table1", view_name="Default View")]

with ck("delete_row") as r:
    r["returned"] = base.delete_row("Table1", ids["b3"])
    r["names_after"] = [x.get("Name") for x in base.list_rows("Table1")]

with ck("batch_delete_rows") as r:
    r["returned"] = base.batch_delete_rows("Table1", [ids["b1"], ids["b2"]])
    r["names_after"] = [x.get("Name") for x in base.list_rows("Table1")]

with ck("get_missing_row") as r:
    r["result"] = ck.expect_error(base.get_row, "Table1", "AAAAAAAAAAAAAAAAAAAAAA")

# A 4-character table name: the client also sends table_id=<name> (contract Q5).
with ck("task_table") as r:
    res = base.add_table(
        "Task",
        columns=[
            {"column_name": "Name", "column_type": "text"},
            {"column_name": "file_col", "column_type": "file"},
        ],
    )
    r["add_table"] = shape(res) if isinstance(res, dict) else repr(res)
    t1 = base.append_row("Task", {"Name": "t1", "file_col": [up["file"]]})["_id"]
    r["batch_append"] = base.batch_append_rows("Task", [{"Name": "t2"}, {"Name": "t3"}])
    r["list_rows"] = [x.get("Name") for x in base.list_rows("Task")]
    got = base.get_row("Task", t1)
    r["get_row"] = {"Name": got.get("Name"), "file_col": got.get("file_col")}
    r["expected_file_col"] = [up["file"]]
    r["update_row"] = base.update_row("Task", t1, {"Name": "t1b"})
    r["after_update"] = base.get_row("Task", t1).get("Name")
    ids_task = {x.get("Name"): x.get("_id") for x in base.list_rows("Task")}
    r["batch_update"] = base.batch_update_rows("Task", [{"row_id": ids_task["t2"], "row": {"Name": "t2b"}}])
    r["delete_row"] = base.delete_row("Task", t1)
    r["batch_delete"] = base.batch_delete_rows("Task", [ids_task["t3"]])
    r["final"] = [x.get("Name") for x in base.list_rows("Task")]

with ck("metadata") as r:
    md = base.get_metadata()
    r["keys"] = sorted(md)
    r["tables"] = [shape(t) for t in md.get("tables") or []]

with ck("list_tables") as r:
    r["tables"] = [shape(t) for t in base.list_tables()]

ck.emit()
