"""filter_rows (the view filters' evaluator: SeaTable's predicates per column type) and the
QuerySet ``filter`` (client-side over list_rows) through the official client.

Run: <client-venv>/bin/python filters.py <server_url> <api_token>
"""

from __future__ import annotations

from typing import Any

from _common import auth, begin

Base, version, ck = begin()
base = auth(ck, Base)

COLUMNS = [
    {"column_name": "Name", "column_type": "text"},
    {"column_name": "Price", "column_type": "number"},
    {
        "column_name": "Status",
        "column_type": "single-select",
        "column_data": {
            "options": [
                {"id": "o1", "name": "open", "color": "#fff"},
                {"id": "o2", "name": "closed", "color": "#000"},
            ]
        },
    },
    {"column_name": "Day", "column_type": "date", "column_data": {"format": "YYYY-MM-DD HH:mm"}},
    {"column_name": "Done", "column_type": "checkbox"},
]
ROWS = [
    {"Name": "apple", "Price": 3, "Status": "open", "Day": "2024-01-05 10:30", "Done": True},
    {"Name": "banana", "Price": 1.5, "Status": "closed", "Day": "2024-02-10"},
    {"Name": "cherry", "Price": 10, "Status": "open", "Done": False},
    {"Name": "12"},
]


def f(column: str, predicate: str, term: Any = None, **more: Any) -> dict[str, Any]:
    return {"column_name": column, "filter_predicate": predicate, "filter_term": term, **more}


def names(rows: list[dict[str, Any]]) -> list[Any]:
    return [x.get("Name") for x in rows]


with ck("setup") as r:
    base.add_table("F", columns=COLUMNS)
    base.batch_append_rows("F", ROWS)
    r["names"] = names(base.list_rows("F"))

with ck("filter_rows") as r:
    r["by_option_name"] = names(base.filter_rows("F", [f("Status", "is", "open")]))
    r["by_option_id"] = names(base.filter_rows("F", [f("Status", "is", "o1")]))
    r["day"] = names(base.filter_rows("F", [f("Day", "is", "2024-01-05", filter_term_modifier="exact_date")]))
    r["unchecked"] = names(base.filter_rows("F", [f("Done", "is", False)]))
    r["either"] = names(
        base.filter_rows("F", [f("Price", ">", 5), f("Name", "contains", "BAN")], filter_conjunction="Or")
    )
    r["number_text_cell"] = names(base.filter_rows("F", [f("Name", "is", "12")]))

with ck("filter_rows_refused") as r:
    r["text_less_than"] = ck.expect_error(base.filter_rows, "F", [f("Name", "<", "2")])
    r["number_contains"] = ck.expect_error(base.filter_rows, "F", [f("Price", "contains", "1")])
    r["unknown_column"] = ck.expect_error(base.filter_rows, "F", [f("Nope", "is", "x")])

with ck("queryset") as r:
    r["filter"] = names(base.filter("F", "Price > 2 and Status = 'open'"))
    r["chained"] = names(base.filter("F", "Price > 1").filter("Name = 'banana'"))
    got = base.filter("F", "Name = 'cherry'").get()
    r["get"] = got.get("Name") if got else None
    r["updated"] = len(base.filter("F", "Name = 'banana'").update({"Price": 2.5}))
    r["after_update"] = [x.get("Price") for x in base.list_rows("F") if x.get("Name") == "banana"]

ck.emit()
