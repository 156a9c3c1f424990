"""The official client's ``Account``: sign in, account info, workspaces, add_base (personal and
group workspace), get_base and then work through the returned Base (a table, a row, an upload
and its download); copy_base (into the group workspace, then again under a free name, and the
copy's file cell downloads through the copy); a foreign workspace is refused; a wrong password
is refused.

Run: <client-venv>/bin/python account.py <server_url> <api_token>, with COMPAT_EMAIL,
COMPAT_PASSWORD, COMPAT_GROUP_WORKSPACE (a group workspace's name the user is a member of) and
COMPAT_FOREIGN_WORKSPACE_ID (another user's personal workspace id) in the environment.
"""

from __future__ import annotations

import os
import sys

from _common import SERVER_URL, WORKDIR, begin, content_for, file_sha256, sha256
from seatable_api import Account  # type: ignore[import-not-found]

_, version, ck = begin()
EMAIL = os.environ["COMPAT_EMAIL"]
PASSWORD = os.environ["COMPAT_PASSWORD"]
GROUP = os.environ["COMPAT_GROUP_WORKSPACE"]
FOREIGN = int(os.environ["COMPAT_FOREIGN_WORKSPACE_ID"])

with ck("wrong_password") as r:
    r.update(ck.expect_error(Account(EMAIL, "not the password", SERVER_URL).auth))

account = Account(EMAIL, PASSWORD, SERVER_URL)
with ck("auth") as r:
    account.auth()
    r["token"] = account.token
if not ck.ok("auth"):
    ck.emit()
    sys.exit(0)

with ck("load_account_info") as r:
    account.load_account_info()
    r["username"] = account.username

with ck("list_workspaces") as r:
    r["returned"] = account.list_workspaces()

workspaces = account.list_workspaces()["workspace_list"]
personal = next(w for w in workspaces if w.get("type") == "personal")
group = next(w for w in workspaces if w.get("name") == GROUP)

with ck("add_base_default") as r:  # no workspace: the personal one (owner = the user's email)
    r["returned"] = account.add_base("From Client")

with ck("add_base_personal") as r:  # by id: 4.0.0 checks type, 2.6.11 owner_type
    r["returned"] = account.add_base("Personal By Id", workspace_id=personal["id"])

with ck("add_base_group") as r:  # owner = <group_id>@seafile_group
    r["returned"] = account.add_base("In Group", workspace_id=group["id"])

with ck("add_base_foreign") as r:  # not in the user's list: the client itself refuses
    r.update(ck.expect_error(account.add_base, "Nope", workspace_id=FOREIGN))

with ck("list_after") as r:
    listed = account.list_workspaces()["workspace_list"]
    r["tables"] = {w["name"]: sorted(t["name"] for t in w["table_list"]) for w in listed}

with ck("get_base") as r:
    base = account.get_base(personal["id"], "From Client")
    r["dtable_uuid"] = base.dtable_uuid
    r["workspace_id"] = base.workspace_id
    base.add_table("Notes", columns=[{"column_name": "Title", "column_type": "text"}])
    base.append_row("Notes", {"Title": "hello"})
    r["rows"] = [row["Title"] for row in base.list_rows("Notes")]
    data = content_for("from-account.txt", 5000)
    info = base.upload_bytes_file("from-account.txt", data)
    r["upload"] = {"name": info["name"], "size": info["size"], "sha256": sha256(data)}
    save = os.path.join(WORKDIR, "account-download.txt")
    base.download_file(info["url"], save)
    r["downloaded_sha256"] = file_sha256(save)
    base.add_table("Files", columns=[{"column_name": "Doc", "column_type": "file"}])
    base.append_row("Files", {"Doc": [{"name": info["name"], "size": info["size"], "type": "file",
                                        "url": info["url"]}]})

with ck("get_base_group") as r:
    group_base = account.get_base(group["id"], "In Group")
    r["dtable_uuid"] = group_base.dtable_uuid

with ck("get_base_foreign") as r:
    r.update(ck.expect_error(account.get_base, FOREIGN, "From Client"))

with ck("get_base_missing") as r:
    r.update(ck.expect_error(account.get_base, personal["id"], "No Such Base"))

with ck("copy_base") as r:
    r["returned"] = account.copy_base(personal["id"], "From Client", group["id"])
    copied = account.get_base(group["id"], "From Client")
    r["dtable_uuid"] = copied.dtable_uuid
    r["rows"] = [row["Title"] for row in copied.list_rows("Notes")]
    r["url"] = copied.list_rows("Files")[0]["Doc"][0]["url"]
    save = os.path.join(WORKDIR, "copy-download.txt")
    copied.download_file(r["url"], save)
    r["downloaded_sha256"] = file_sha256(save)

with ck("copy_base_again") as r:
    r["returned"] = account.copy_base(personal["id"], "From Client", personal["id"])

with ck("copy_base_foreign") as r:
    r.update(ck.expect_error(account.copy_base, personal["id"], "From Client", FOREIGN))

with ck("copy_base_missing") as r:
    r.update(ck.expect_error(account.copy_base, personal["id"], "No Such Base", group["id"]))

ck.emit()
