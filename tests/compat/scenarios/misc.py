"""The smaller calls (issue 11 item 6): big_data_insert_rows, add_column_cascade_settings,
send_toast_notification, get_related_users, get_user_info, and the refused ones (workflows,
email, WeChat).

Run: <client-venv>/bin/python misc.py <server_url> <api_token>
"""

from __future__ import annotations

from _common import auth, begin

Base, version, ck = begin()
base = auth(ck, Base)

GEO = [
    {"column_name": "Name", "column_type": "text"},
    {"column_name": "Country", "column_type": "single-select",
     "column_data": {"options": [{"name": "DE", "color": "#aaa"}, {"name": "FR", "color": "#bbb"}]}},
    {"column_name": "City", "column_type": "single-select",
     "column_data": {"options": [{"name": "Berlin", "color": "#ccc"}, {"name": "Bonn", "color": "#ddd"},
                                 {"name": "Paris", "color": "#eee"}]}},
]

with ck("add_table") as r:
    r["name"] = base.add_table("Geo", columns=GEO).get("name")

with ck("big_data_insert_rows") as r:
    rows = [{"Name": f"n{i}", "Country": "DE" if i % 2 else "FR"} for i in range(30)]
    r["returned"] = base.big_data_insert_rows("Geo", rows)
    listed = base.list_rows("Geo")
    r["names"] = [row.get("Name") for row in listed]
    r["countries"] = sorted({row.get("Country") for row in listed})
    r["creator"] = listed[0].get("_creator") if listed else None

with ck("big_data_insert_rows_bad") as r:
    r["unknown_table"] = ck.expect_error(base.big_data_insert_rows, "Nope", [{"Name": "x"}])
    r["not_a_list"] = ck.expect_error(base.big_data_insert_rows, "Geo", "nope")
    r["count_after"] = len(base.list_rows("Geo"))

with ck("cascade") as r:
    r["returned"] = base.add_column_cascade_settings(
        "Geo", "City", "Country", {"DE": ["Berlin", "Bonn"], "FR": ["Paris"]})
    table = next(t for t in base.get_metadata()["tables"] if t["name"] == "Geo")
    cols = {c["name"]: c for c in table["columns"]}
    ids = {o["name"]: o["id"] for c in ("Country", "City") for o in cols[c]["data"]["options"]}
    names = {v: k for k, v in ids.items()}
    data = cols["City"]["data"]
    r["parent_is_country"] = data.get("cascade_column_key") == cols["Country"]["key"]
    r["settings_by_name"] = {names[p]: [names[c] for c in cs] for p, cs in data["cascade_settings"].items()}

with ck("cascade_bad") as r:
    r["unknown_option"] = ck.expect_error(
        base.add_column_cascade_settings, "Geo", "City", "Country", {"DE": ["Rome"]})
    r["not_select"] = ck.expect_error(
        base.add_column_cascade_settings, "Geo", "Name", "Country", {"DE": ["Berlin"]})

with ck("toast") as r:
    r["returned"] = base.send_toast_notification("someone@example.com", "hello from a script")
    r["warning"] = base.send_toast_notification("someone@example.com", 42, toast_type="warning")

with ck("related_users") as r:
    users = base.get_related_users()
    r["count"] = len(users)
    r["first"] = users[0] if users else None

with ck("user_info") as r:
    me = ck.results["related_users"]["first"]["email"]
    r["me"] = base.get_user_info(me)
    r["unknown"] = ck.expect_error(base.get_user_info, "nobody@example.com")

with ck("refused") as r:
    r["add_workflow_task"] = ck.expect_error(base.add_workflow_task, "wf-token", {"Name": "x"})
    r["add_workflow_task_with_existed_row"] = ck.expect_error(
        base.add_workflow_task_with_existed_row, "wf-token", "row-id")
    r["send_email"] = ck.expect_error(base.send_email, "mail", "hello", send_to="a@example.com")
    r["send_wechat_msg"] = ck.expect_error(base.send_wechat_msg, "wechat", "hello")

ck.emit()
