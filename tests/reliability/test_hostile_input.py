"""No route answers 5xx to client input (issue 6; reliability-test-plan B1-B4, S12).

Every route of ``atoll.server.routes.routes()`` x every method (the usual five plus TRACE and
PROPFIND) x a hostile corpus of bodies and query strings, in-process, authenticated with a valid
API token or access token for a real base, and with the path parameters filled with real ids
(a table, a row, a view, an uploaded file, link tickets), so that requests get past auth and
routing and reach the parsers and the database. The assertion: never a 5xx, and a method the
route does not serve is a 405.

The focused tests below pin the error shapes and messages of the JSON and query bounds.
"""

from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from atoll.server.app import create_app
from atoll.server.routes import routes
from atoll.services.access import create_api_token
from atoll.services.context import Context
from atoll.wire.tus import encode_metadata
from tests.backends import make_settings
from tests.conftest import MakeApp

PUBLIC_URL = "http://testserver"
MiB = 1024 * 1024
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "PROPFIND", "TRACE"]
COLUMN_TYPES = [
    "text",
    "long-text",
    "number",
    "duration",
    "rate",
    "checkbox",
    "date",
    "single-select",
    "multiple-select",
    "image",
    "file",
    "geolocation",
    "collaborator",
    "email",
    "url",
    "digital-sign",
]
SEED_FILE = "files/2026-01/seed.txt"
CUSTOM_DIR = "/Main"
VIEW = "Second View"

# ---------------------------------------------------------------- the corpus


def _j(value: Any) -> bytes:
    return json.dumps(value).encode()


def _nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


#: Keys any endpoint reads from a body (rows, columns, views, tables, filters).
ARG_KEYS = [
    "table_id",
    "rows",
    "row",
    "row_id",
    "row_ids",
    "updates",
    "anchor_row_id",
    "columns",
    "column",
    "column_name",
    "column_type",
    "column_data",
    "anchor_column",
    "op_type",
    "new_column_name",
    "new_column_type",
    "frozen",
    "width",
    "options",
    "new_table_name",
    "view_name",
    "order_by",
    "direction",
    "start",
    "limit",
    "filters",
    "filter_conjunction",
    "name",
    "type",
    "sorts",
    "hidden_columns",
    "is_locked",
    "lang",
    "convert_keys",
]


def _all_keys(value: Any) -> bytes:
    return _j({"table_name": "Table1", **{k: value for k in ARG_KEYS}})


def _hostile_cells() -> list[dict[str, Any]]:
    return [{c: v for c in ["Name", *COLUMN_TYPES]} for v in HOSTILE_CELL_VALUES]


HOSTILE_CELL_VALUES: list[Any] = [
    2**62,
    -(2**63),
    1.7e308,
    -1e-320,
    "9" * 5000,
    "1" * 400,
    "1e400",
    "-1e400",
    "9" * 5000 + ":00",
    "99999999999999999999:00:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "0000-00-00",
    "99/99/9999 99:99",
    "\x00",
    _nested(60),
    {"a": _nested(60)},
    [None, {}, []],
    {"lat": "x", "lng": []},
    "\u202egpj.exe",
    "x" * 100_000,
]


