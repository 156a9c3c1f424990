"""Issue 7: ``/openapi.json`` covers the route table exactly, its schemas hold for the recorded
SeaTable responses and for atoll's own answers, and ``/docs`` renders every operation."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import pytest
from jsonschema import Draft202012Validator
from starlette.routing import Route
from starlette.testclient import TestClient

from atoll.server.endpoints.home import VERSION
from atoll.server.openapi import openapi_path
from atoll.server.routes import routes
from atoll.services.access import create_api_token
from atoll.services.context import Context
from atoll.wire.schema import SchemaBuilder, open_shape
from tests.conftest import App, MakeApp

PUBLIC_URL = "https://atoll.example.org"
#: Copied unchanged from shared/reference/seatable-snapshots (SeaTable 6.x recordings).
SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots" / "seatable"
GW = "/api-gateway/api/v2/dtables/{dtable_uuid}"
V1 = "/dtable-server/api/v1/dtables/{dtable_uuid}"


@pytest.fixture(scope="module")
def app(make_module_app: MakeApp) -> App:
    return make_module_app(public_url=PUBLIC_URL, base_url=PUBLIC_URL)


@pytest.fixture(scope="module")
def ctx(app: App) -> Context:
    return app.ctx


@pytest.fixture(scope="module")
def client(app: App) -> TestClient:
    return app.client


@pytest.fixture(scope="module")
def doc(client: TestClient) -> dict[str, Any]:
    r = client.get("/openapi.json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    return r.json()  # type: ignore[no-any-return]


def response_schema(doc: dict[str, Any], method: str, path: str, status: str = "200") -> dict[str, Any]:
    schema = doc["paths"][path][method.lower()]["responses"][status]["content"]["application/json"]["schema"]
    # "#/components/..." resolves against the root, so carry the components along
    return {**schema, "components": doc["components"]}


# ---- the route table and the document -----------------------------------------------------


def _served() -> dict[str, set[str]]:
    """Each route's canonical path (the slash form of ``both()`` twins) -> the methods served."""
    table = [r for r in routes() if isinstance(r, Route)]
    paths = {r.path for r in table}
    served: dict[str, set[str]] = {}
    for r in table:
        canonical = r.path + "/" if not r.path.endswith("/") and r.path + "/" in paths else r.path
        served.setdefault(openapi_path(canonical), set()).update(r.methods or ())
    return served


def test_every_route_is_documented_and_every_operation_is_served(doc: dict[str, Any]) -> None:
    served = _served()
    documented = {path: {m.upper() for m in item} for path, item in doc["paths"].items()}
    assert set(served) == set(documented)
    for path, methods in served.items():
        # Starlette adds HEAD to every GET route; the document lists HEAD where it means more
        assert documented[path] <= methods, path
        assert methods - documented[path] <= {"HEAD"}, path
    for front in ("/", "/docs", "/openapi.json", "/favicon.ico"):
        assert "get" in doc["paths"][front]


