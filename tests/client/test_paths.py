"""Every request the SDK builds goes to a path the server routes (both take their paths from
``wire/endpoints.py``), with a method that route accepts."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.routing import Match, Route

from atoll.client import _requests as rq
from atoll.server.routes import routes
from atoll.wire import endpoints as ep

SERVER = "http://h"
UUID = "650d8a0d-7e27-46a8-8b18-6cc6f3db2057"
S = rq.Session(SERVER, "jwt", UUID, 7, "Demo", SERVER + "/api-gateway", "", True)

#: every request builder of the SDK, called once (the test below fails on a builder not here)
CASES: dict[str, Callable[[], rq.RequestSpec]] = {
    "app_access_token": lambda: rq.app_access_token(SERVER),
    "app_upload_link": lambda: rq.app_upload_link(SERVER),
    "app_download_link": lambda: rq.app_download_link(SERVER, "files/a.txt"),
    "custom_download_link": lambda: rq.custom_download_link(SERVER, "/Main/a.txt"),
    "custom_upload_link": lambda: rq.custom_upload_link(SERVER, "/Main"),
    "custom_asset_file": lambda: rq.custom_asset_file(SERVER, "/Main", "a.txt"),
    "custom_asset_dir": lambda: rq.custom_asset_dir(SERVER, "/Main"),
    "create_custom_dir": lambda: rq.create_custom_dir(SERVER, "/Main"),
    "get_metadata": lambda: rq.get_metadata(S),
    "add_table": lambda: rq.add_table(S, "T"),
    "rename_table": lambda: rq.rename_table(S, "T", "U"),
    "delete_table": lambda: rq.delete_table(S, "T"),
    "list_views": lambda: rq.list_views(S, "T"),
    "list_rows": lambda: rq.list_rows(S, "T"),
    "get_row": lambda: rq.get_row(S, "T", "A" * 22),
    "append_rows": lambda: rq.append_rows(S, "T", [{}]),
    "update_row": lambda: rq.update_row(S, "T", "r", {}),
    "batch_update_rows": lambda: rq.batch_update_rows(S, "T", []),
    "delete_rows": lambda: rq.delete_rows(S, "T", ["r"]),
    "list_columns": lambda: rq.list_columns(S, "T"),
    "insert_column": lambda: rq.insert_column(S, "T", "C", "text"),
    "query": lambda: rq.query(S, "select 1"),
    "asset_refs": lambda: rq.asset_refs(SERVER, "files/a.txt"),
    "delete_asset": lambda: rq.delete_asset(SERVER, "files/a.txt"),
    "asset_trash": lambda: rq.asset_trash(SERVER, 3),
    "restore_asset": lambda: rq.restore_asset(SERVER, 3, None),
}
#: SeaTable paths the SDK keeps for compatibility that atoll does not serve
NOT_SERVED = {ep.gateway(UUID) + "/" + ep.SQL.lstrip("/")}


def test_every_builder_has_a_case() -> None:
    builders = {
        name for name, fn in vars(rq).items()
        if inspect.isfunction(fn) and not name.startswith("_")
        and fn.__module__ == rq.__name__ and fn.__annotations__.get("return") == "RequestSpec"
    }
    assert builders == set(CASES)


def test_every_sdk_request_path_is_routed() -> None:
    table = [r for r in routes() if isinstance(r, Route)]
    for name, build in CASES.items():
        spec = build()
        path = urlsplit(spec.url).path
        if path in NOT_SERVED:
            continue
        scope = {"type": "http", "path": path, "method": spec.method}
        matches = [r.matches(scope)[0] for r in table]
        assert Match.FULL in matches, (name, spec.method, path, matches)