BODIES: dict[str, bytes] = {
    "empty": b"",
    "whitespace": b"  \r\n ",
    "deep-array-990": b"[" * 990 + b"]" * 990,
    "deep-object-990": b'{"a":' * 990 + b"1" + b"}" * 990,
    "deep-unclosed-990": b"[" * 990,
    "deep-65-rows": _j({"table_name": "Table1", "rows": _nested(64)}),
    "deep-65-cell": _j({"table_name": "Table1", "rows": [{"Name": _nested(63)}]}),
    "infinity": b'{"table_name": "Table1", "start": Infinity, "limit": Infinity}',
    "-infinity": b'{"table_name": "Table1", "start": -Infinity, "limit": -Infinity}',
    "nan": b'{"table_name": "Table1", "start": NaN, "limit": NaN}',
    "1e400": b'{"table_name": "Table1", "start": 1e400, "limit": 1e400}',
    "huge-int": b'{"table_name": "Table1", "start": 99999999999999999999999, "limit": -' + b"9" * 23 + b"}",
    "5000-digit-int": b'{"table_name": "Table1", "start": ' + b"9" * 5000 + b"}",
    "int64-edges": _j({"table_name": "Table1", "start": 2**63 - 1, "limit": -(2**63)}),
    "floats": _j({"table_name": "Table1", "start": 1.5, "limit": 1e300}),
    "start-as-strings": _j({"table_name": "Table1", "start": "1e400", "limit": "99999999999999999999"}),
    "cell-infinity": b'{"table_name": "Table1", "rows": [{"number": Infinity}]}',
    "cell-huge-int": b'{"table_name": "Table1", "rows": [{"number": 123456789012345678901234567890}]}',
    "all-null": _all_keys(None),
    "all-array": _all_keys([]),
    "all-array-of-junk": _all_keys([None, 1, "x", [], {}]),
    "all-string": _all_keys("x"),
    "all-nul": _all_keys("\x00"),
    "all-number": _all_keys(-12345),
    "all-bool": _all_keys(True),
    "all-object": _all_keys({"a": {"b": None}}),
    "all-huge": _all_keys(2**63 - 1),
    "table-name-array": _j({"table_name": [], "table_id": {}}),
    "table-name-number": _j({"table_name": 1, "new_table_name": 2}),
    "table-name-nul": _j({"table_name": "\x00", "new_table_name": "\x00", "name": "\x00"}),
    "lone-surrogate": b'{"table_name": "\\ud800", "name": "\\udfff", "rows": [{"Name": "\\ud800"}]}',
    "rows-hostile-cells": _j({"table_name": "Table1", "rows": _hostile_cells()}),
    "row-hostile-cells": _j({"table_name": "Table1", "row": _hostile_cells()[4]}),
    "row-ids-hostile": _j(
        {
            "table_name": "Table1",
            "row_ids": ["\x00", "x" * 100_000, ""],
            "row_id": "\x00",
            "anchor_row_id": "\x00",
            "row": {"Name": "x"},
            "updates": [{"row_id": "\x00", "row": {"Name": "x"}}],
        }
    ),
    "updates-hostile": _j(
        {
            "table_name": "Table1",
            "updates": [{"row_id": None, "row": None}, {"row_id": [], "row": []}, 1, "x"],
        }
    ),
    "filters-hostile": _j(
        {
            "table_name": "Table1",
            "filter_conjunction": "Or",
            "filters": [
                {"column_name": c, "filter_predicate": p, "filter_term": t}
                for c in ["Name", "number", "date", "multiple-select", "file"]
                for p in ["<", ">=", "is", "is any of", "has all of", "contains", "is before"]
                for t in ["1e400", 2**63 - 1, {}, [None], None, "\x00", _nested(50)]
            ],
        }
    ),
    "filters-junk": _j(
        {
            "table_name": "Table1",
            "filters": [{"column_name": [], "filter_predicate": {}}, {"column_name": None}],
        }
    ),
    "columns-hostile": _j(
        {
            "table_name": "Table1",
            "column_name": "c" * 100_000,
            "column_type": "number",
            "column_data": _nested(60),
            "columns": [{"column_name": "\x00", "column_type": []}],
        }
    ),
    "column-update-hostile": _j(
        {
            "table_name": "Table1",
            "column": "number",
            "op_type": "set_column_width",
            "width": 2**63 - 1,
            "new_column_name": "\x00",
            "frozen": "x",
        }
    ),
    "view-hostile": _j(
        {
            "table_name": "Table1",
            "name": "\x00",
            "type": [],
            "filters": _nested(60),
            "sorts": "x",
            "is_locked": "x",
            "colorbys": [],
            "row_height": 5,
        }
    ),
    "invalid-utf8": b'{"table_name": "\xff\xfe"}',
    "invalid-utf8-start": b"\xff\xfe{}",
    "utf16": '{"table_name": "Table1"}'.encode("utf-16"),
    "bom": b'\xef\xbb\xbf{"table_name": "Table1"}',
    "top-array": b"[1, 2]",
    "top-string": b'"text"',
    "top-null": b"null",
    "top-number": b"1e400",
    "not-json": b"{not json",
    "truncated": b'{"table_name": "Table1", "rows": [',
    "17MiB": b'{"table_name": "Table1", "x": "' + b"a" * (17 * MiB) + b'"}',
}

