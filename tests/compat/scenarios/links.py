"""Links between rows through the official client: a link column and its mirror, every link
method the client version has, link cells in list_rows/get_row and get_linked_records.

Run: <client-venv>/bin/python links.py <server_url> <api_token>
"""

from __future__ import annotations

from _common import auth, begin
from seatable_api.constants import ColumnTypes  # type: ignore[import-not-found]

Base, version, ck = begin()
base = auth(ck, Base)


def cells(table: str, column: str) -> dict:
    """{first column value: link cell} of every row, as list_rows returns them."""
    rows = base.list_rows(table)
    first = "Name" if table == "People" else "Title"
    return {r.get(first): r.get(column) for r in rows}


def link_ids(cell: object) -> list:
    """The linked row ids of a cell: gateway [{row_id, display_value}], v1 [row_id]."""
    return [c["row_id"] if isinstance(c, dict) else c for c in cell or []]


ids: dict[str, str] = {}

with ck("setup") as r:
    base.add_table("People", columns=[{"column_name": "Name", "column_type": "text"}])
    base.add_table("Projects", columns=[{"column_name": "Title", "column_type": "text"}])
    for name in ("Alice", "Bob"):
        ids[name] = base.append_row("People", {"Name": name})["_id"]
    for title in ("A", "B", "C"):
        ids[title] = base.append_row("Projects", {"Title": title})["_id"]
    r["ids"] = ids

with ck("insert_link_column") as r:
    column = base.insert_column(
        "People", "Projects", ColumnTypes.LINK, column_data={"table": "People", "other_table": "Projects"}
    )
    r["column"] = column
    r["link_id"] = base.get_column_link_id("People", "Projects")
    r["mirror"] = next(c for c in base.list_columns("Projects") if c["type"] == "link")
    r["tables"] = {t["name"]: t["_id"] for t in base.list_tables()}
link_id = ck.results["insert_link_column"].get("link_id")
column_key = ck.results["insert_link_column"].get("column", {}).get("key")
tables = ck.results["insert_link_column"].get("tables", {})

with ck("add_link") as r:
    r["returned"] = base.add_link(link_id, "People", "Projects", ids["Alice"], ids["A"])
    r["people"] = cells("People", "Projects")
    r["projects"] = cells("Projects", "People")
    r["get_row"] = base.get_row("People", ids["Alice"]).get("Projects")

with ck("batch_add_links") as r:
    if hasattr(base, "batch_add_links"):
        r["returned"] = base.batch_add_links(
            link_id, "People", "Projects", {ids["Alice"]: [ids["B"]], ids["Bob"]: [ids["A"]]}
        )
    else:  # 2.6.11 has no batch_add_links
        r["missing"] = True
        base.add_link(link_id, "People", "Projects", ids["Alice"], ids["B"])
        base.add_link(link_id, "People", "Projects", ids["Bob"], ids["A"])
    r["people"] = {k: link_ids(v) for k, v in cells("People", "Projects").items()}

with ck("update_link") as r:
    r["returned"] = base.update_link(link_id, "People", "Projects", ids["Bob"], [ids["C"]])
    r["people"] = {k: link_ids(v) for k, v in cells("People", "Projects").items()}
    r["projects"] = {k: link_ids(v) for k, v in cells("Projects", "People").items()}

with ck("batch_update_links") as r:
    r["returned"] = base.batch_update_links(
        link_id,
        "People",
        "Projects",
        [ids["Alice"], ids["Bob"]],
        {ids["Alice"]: [ids["A"], ids["B"], ids["C"]], ids["Bob"]: [ids["B"]]},
    )
    r["people"] = {k: link_ids(v) for k, v in cells("People", "Projects").items()}

with ck("get_linked_records") as r:
    r["returned"] = base.get_linked_records(
        tables.get("People"),
        column_key,
        [{"row_id": ids["Alice"], "offset": 1, "limit": 1}, {"row_id": ids["Bob"], "offset": 0, "limit": 10}],
    )

with ck("remove_link") as r:
    r["returned"] = base.remove_link(link_id, "People", "Projects", ids["Alice"], ids["A"])
    r["again"] = base.remove_link(link_id, "People", "Projects", ids["Alice"], ids["A"])
    r["people"] = {k: link_ids(v) for k, v in cells("People", "Projects").items()}

with ck("batch_remove_links") as r:
    if hasattr(base, "batch_remove_links"):
        r["returned"] = base.batch_remove_links(
            link_id, "People", "Projects", {ids["Alice"]: [ids["B"], ids["C"]]}
        )
    else:
        r["missing"] = True
        base.remove_link(link_id, "People", "Projects", ids["Alice"], ids["B"])
        base.remove_link(link_id, "People", "Projects", ids["Alice"], ids["C"])
    r["people"] = {k: link_ids(v) for k, v in cells("People", "Projects").items()}

with ck("errors") as r:
    r["unknown_link"] = ck.expect_error(base.add_link, "zzzz", "People", "Projects", ids["Alice"], ids["A"])
    r["unknown_row"] = ck.expect_error(base.add_link, link_id, "People", "Projects", "nosuchrowid", ids["A"])
    r["row_write"] = ck.expect_error(base.update_row, "People", ids["Alice"], {"Projects": [ids["A"]]})
    r["people"] = {k: link_ids(v) for k, v in cells("People", "Projects").items()}

with ck("cascades") as r:
    base.delete_row("Projects", ids["B"])
    r["after_row_delete"] = {k: link_ids(v) for k, v in cells("People", "Projects").items()}
    base.delete_column("People", column_key)
    r["projects_columns"] = [c["name"] for c in base.list_columns("Projects")]
    r["people_columns"] = [c["name"] for c in base.list_columns("People")]

ck.emit()