def test_document_is_openapi_31_with_valid_schemas(doc: dict[str, Any]) -> None:
    assert doc["openapi"] == "3.1.0" and doc["info"]["version"] == VERSION
    assert doc["servers"] == [{"url": PUBLIC_URL}]
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    for name, schema in doc["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema), name
    for path, item in doc["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for method, op in item.items():
            assert op["summary"] and op["responses"], (method, path)
            assert {p["name"] for p in op.get("parameters", []) if p["in"] == "path"} == names
            assert isinstance(op["x-seatable-compatible"], bool)
    ops = doc["paths"][GW + "/rows/"]
    assert ops["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/GatewayRows"}
    assert doc["components"]["schemas"]["GatewayRow"]["additionalProperties"] is True  # cells: data
    assert doc["components"]["schemas"]["Column"]["additionalProperties"] is False
    assert doc["paths"]["/api/health/"]["get"]["x-seatable-compatible"] is False


# ---- recorded SeaTable responses --------------------------------------------------------

#: Snapshot (relative to the snapshot folder) -> the operation of atoll's that answers it.
SERVED = {
    "test_authentication/test_getBaseTokenWithApiToken.json": ("GET", "/api/v2.1/dtable/app-access-token/"),
    "test_base_operations/test_createTable[createTable].json": ("POST", GW + "/tables/"),
    "test_base_operations/test_createTable[createTableDeprecated].json": ("POST", V1 + "/tables/"),
    "test_base_operations/test_appendRows[appendRows].json": ("POST", GW + "/rows/"),
    "test_base_operations/test_appendRows[appendRowsDeprecated].json": ("POST", V1 + "/batch-append-rows/"),
    "test_base_operations/test_getRow[getRow].json": ("GET", GW + "/rows/{row_id}/"),
    "_older-versions/59b1e51/test_base_operations/test_getRow[getRow].json": ("GET", GW + "/rows/{row_id}/"),
    "test_base_operations/test_getRow[getRowDeprecated].json": ("GET", V1 + "/rows/{row_id}/"),
    "test_base_operations/test_listRows[listRows].json": ("GET", GW + "/rows/"),
    "test_base_operations/test_listRows[listRowsDeprecated].json": ("GET", V1 + "/rows/"),
    "test_base_operations/test_listRows_files_images[listRows].json": ("GET", GW + "/rows/"),
    "test_base_operations/test_listRows_files_images[listRowsDeprecated].json": ("GET", V1 + "/rows/"),
    "test_base_operations/test_listRows_links[listRows].json": ("GET", GW + "/rows/"),
    "test_base_operations/test_listRows_links[listRowsDeprecated].json": ("GET", V1 + "/rows/"),
    "test_row_crud/test_updateRow.json": ("GET", GW + "/rows/{row_id}/"),
    "test_columns/test_listColumns.json": ("GET", GW + "/columns/"),
    "test_columns/test_insertColumn.json": ("POST", GW + "/columns/"),
    "test_columns/test_appendColumns.json": ("POST", GW + "/batch-append-columns/"),
    "test_views/test_listViews.json": ("GET", GW + "/views/"),
    "test_views/test_getView.json": ("GET", GW + "/views/{view_name}/"),
    "test_views/test_createView.json": ("POST", GW + "/views/"),
    "test_metadata/test_getMetadata.json": ("GET", GW + "/metadata/"),
}
SERVED.update({f"test_columns/{p.name}": ("POST", GW + "/columns/")
               for p in (SNAPSHOTS / "test_columns").glob("test_insertColumn[[]*].json")})
#: Endpoints atoll does not serve (account, API-token management, SQL, duplicate-table, users).
NOT_SERVED = {
    "test_account/test_getAccountInfo.json",
    "_older-versions/5c3f4ea/test_account/test_getAccountInfo.json",
    "test_api_tokens/test_createApiToken.json",
    "test_api_tokens/test_listApiTokens.json",
    "_older-versions/188837f/test_api_tokens/test_listApiTokens.json",
    "test_authentication/test_getAccountTokenfromUsername.json",
    "test_base_operations/test_createBase.json",
    "test_base_operations/test_querySQL[querySQL].json",
    "test_base_operations/test_querySQL[querySQLDeprecated].json",
    "test_tables/test_duplicateTable.json",
    "_older-versions/188837f/test_tables/test_duplicateTable.json",
    "test_metadata/test_listCollaborators.json",
}
#: The recorder replaced volatile values by their type's name (README there); a stand-in of
#: that type replaces each, and whatever a masked "dict"/"list" held is unknown.
PLACEHOLDERS: dict[str, Any] = {"str": "str", "int": 0, "bool": False, "dict": {}, "list": []}
MASKED_CONTAINERS = ("dict", "list")



def unmask(value: Any, path: tuple[Any, ...], masked: list[tuple[Any, ...]]) -> Any:
    if isinstance(value, dict):
        return {k: unmask(v, (*path, k), masked) for k, v in value.items()}
    if isinstance(value, list):
        return [unmask(v, (*path, i), masked) for i, v in enumerate(value)]
    if isinstance(value, str) and value in PLACEHOLDERS:
        if value in MASKED_CONTAINERS:
            masked.append(path)
        return PLACEHOLDERS[value]
    return value


def test_every_snapshot_is_classified() -> None:
    found = {str(p.relative_to(SNAPSHOTS)) for p in SNAPSHOTS.rglob("*.json")}
    assert found == set(SERVED) | NOT_SERVED
    assert not set(SERVED) & NOT_SERVED


@pytest.mark.parametrize("name", sorted(SERVED))
def test_snapshot_validates_against_the_response_schema(doc: dict[str, Any], name: str) -> None:
    method, path = SERVED[name]
    masked: list[tuple[Any, ...]] = []
    instance = unmask(json.loads((SNAPSHOTS / name).read_text()), (), masked)
    validator = Draft202012Validator(response_schema(doc, method, path))
    errors = [e for e in validator.iter_errors(instance)
              if not any(tuple(e.absolute_path)[: len(m)] == m for m in masked)]
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def test_a_wrong_shape_fails(doc: dict[str, Any]) -> None:
    """The check above can fail: an extra key, a missing key, a wrong type."""
    validator = Draft202012Validator(response_schema(doc, "GET", "/api/v2.1/dtable/app-access-token/"))
    good = {"access_token": "t", "app_name": "a", "dtable_name": "d", "dtable_server": "s",
            "dtable_uuid": "u", "use_api_gateway": True, "workspace_id": 1}
    assert validator.is_valid(good)
    assert not validator.is_valid({**good, "extra": 1})
    assert not validator.is_valid({**good, "workspace_id": "1"})
    assert not validator.is_valid({k: v for k, v in good.items() if k != "access_token"})


# ---- atoll's own answers -------------------------------------------------------------------


def test_atolls_answers_validate(client: TestClient, ctx: Context, doc: dict[str, Any]) -> None:
    made = create_api_token(ctx.engine, base="Schemas")
    api = {"Authorization": f"Token {made.token}"}
    seen: list[str] = []

    def call(method: str, template: str, url: str, headers: dict[str, str], **kw: Any) -> Any:
        r = client.request(method, url, headers=headers, **kw)
        assert r.status_code == 200, (method, url, r.text)
        Draft202012Validator(response_schema(doc, method, template)).validate(r.json())
        seen.append(f"{method} {template}")
        return r.json()

    for path in ("/api/health/", "/api-gateway/api/v2/ping/", "/api2/ping/"):
        call("GET", path, path, {})
    call("GET", "/", "/", {"accept": "application/json"})
    token = call("GET", "/api/v2.1/dtable/app-access-token/", "/api/v2.1/dtable/app-access-token/", api)
    jwt = {"Authorization": f"Token {token['access_token']}"}
    link = call("GET", "/api/v2.1/dtable/app-upload-link/", "/api/v2.1/dtable/app-upload-link/", api)
    up = "/seafhttp/upload-api/{ticket}/"
    r = client.post(link["upload_link"] + "?ret-json=1", files={"file": ("a.txt", b"hi")},
                    data={"parent_dir": link["parent_path"], "relative_path": "files/2026-01"})
    Draft202012Validator(response_schema(doc, "POST", up)).validate(r.json())
    download = "/api/v2.1/dtable/app-download-link/"
    call("GET", download, download + "?path=files/2026-01/a.txt", api)
    folder = "/api/v2.1/dtable/custom/app-asset-dir/"
    call("POST", folder, folder + "?path=/Main", api)
    call("GET", folder, folder + "?path=/Main", api)
    custom = call("GET", "/api/v2.1/dtable/custom/app-upload-link/",
                  "/api/v2.1/dtable/custom/app-upload-link/?path=/Main", api)
    client.post(custom["upload_link"], files={"file": ("c.txt", b"c")},
                data={"parent_dir": custom["parent_path"], "relative_path": custom["relative_path"]})
    call("GET", "/api/v2.1/dtable/custom/app-asset-file/",
         "/api/v2.1/dtable/custom/app-asset-file/?path=/Main&name=c.txt", api)

    for prefix in (GW, V1):
        base = prefix.replace("{dtable_uuid}", made.dtable.uuid)
        table = f"T{len(seen)}"

        def on(method: str, template: str, url: str, prefix: str = prefix, base: str = base,
               **kw: Any) -> Any:
            return call(method, prefix + template, base + url, jwt, **kw)

        cols = [{"column_name": "Name", "column_type": "text"},
                {"column_name": "When", "column_type": "date"},
                {"column_name": "Pick", "column_type": "single-select"}]
        on("POST", "/tables/", "/tables/", json={"table_name": table, "columns": cols})
        on("GET", "/metadata/", "/metadata/")
        on("GET", "/columns/", f"/columns/?table_name={table}")
        on("POST", "/columns/", "/columns/",
             json={"table_name": table, "column_name": "N", "column_type": "number"})
        on("PUT", "/columns/", "/columns/",
             json={"table_name": table, "column": "N", "op_type": "freeze_column", "frozen": True})
        on("POST", "/batch-append-columns/", "/batch-append-columns/",
             json={"table_name": table, "columns": [{"column_name": "E", "column_type": "email"}]})
        on("POST", "/column-options/", "/column-options/",
             json={"table_name": table, "column": "Pick", "options": [{"name": "a", "color": "#fff"}]})
        rows = [{"Name": "x", "When": "2030-06-20", "Pick": "a"}, {"Name": "y"}]
        made_rows = on("POST", "/rows/", "/rows/", json={"table_name": table, "rows": rows})
        on("POST", "/rows/", "/rows/", json={"table_name": table, "row": {"Name": "z"}})
        on("POST", "/batch-append-rows/", "/batch-append-rows/",
             json={"table_name": table, "rows": rows})
        listed = on("GET", "/rows/", f"/rows/?table_name={table}")
        on("GET", "/rows/", f"/rows/?table_name={table}&convert_keys=true")
        row_id = listed["rows"][0]["_id"]
        on("GET", "/rows/{row_id}/", f"/rows/{row_id}/?table_name={table}")
        on("PUT", "/rows/", "/rows/",
             json={"table_name": table, "updates": [{"row_id": row_id, "row": {"Name": "w"}}]})
        on("PUT", "/batch-update-rows/", "/batch-update-rows/",
             json={"table_name": table, "updates": [{"row_id": row_id, "row": {"Name": "v"}}]})
        on("POST", "/filtered-rows/", "/filtered-rows/",
             json={"table_name": table, "filters": [{"column_name": "Name", "filter_predicate": "is",
                                                     "filter_term": "v"}]})
        on("GET", "/views/", f"/views/?table_name={table}")
        on("POST", "/views/", f"/views/?table_name={table}", json={"name": "V2"})
        on("GET", "/views/{view_name}/", f"/views/V2/?table_name={table}")
        on("PUT", "/views/{view_name}/", f"/views/V2/?table_name={table}",
             json={"name": "V3", "sorts": []})
        on("DELETE", "/views/{view_name}/", f"/views/V3/?table_name={table}")
        on("DELETE", "/rows/", "/rows/", json={"table_name": table, "row_ids": [row_id]})
        ids = [r["_id"] for r in on("GET", "/rows/", f"/rows/?table_name={table}")["rows"]]
        on("DELETE", "/batch-delete-rows/", "/batch-delete-rows/",
             json={"table_name": table, "row_ids": ids[:1]})
        on("DELETE", "/columns/", "/columns/", json={"table_name": table, "column": "E"})
        on("PUT", "/tables/", "/tables/", json={"table_name": table, "new_table_name": table + "b"})
        on("DELETE", "/tables/", "/tables/", json={"table_name": table + "b"})
        assert made_rows
    call("DELETE", "/api/v2.1/dtable/app-asset/", "/api/v2.1/dtable/app-asset/?path=files/2026-01/a.txt", api)
    assert len(seen) > 60


# ---- the generator itself ----------------------------------------------------------------


class _Inner(TypedDict):
    n: int | None


@open_shape
class _Outer(TypedDict):
    """An outer thing."""

    inner: list[_Inner]
    maybe: NotRequired[str]


def test_schema_generator() -> None:
    b = SchemaBuilder()
    assert b.schema(dict[str, _Outer]) == {"type": "object",
                                           "additionalProperties": {"$ref": "#/components/schemas/_Outer"}}
    assert b.components["_Outer"] == {
        "type": "object",
        "properties": {"inner": {"type": "array", "items": {"$ref": "#/components/schemas/_Inner"}},
                       "maybe": {"type": "string"}},
        "required": ["inner"], "additionalProperties": True, "description": "An outer thing."}
    assert b.components["_Inner"]["properties"]["n"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    with pytest.raises(TypeError):
        b.schema(set[int])


# ---- /docs -----------------------------------------------------------------------------------


def test_docs_render_every_operation(client: TestClient, doc: dict[str, Any]) -> None:
    from tests.server.test_front_door import assert_strict_csp

    r = client.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert_strict_csp(r.headers, r.text)
    html = r.text
    for path, item in doc["paths"].items():
        for method, op in item.items():
            section = html.split(f'id="{op["operationId"]}"', 1)
            assert len(section) == 2, (method, path)
            assert f"<code>{path}</code>" in section[1].split("</section>", 1)[0], (method, path)
    for name in doc["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    for ref in set(re.findall(r'href="#([^"]+)"', html)):
        assert f'id="{ref}"' in html, ref  # every link inside the page lands