#: Query strings, sent raw (httpx keeps invalid percent-escapes as they are).
QUERIES: dict[str, str] = {
    "start-huge": "table_name=Table1&start=99999999999999999999999&limit=99999999999999999999999",
    "start-negative": "table_name=Table1&start=-1&limit=-99999999999999999999",
    "start-int64": "table_name=Table1&start=9223372036854775807&limit=-9223372036854775808",
    "start-1e400": "table_name=Table1&start=1e400&limit=1e400",
    "start-nan": "table_name=Table1&start=NaN&limit=Infinity",
    "start-5000-digits": "table_name=Table1&start=" + "9" * 5000,
    "start-unicode-digits": "table_name=Table1&start=%D9%A1%D9%A2&limit=%EF%BC%91",
    "nul": "table_name=%00&view_name=%00&path=%00&name=%00&start=%00&limit=%00&order_by=%00",
    "nul-real-table": "table_name=Table1&view_name=%00&order_by=%00&direction=%00&convert_keys=%00",
    "bad-percent": "table_name=%zz&view_name=%ff%fe&path=%&name=%c0%af&start=%&convert_keys=%ff",
    "paths": "path=../../etc/passwd&name=..%2f..%2fx&parent_dir=%5c%5csrv%5cshare",
    "paths-2": "path=C:%5cevil%5cx.txt&name=CON",
    "lookalikes": "path=x%E2%88%95..%E2%88%95y&name=nul.txt",
    "long": "table_name=" + "x" * 4000 + "&path=" + "y/" * 3000 + "&name=" + "n" * 4000,
    "repeated": "&".join(["start=1"] * 2000),
    "order-by": "table_name=Table1&order_by=number&direction=sideways",
    "flags": "table_name=Table1&convert_keys=maybe&dl=%00&ret-json=%ff",
}


# ---------------------------------------------------------------- a real base to aim at


