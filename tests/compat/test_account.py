"""The official client's ``Account`` (4.0.0 and 2.6.11) against a live atoll: a new user signs
in, reads their account, lists workspaces, adds bases (personal and group workspace), gets a
``Base`` with ``get_base`` and works and uploads through it; copies a base with copy_base and
opens the copy's rows and file; other users' workspaces are refused (scenarios/account.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.compat._cases import expect_raised
from tests.compat.clients import CLIENT_VERSIONS, ScenarioResult, run_scenario
from tests.compat.harness import Client
from tests.live_server import LiveServer

pytestmark = pytest.mark.compat

SCRIPT = "account.py"
PASSWORD = "a long enough password"
_results: dict[str, ScenarioResult] = {}


def _atoll(server: LiveServer, *args: str, stdin: str | None = None) -> str:
    env = {**os.environ, **server.extra_env}
    out = subprocess.run([sys.executable, "-m", "atoll", *args, "--data-dir", str(server.data_dir)],
                         input=stdin, capture_output=True, text=True, env=env, check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _personal_workspace(server: LiveServer, email: str) -> int:
    for line in _atoll(server, "user", "list").splitlines():
        fields = line.split("\t")
        if fields[0] == email:
            return int(fields[4])
    raise AssertionError(f"no user {email}")


@pytest.fixture(params=CLIENT_VERSIONS)
def client(request: pytest.FixtureRequest, official_clients: dict[str, Client]) -> Client:
    return official_clients[request.param]


@pytest.fixture
def result(client: Client, live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
           ) -> ScenarioResult:
    """Per client version: a fresh user (and a second one), a group workspace, one run."""
    if client.name not in _results:
        tag = re.sub(r"\W", "-", client.name)
        email, other = f"user-{tag}@example.com", f"other-{tag}@example.com"
        group = f"Team {tag}"
        _atoll(live_server, "user", "create", email, "--name", f"User {tag}", stdin=PASSWORD + "\n")
        _atoll(live_server, "user", "create", other, stdin=PASSWORD + "\n")
        _atoll(live_server, "token", "create", "--base", "Shared", "--workspace", group)
        _atoll(live_server, "user", "add-member", email, group, "--role", "member")
        token = live_server.create_token(f"account-{tag}")  # unused by the script
        _results[client.name] = run_scenario(
            client.python, SCRIPT, live_server.url, token,
            workdir=Path(tmp_path_factory.mktemp(f"account-{tag}")),
            extra={**client.env, "COMPAT_EMAIL": email, "COMPAT_PASSWORD": PASSWORD,
                   "COMPAT_GROUP_WORKSPACE": group,
                   "COMPAT_FOREIGN_WORKSPACE_ID": str(_personal_workspace(live_server, other))},
        )
    return _results[client.name]


def test_sign_in_and_account_info(result: ScenarioResult) -> None:
    assert re.fullmatch(r"[0-9a-f]{40}", result.check("auth")["token"])
    assert result.check("load_account_info")["username"].startswith("user-")
    wrong = result.check("wrong_password")
    expect_raised(wrong, 400)
    assert "Unable to login with provided credentials." in wrong["message"]


def test_list_workspaces(result: ScenarioResult) -> None:
    listed = result.check("list_workspaces")["returned"]["workspace_list"]
    personal = [w for w in listed if w["type"] == "personal"]
    groups = [w for w in listed if w["type"] == "group"]
    assert len(personal) == 1 and personal[0]["owner_type"] == "Personal"
    assert "group_id" not in personal[0]
    assert [g["name"] for g in groups] == [next(g["name"] for g in groups)]
    assert groups[0]["owner_type"] == "Group" and groups[0]["group_id"] == groups[0]["id"]
    assert [t["name"] for t in groups[0]["table_list"]] == ["Shared"]


def test_add_base_in_personal_and_group_workspaces(result: ScenarioResult) -> None:
    listed = result.check("list_workspaces")["returned"]["workspace_list"]
    personal = next(w for w in listed if w["type"] == "personal")
    group = next(w for w in listed if w["type"] == "group")
    default = result.check("add_base_default")["returned"]
    assert default["name"] == "From Client" and default["workspace_id"] == personal["id"]
    assert set(default) == {"color", "created_at", "icon", "id", "in_storage", "is_encrypted",
                            "name", "text_color", "updated_at", "uuid", "workspace_id"}
    assert result.check("add_base_personal")["returned"]["workspace_id"] == personal["id"]
    assert result.check("add_base_group")["returned"]["workspace_id"] == group["id"]
    foreign = result.check("add_base_foreign")
    assert foreign["raised"] and "workspace_id invalid" in foreign["message"]
    tables = result.check("list_after")["tables"]
    assert tables[personal["name"]] == ["From Client", "Personal By Id"]
    assert tables[group["name"]] == ["In Group", "Shared"]  # (listed before copy_base)


def test_get_base_then_rows_and_an_upload(result: ScenarioResult) -> None:
    r = result.check("get_base")
    default = result.check("add_base_default")["returned"]
    assert r["dtable_uuid"].replace("-", "") == default["uuid"].replace("-", "")
    assert r["rows"] == ["hello"]
    assert r["upload"]["name"] == "from-account.txt" and r["upload"]["size"] == 5000
    assert r["downloaded_sha256"] == r["upload"]["sha256"]
    group_base = result.check("get_base_group")["dtable_uuid"].replace("-", "")
    assert group_base == result.check("add_base_group")["returned"]["uuid"].replace("-", "")


def test_refusals(result: ScenarioResult) -> None:
    expect_raised(result.check("get_base_foreign"), 403)
    expect_raised(result.check("get_base_missing"), 404)
    expect_raised(result.check("copy_base_foreign"), 403)
    expect_raised(result.check("copy_base_missing"), 404)


def test_copy_base(result: ScenarioResult) -> None:
    listed = result.check("list_workspaces")["returned"]["workspace_list"]
    personal = next(w for w in listed if w["type"] == "personal")
    group = next(w for w in listed if w["type"] == "group")
    source = result.check("add_base_default")["returned"]
    r = result.check("copy_base")
    made = r["returned"]
    assert made["name"] == "From Client" and made["workspace_id"] == group["id"]
    assert made["uuid"] != source["uuid"]
    assert r["dtable_uuid"].replace("-", "") == made["uuid"].replace("-", "")
    assert r["rows"] == ["hello"]
    assert f"/workspace/{group['id']}/asset/{made['uuid']}/" in r["url"]
    assert r["downloaded_sha256"] == result.check("get_base")["upload"]["sha256"]
    again = result.check("copy_base_again")["returned"]
    assert again["name"] == "From Client (1)" and again["workspace_id"] == personal["id"]