@dataclass
class Seed:
    """A base with a table of every column type, a row, a second view, an uploaded file and a
    custom folder; what a hostile request manages to delete is put back before the next one."""

    client: httpx.AsyncClient
    api_token: str
    access_token: str
    uuid: str
    workspace_id: int
    row_id: str = ""
    upload_ticket: str = ""
    download_ticket: str = ""
    upload_id: str = ""

    @property
    def base(self) -> str:
        return f"/api-gateway/api/v2/dtables/{self.uuid}"

    def auth_for(self, path: str) -> dict[str, str]:
        token = self.access_token if "/dtables/" in path else self.api_token
        return {"Authorization": f"Token {token}"}

    def fill(self, template: str) -> str:
        fillers = {
            "dtable_uuid": self.uuid,
            "workspace_id": str(self.workspace_id),
            "row_id": self.row_id,
            "view_name": VIEW,
            "name": "seed.txt",
            "path": SEED_FILE,
            "ticket": self.download_ticket if template.startswith("/seafhttp/files/") else self.upload_ticket,
            "upload_id": self.upload_id,
            "token": "hostile-workflow-token",
            "app_name": "hostile-app",
        }
        return re.sub(r"{(\w+)(:\w+)?}", lambda m: fillers[m.group(1)], template)

    async def _ok(self, method: str, url: str, **kw: Any) -> httpx.Response:
        headers = self.auth_for(url)
        r = await self.client.request(method, url, headers=headers, **kw)
        assert r.status_code == 200, (method, url, r.status_code, r.text)
        return r

    async def repair(self) -> int:
        """Put back whatever is missing; returns how many things were."""
        fixed = 0
        jwt = self.auth_for(self.base + "/")
        r = await self.client.get(f"{self.base}/views/{VIEW}/?table_name=Table1", headers=jwt)
        if r.status_code != 200:
            fixed += 1
            tables = (await self._ok("GET", self.base + "/metadata/")).json()["metadata"]["tables"]
            if not any(t["name"] == "Table1" for t in tables):
                columns = [{"column_name": "Name", "column_type": "text"}]
                columns += [{"column_name": t, "column_type": t} for t in COLUMN_TYPES]
                await self._ok(
                    "POST", self.base + "/tables/", json={"table_name": "Table1", "columns": columns}
                )
            await self._ok("POST", self.base + "/views/", json={"table_name": "Table1", "name": VIEW})
        r = await self.client.get(f"{self.base}/rows/{self.row_id}/?table_name=Table1", headers=jwt)
        if r.status_code != 200:
            fixed += 1
            row = {"table_name": "Table1", "rows": [{"Name": "a", "number": 1}]}
            self.row_id = (await self._ok("POST", self.base + "/rows/", json=row)).json()["first_row"]["_id"]
        api = self.auth_for("/api/")
        r = await self.client.get(
            "/api/v2.1/dtable/app-download-link/", params={"path": SEED_FILE}, headers=api
        )
        if r.status_code != 200:
            fixed += 1
            link = (await self._ok("GET", "/api/v2.1/dtable/app-upload-link/")).json()
            folder, name = SEED_FILE.rsplit("/", 1)
            r = await self.client.post(
                link["upload_link"] + "?ret-json=1",
                files={"file": (name, b"seed")},
                data={"parent_dir": link["parent_path"], "relative_path": folder},
            )
            assert r.status_code == 200, r.text
            self.upload_ticket = link["upload_link"].rsplit("/", 1)[1]
            tus = {"Tus-Resumable": "1.0.0", "Upload-Length": "1000",
                   "Upload-Metadata": encode_metadata({"filename": "hostile.bin"})}
            created = await self.client.post(link["tus_link"], headers=tus)
            assert created.status_code == 201, created.text
            self.upload_id = created.headers["location"].rsplit("/", 1)[1]  # a live tus upload
            r = await self._ok("GET", "/api/v2.1/dtable/app-download-link/", params={"path": SEED_FILE})
            self.download_ticket = r.json()["download_link"].split("/seafhttp/files/")[1].split("/")[0]
        r = await self.client.get(
            "/api/v2.1/dtable/custom/app-asset-dir/", params={"path": CUSTOM_DIR}, headers=api
        )
        if r.status_code != 200:
            fixed += 1
            await self._ok("POST", "/api/v2.1/dtable/custom/app-asset-dir/", params={"path": CUSTOM_DIR})
        return fixed


async def make_seed(ctx: Context, client: httpx.AsyncClient, name: str) -> Seed:
    made = create_api_token(ctx.engine, base=name)
    r = await client.get(
        "/api/v2.1/dtable/app-access-token/", headers={"Authorization": f"Token {made.token}"}
    )
    assert r.status_code == 200, r.text
    seed = Seed(client, made.token, r.json()["access_token"], made.dtable.uuid, made.dtable.workspace_id)
    assert await seed.repair() == 4
    return seed


async def _send(
    client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str], body: bytes | None
) -> httpx.Response:
    if body is not None:
        headers = {**headers, "content-type": "application/json"}
    return await client.request(method, url, headers=headers, content=body)


#: Payloads also sent with methods a route does not serve (they must be 405 before any parsing),
#: and to the slash-less twin of each route.
UNSERVED_SAMPLE = ("body:empty", "body:deep-array-990", "body:17MiB", "query:nul", "query:bad-percent")


def _url(seed: Seed, template: str, query: str) -> str:
    path = seed.fill(template)
    if query:
        return f"{path}?{query}"
    if "/dtables/" in template:
        return path + "?table_name=Table1"
    if "/custom/" in template:
        return path + f"?path={CUSTOM_DIR}&name=seed.txt"
    if template.startswith("/api/v2.1/"):
        return path + f"?path={SEED_FILE}"
    return path


async def _hostile_run(ctx: Context) -> tuple[list[str], str]:
    # Not make_app: the seed and the sweep are async (httpx.AsyncClient on the bare app, one event loop).
    app = create_app(ctx.settings, context=ctx)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        seed = await make_seed(ctx, client, "Hostile")
        templates = [(r.path, set(r.methods or ())) for r in routes() if isinstance(r, Route)]
        assert len(templates) > 40
        cases: list[tuple[str, str, bytes | None]] = [(f"body:{k}", "", v) for k, v in BODIES.items()]
        cases += [(f"query:{k}", q, None) for k, q in QUERIES.items()]
        # ``both()`` serves each path with and without its trailing slash by the same endpoint: the
        # bare twin gets the sample (routing and 405s), the slash form the whole corpus.
        twins = {path for path, _ in templates if path + "/" in {p for p, _ in templates}}
        failures: list[str] = []
        sent = repaired = 0
        started = time.monotonic()
        for template, allowed in templates:
            for method in METHODS:
                for label, query, body in cases:
                    if (method not in allowed or template in twins) and label not in UNSERVED_SAMPLE:
                        continue
                    url = _url(seed, template, query)
                    resp = await _send(client, method, url, seed.auth_for(template), body)
                    sent += 1
                    status = resp.status_code
                    if status >= 500:
                        failures.append(f"{status} {method} {template} {label}: {resp.text[:160]}")
                    elif method not in allowed and status != 405:
                        failures.append(f"{status} (not 405) {method} {template} {label}")
                    elif method in ("PUT", "DELETE") and 200 <= status < 300:
                        repaired += await seed.repair()  # aim the next request at real things again
        summary = (
            f"{sent} requests over {len(templates)} routes x {len(METHODS)} methods "
            f"({len(cases)} payloads per served method, {len(UNSERVED_SAMPLE)} otherwise), "
            f"{repaired} repairs, {time.monotonic() - started:.1f} s"
        )
    return failures, summary


def test_no_route_answers_5xx_to_hostile_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # httpx's ASGITransport tries ``import sniffio`` on every request; it is not installed, and the
    # failing import searches sys.path each time (a third of the run). Fail it at once instead.
    monkeypatch.setitem(sys.modules, "sniffio", None)
    ctx = Context.open(make_settings(tmp_path / "data", public_url=PUBLIC_URL))
    failures, summary = anyio.run(_hostile_run, ctx)
    print("\n" + summary)
    assert not failures, f"{len(failures)} failures ({summary}):\n" + "\n".join(failures[:80])


@dataclass
class Base:
    client: TestClient
    uuid: str
    auth: dict[str, str]
    api_auth: dict[str, str]

    def request(self, method: str, family: str, path: str, body: bytes | None = None) -> httpx.Response:
        url = FAMILIES[family][0].format(uuid=self.uuid) + path
        headers = {**self.auth, "content-type": "application/json"}
        return self.client.request(method, url, headers=headers, content=body)


FAMILIES = {
    "gateway": ("/api-gateway/api/v2/dtables/{uuid}", "error_message"),
    "v1-gateway": ("/api-gateway/api/v1/dtables/{uuid}", "error_msg"),
    "v1-server": ("/dtable-server/api/v1/dtables/{uuid}", "error_msg"),
}


@pytest.fixture(scope="module")
def base(make_module_app: MakeApp) -> Base:
    app = make_module_app(public_url=PUBLIC_URL, base_url=PUBLIC_URL)
    made = create_api_token(app.ctx.engine, base="Bounds")
    client = app.client
    r = client.get("/api/v2.1/dtable/app-access-token/", headers={"Authorization": f"Token {made.token}"})
    b = Base(
        client,
        made.dtable.uuid,
        {"Authorization": f"Token {r.json()['access_token']}"},
        {"Authorization": f"Token {made.token}"},
    )
    columns = [{"column_name": "Name", "column_type": "text"}]
    columns += [{"column_name": t, "column_type": t} for t in COLUMN_TYPES]
    r = b.request("POST", "gateway", "/tables/", _j({"table_name": "Table1", "columns": columns}))
    assert r.status_code == 200, r.text
    return b


# ---------------------------------------------------------------- the bounds, focused

BAD_JSON = {
    "deep-990": (b"[" * 990 + b"]" * 990, "nested deeper than 64 levels"),
    "deep-65": (_j({"table_name": "Table1", "rows": _nested(64)}), "nested deeper than 64 levels"),
    "infinity": (b'{"table_name": "Table1", "limit": Infinity}', "Infinity is not a JSON number"),
    "-infinity": (b'{"table_name": "Table1", "limit": -Infinity}', "-Infinity is not a JSON number"),
    "nan": (b'{"table_name": "Table1", "limit": NaN}', "NaN is not a JSON number"),
    "1e400": (b'{"table_name": "Table1", "start": 1e400}', "out of range"),
    "huge-int": (b'{"table_name": "Table1", "start": 99999999999999999999999}', "64 bits"),
    "int64+1": (_j({"table_name": "Table1", "start": 2**63}), "64 bits"),
    "5000-digits": (b'{"start": ' + b"9" * 5000 + b"}", "64 bits"),
    "cell-huge-int": (_j({"table_name": "Table1", "rows": [{"number": 10**30}]}), "64 bits"),
    "surrogate": (b'{"table_name": "\\ud800"}', "surrogate"),
    "not-utf8": (b'{"table_name": "\xff"}', "not UTF-8"),
}


@pytest.mark.parametrize("case", BAD_JSON)
@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_bad_json_is_400_with_a_clear_message(base: Base, family: str, case: str, method: str) -> None:
    body, expected = BAD_JSON[case]
    resp = base.request(method, family, "/rows/", body)
    assert resp.status_code == 400, (resp.status_code, resp.text)
    message = resp.json()[FAMILIES[family][1]]
    assert message.startswith("params invalid:") and expected in message, message


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("start=99999999999999999999999", "start invalid"),
        ("limit=-99999999999999999999", "limit invalid"),
        ("start=1e400", "start invalid"),
        ("start=-1", "start invalid"),
        ("limit=NaN", "limit invalid"),
        ("start=%00", "start invalid"),
        ("start=%D9%A1", "start invalid"),
        ("start=" + "9" * 5000, "start invalid"),
        ("start=9223372036854775808", "start invalid"),
        ("convert_keys=maybe", "convert_keys invalid"),
    ],
)
@pytest.mark.parametrize("family", FAMILIES)
def test_bad_query_numbers_are_400(base: Base, family: str, query: str, expected: str) -> None:
    resp = base.request("GET", family, "/rows/?table_name=Table1&" + query)
    assert resp.status_code == 400, (resp.status_code, resp.text)
    assert resp.json()[FAMILIES[family][1]].startswith(expected), resp.text


def test_bounds_accept_what_clients_send(base: Base) -> None:
    def post(body: object) -> None:
        r = base.request("POST", "gateway", "/rows/", _j(body))
        assert r.status_code == 200, r.text

    # 63 levels: body, rows, row, the cell object, 59 lists
    post(
        {
            "table_name": "Table1",
            "rows": [{"Name": "n", "number": 2**63 - 1, "geolocation": {"lng": 1, "x": _nested(59)}}],
        }
    )
    post({"table_name": "Table1", "rows": [{"number": -(2**63), "Name": "\U0001f600"}]})
    r = base.request("GET", "gateway", "/rows/?table_name=Table1&start=9223372036854775807&limit=1000")
    assert r.status_code == 200 and r.json()["rows"] == [], r.text
    r = base.request(
        "GET", "v1-server", "/rows/", b'\xef\xbb\xbf{"table_name": "Table1", "start": 0, "limit": 2}'
    )
    assert r.status_code == 200 and len(r.json()["rows"]) == 2, r.text
    r = base.request("GET", "gateway", "/rows/?table_name=Table1&start=1&limit=1&convert_keys=True")
    assert r.status_code == 200 and [row["Name"] for row in r.json()["rows"]] == ["\U0001f600"], r.text
    emoji = b'{"table_name": "Table1", "rows": [{"Name": "\\ud83d\\ude00"}]}'  # an escaped pair is fine
    r = base.request("POST", "gateway", "/rows/", emoji)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("row_id", ["%00", "A%00", "x" * 23, "%F0%9F%98%80" * 30])
def test_row_ids_that_cannot_exist_are_404(base: Base, row_id: str) -> None:
    r = base.request("GET", "gateway", f"/rows/{row_id}/?table_name=Table1")
    assert r.status_code == 404, r.text
    bad = _j(
        {"table_name": "Table1", "row_ids": ["\x00", "y" * 40], "updates": [{"row_id": "\x00", "row": {}}]}
    )
    assert base.request("DELETE", "gateway", "/rows/", bad).status_code == 200
    assert base.request("PUT", "gateway", "/rows/", bad).status_code == 404


def test_depth_boundary_is_exact() -> None:
    from atoll.errors import InvalidInput
    from atoll.wire import json_bounds

    assert json_bounds.MAX_JSON_DEPTH == 64
    assert json_bounds.loads(_j(_nested(64))) == _nested(64)
    with pytest.raises(InvalidInput, match="nested deeper than 64"):
        json_bounds.loads(_j(_nested(65)))
    assert json_bounds.loads(_j({"a": 2**63 - 1, "b": -(2**63), "c": 1.7e308})) is not None


@pytest.mark.parametrize(
    "header",
    [
        "bytes=" + "9" * 5000 + "-",
        "bytes=-" + "9" * 5000,
        "bytes=0-" + "9" * 5000,
        "bytes=99999999999999999999999-",
        "bytes=0-99999999999999999999999",
        "bytes=\u0661-\u0662",
    ],
)
@pytest.mark.parametrize("size", [10, 100_000])
def test_hostile_range_headers_are_never_5xx(base: Base, header: str, size: int) -> None:
    link = base.client.get("/api/v2.1/dtable/app-upload-link/", headers=base.api_auth).json()
    r = base.client.post(
        link["upload_link"],
        data={"parent_dir": link["parent_path"], "relative_path": "r"},
        files={"file": (f"{size}.bin", b"x" * size)},
        params={"replace": "1"},
    )
    assert r.status_code == 200, r.text
    r = base.client.get(
        "/api/v2.1/dtable/app-download-link/", params={"path": f"r/{size}.bin"}, headers=base.api_auth
    )
    got = base.client.get(r.json()["download_link"], headers={"Range": header.encode("utf-8")})
    assert got.status_code in (200, 206, 400, 416), (got.status_code, got.text[:200])


@pytest.mark.parametrize("column", ["Name", *COLUMN_TYPES])
def test_hostile_cell_values_are_never_5xx(base: Base, column: str) -> None:
    """One request per (column, value), so that every value reaches every column's checker."""
    for value in HOSTILE_CELL_VALUES:
        for method, body in (
            ("POST", {"rows": [{column: value}]}),
            ("PUT", {"row_id": "x", "row": {column: value}}),
        ):
            r = base.request(method, "gateway", "/rows/", _j({"table_name": "Table1", **body}))
            assert r.status_code < 500, (column, repr(value)[:60], r.status_code, r.text[:200])
        r = base.request("GET", "gateway", f"/rows/?table_name=Table1&order_by={column}&direction=desc")
        assert r.status_code == 200, (column, r.text[:200])
        flt = {
            "filters": [
                {"column_name": column, "filter_predicate": p, "filter_term": value}
                for p in ("<", "is", "contains", "is any of", "has all of", "is before")
            ]
        }
        r = base.request("GET", "gateway", "/filtered-rows/", _j({"table_name": "Table1", **flt}))
        assert r.status_code < 500, (column, repr(value)[:60], r.status_code, r.text[:200])
