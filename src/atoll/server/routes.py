"""Every URL the server answers, in one list, each with what the OpenAPI document says about it.

Routes are served with and without the trailing slash and never redirect: the official
client's POSTs would lose their bodies on a redirect (wire contract §2.5). Each route carries,
per method, an ``Op``: summary, auth kind, query parameters and the request and response body
*types* (``wire/shapes.py``, the same types the wire functions return). ``server/openapi.py``
builds ``/openapi.json`` from this list alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from starlette.routing import BaseRoute, Route

from atoll.server.endpoints import (
    access,
    account,
    assets,
    health,
    home,
    misc,
    rows,
    sql,
    thumbnails,
    transfer,
    tus,
)
from atoll.server.endpoints import lifecycle as lifecycle_endpoints
from atoll.server.endpoints import links as link_endpoints
from atoll.server.endpoints import zip as zip_endpoints
from atoll.wire import account as wa
from atoll.wire import endpoints as ep
from atoll.wire import misc as wm
from atoll.wire import rowlinks as wl
from atoll.wire import shapes as s
from atoll.wire import sql as wire_sql

Endpoint = Callable[..., Any]

GATEWAY = ep.GATEWAY
V1_GATEWAY = ep.V1_GATEWAY
V1_SERVER = ep.V1_SERVER


class Auth(Enum):
    NONE = "none"
    API_TOKEN = "api-token"  # Authorization: Token <40 hex>
    ACCESS_TOKEN = "access-token"  # Authorization: Token <JWT from app-access-token>
    API_OR_ACCESS_TOKEN = "api-or-access-token"
    TICKET = "ticket"  # the link ticket in the URL
    ACCOUNT_TOKEN = "account-token"  # Authorization: Token <40 hex from /api2/auth-token/>


@dataclass(frozen=True)
class Param:
    name: str
    description: str = ""
    type: Any = str
    required: bool = False


@dataclass(frozen=True)
class Reply:
    """One more answer an operation gives: status, description, media type and body type."""

    status: int
    description: str
    media: str | None = None
    body: Any = None


@dataclass(frozen=True)
class Op:
    summary: str
    auth: Auth
    response: Any = None  # the body type of the success answer (None: no body)
    media: str = "application/json"
    status: int = 200
    query: tuple[Param, ...] = ()
    body: Any = None  # the JSON request body type
    description: str = ""
    seatable: bool = True  # False: atoll's own (SeaTable has no such operation)
    also: tuple[Reply, ...] = ()


class ApiRoute(Route):
    """A Starlette route with its operations; ``twin_of`` names the slash form it mirrors."""

    def __init__(self, path: str, endpoint: Endpoint, ops: Mapping[str, Op], *, tag: str,
                 twin_of: str | None = None) -> None:
        super().__init__(path, endpoint, methods=list(ops))
        self.ops = dict(ops)
        self.tag = tag
        self.twin_of = twin_of


@dataclass
class Table:
    tag: str
    out: list[BaseRoute] = field(default_factory=list)

    def both(self, path: str, endpoint: Endpoint, ops: Mapping[str, Op]) -> None:
        """``path`` with and without its trailing slash."""
        bare = path.rstrip("/")
        self.out.append(ApiRoute(bare + "/", endpoint, ops, tag=self.tag))
        self.out.append(ApiRoute(bare, endpoint, ops, tag=self.tag, twin_of=bare + "/"))

    def one(self, path: str, endpoint: Endpoint, ops: Mapping[str, Op]) -> None:
        self.out.append(ApiRoute(path, endpoint, ops, tag=self.tag))


# ---- parameters shared by many operations ------------------------------------------------

TABLE_NAME = Param("table_name", "the table's name (or give table_id)")
TABLE_ID = Param("table_id", "the table's _id")
VIEW_NAME = Param("view_name", "a view of the table")
CONVERT_KEYS = Param("convert_keys", "true: cells keyed by column name (gateway)", bool)
PATH = Param("path", "a path inside the base's assets, e.g. files/2026-01/a.txt")
CUSTOM_PATH = Param("path", "a folder under custom/, e.g. /Main")
TABLE_Q = (TABLE_NAME, TABLE_ID)
ARGS_NOTE = ("Arguments come from the query string and the JSON body (the body wins); the official "
             "client sends JSON on GET and DELETE too. Read-only tokens get 403 on every write.")


def base_routes(prefix: str, tag: str) -> list[BaseRoute]:
    """Tables, columns, rows and views of one base; the same paths for v1 and the gateway."""
    gw = prefix == GATEWAY
    t = Table(tag)
    tok = Auth.ACCESS_TOKEN

    def op(summary: str, response: Any, body: Any = None, query: tuple[Param, ...] = TABLE_Q,
           description: str = ARGS_NOTE) -> Op:
        return Op(summary, tok, response, query=query, body=body, description=description)

    rows_type = s.GatewayRows if gw else s.V1Rows
    row_type = s.GatewayRow if gw else s.V1Row
    deleted = s.GatewayDeleted if gw else s.Success
    appended = s.GatewayAppend if gw else s.BatchAppend | s.RawRow
    list_query = (*TABLE_Q, VIEW_NAME, Param("start", "rows to skip", int),
                  Param("limit", "rows to return (at most max_rows_per_page)", int),
                  Param("order_by", "a column name"), Param("direction", "asc or desc"), CONVERT_KEYS)
    t.both(prefix + ep.METADATA, rows.metadata,
           {"GET": op("The base's tables, columns and views", s.Metadata, query=())})
    t.both(prefix + ep.TABLES, rows.tables, {
        "POST": op("Add a table (exactly the given columns)", s.Table, s.AddTableBody, query=()),
        "PUT": op("Rename a table", s.Success, s.RenameTableBody),
        "DELETE": op("Delete a table", s.Success, s.TableArg),
    })
    t.both(prefix + ep.COLUMNS, rows.columns, {
        "GET": op("List a table's columns", s.Columns, query=(*TABLE_Q, VIEW_NAME)),
        "POST": op("Insert a column", s.Column, s.InsertColumnBody),
        "PUT": op("Rename, resize, freeze, move or retype a column", s.Column, s.UpdateColumnBody),
        "DELETE": op("Delete a column", s.Success, s.ColumnArg),
    })
    t.both(prefix + ep.BATCH_APPEND_COLUMNS, rows.batch_append_columns,
           {"POST": op("Append columns; answers only the new ones", s.Columns, s.AppendColumnsBody)})
    t.both(prefix + ep.COLUMN_OPTIONS, rows.column_options,
           {"POST": op("Add options to a select column", s.Success, s.ColumnOptionsBody)})
    t.both(prefix + ep.ROWS, rows.rows, {
        "GET": op("List rows", rows_type, query=list_query),
        "POST": op("Append rows" if gw else "Append (rows) or insert (row, anchor_row_id) rows",
                   appended, s.AppendRowsBody),
        "PUT": op("Update rows", s.Success, s.UpdateRowsBody),
        "DELETE": op("Delete rows", deleted, s.DeleteRowsBody),
    })
    t.both(prefix + ep.ROW, rows.row,
           {"GET": op("One row", row_type, query=(*TABLE_Q, CONVERT_KEYS))})
    t.both(prefix + ep.BATCH_APPEND_ROWS, rows.batch_append_rows,
           {"POST": op("Append rows", s.BatchAppend, s.AppendRowsBody)})
    t.both(prefix + ep.BATCH_UPDATE_ROWS, rows.batch_update_rows,
           {"PUT": op("Update rows", s.Success, s.UpdateRowsBody)})
    t.both(prefix + ep.BATCH_DELETE_ROWS, rows.batch_delete_rows,
           {"DELETE": op("Delete rows", deleted, s.DeleteRowsBody)})
    t.both(prefix + ep.VIEWS, rows.views, {
        "GET": op("List a table's views", s.Views),
        "POST": op("Add a view", s.View, s.AddViewBody),
    })
    t.both(prefix + ep.VIEW, rows.view, {
        "GET": op("One view", s.View),
        "PUT": op("Rename a view or store its settings", s.View, s.UpdateViewBody),
        "DELETE": op("Delete a view", s.Success),
    })
    filtered = op("Rows matching filters (keyed by column name)", rows_type, s.FilterRowsBody,
                  description=ARGS_NOTE + " Filters are read from a JSON body, on GET too.")
    t.both(prefix + ep.FILTERED_ROWS, rows.filtered_rows, {"GET": filtered, "POST": filtered})
    link_routes(t, prefix, op)
    return t.out


def link_routes(t: Table, prefix: str, op: Callable[..., Op]) -> None:
    """links/, batch-update-links/, query-links/ (docs/links.md)."""
    body, ok, deleted = wl.LinksBody, wl.LinksSuccess, wl.LinksDeleted
    t.both(prefix + wl.LINKS, link_endpoints.links, {
        "POST": op("Add links (add_link, batch_add_links)", ok, body, query=()),
        "PUT": op("Replace the links of rows (update_link, batch_update_links)", ok, body, query=()),
        "DELETE": op("Remove links (remove_link, batch_remove_links)", deleted, body, query=()),
    })
    t.both(prefix + wl.BATCH_UPDATE_LINKS, link_endpoints.batch_update_links,
           {"PUT": op("Replace the links of rows (v1 batch_update_links)", ok, body, query=())})
    t.both(prefix + wl.QUERY_LINKS, link_endpoints.query_links, {"POST": op(
        "Linked rows of rows (get_linked_records)", dict[str, list[wl.LinkedRecord]],
        wl.QueryLinksBody, query=())})


def routes() -> list[BaseRoute]:
    out: list[BaseRoute] = []
    # the front door (atoll's own)
    front = Table("atoll")
    front.one("/", home.front_door, {"GET": Op(
        "What this server is and how to connect", Auth.NONE, None, media="text/html", seatable=False,
        description="HTML; the same as JSON when the request prefers application/json.",
        also=(Reply(200, "The same information as JSON", "application/json", s.FrontDoor),))})
    front.one("/docs", home.docs, {"GET": Op(
        "This API's reference, rendered from /openapi.json", Auth.NONE, None, media="text/html",
        seatable=False)})
    front.one("/openapi.json", home.openapi_json, {"GET": Op(
        "The OpenAPI 3.1 document of every route", Auth.NONE, dict[str, Any], seatable=False)})
    front.one("/favicon.ico", home.favicon, {"GET": Op(
        "The icon (SVG)", Auth.NONE, None, media="image/svg+xml", seatable=False)})
    out += front.out
    # health
    ping = Table("health")
    ping.both(ep.PING, access.ping, {"GET": Op("Ping (dtable-web)", Auth.NONE, s.Pong)})
    ping.both(ep.GATEWAY_PING, access.gateway_ping,
              {"GET": Op("Ping (api-gateway)", Auth.NONE, s.GatewayPong)})
    ping.both("/api/health/", health.health, {"GET": Op(  # liveness (no I/O)
        "Liveness: the process answers (no I/O)", Auth.NONE, s.Health, seatable=False)})
    ping.both("/api/ready/", health.ready, {"GET": Op(  # readiness (database and blob store)
        "Readiness: database, blob store and free space", Auth.NONE, s.Ready, seatable=False,
        also=(Reply(503, "Not ready: the failing check is named", "application/json", s.Ready),))})
    out += ping.out
    # auth (dtable-web, API token)
    auth = Table("auth")
    auth.both(ep.APP_ACCESS_TOKEN, access.app_access_token, {"GET": Op(
        "Exchange an API token for an access token to the base", Auth.API_TOKEN, s.AppAccessToken)})
    out += auth.out
    out += account_routes()
    # system assets (dtable-web, API token)
    web = Table("assets")
    web.both(ep.APP_UPLOAD_LINK, assets.upload_link, {"GET": Op(
        "An upload link for the base's assets (rw tokens)", Auth.API_TOKEN, s.UploadLink)})
    web.both(ep.APP_DOWNLOAD_LINK, assets.download_link, {"GET": Op(
        "A download link for one asset", Auth.API_TOKEN, s.DownloadLink, query=(PATH,))})
    web.both(ep.APP_ASSET, assets.delete_asset, {"DELETE": Op(
        "Delete one asset (to the trash: restorable until `atoll gc` purges it)", Auth.API_TOKEN,
        s.Success, query=(PATH,))})
    # custom folders (dtable-web, API token)
    web.both(ep.CUSTOM_ASSET_DIR, assets.custom_dir, {
        "GET": Op("List a custom folder", Auth.API_TOKEN, s.CustomDir, query=(CUSTOM_PATH,)),
        "POST": Op("Create a custom folder (and its parents)", Auth.API_TOKEN, s.Success,
                   query=(CUSTOM_PATH,), seatable=False),
    })
    web.both(ep.CUSTOM_ASSET_FILE, assets.custom_file, {
        "GET": Op("One file of a custom folder", Auth.API_TOKEN, s.CustomFile,
                  query=(CUSTOM_PATH, Param("name"))),
        "DELETE": Op("Move one file of a custom folder to the trash", Auth.API_TOKEN, s.Success,
                     query=(CUSTOM_PATH, Param("name")), seatable=False)})
    # asset lifecycle (atoll's additions, API token): references and the trash
    web.both(ep.APP_ASSET_REFS, lifecycle_endpoints.asset_refs_list, {"GET": Op(
        "Which rows' file and image cells use an asset", Auth.API_TOKEN, s.AssetRefs, query=(PATH,),
        seatable=False)})
    web.both(ep.APP_ASSET_TRASH, lifecycle_endpoints.asset_trash, {
        "GET": Op("The base's asset trash, a page in deletion order", Auth.API_TOKEN, s.AssetTrash,
                  query=(Param("after", "the next_after of the previous page"),), seatable=False),
        "POST": Op("Restore a trashed asset (a conflict name if its path is taken)", Auth.API_TOKEN,
                   s.Restored, query=(Param("id", "a trash entry's id"),
                                      Param("path", "or the deleted file's path: its newest entry")),
                   seatable=False)})
    web.both(ep.CUSTOM_UPLOAD_LINK, assets.custom_upload_link, {"GET": Op(
        "An upload link into an existing custom folder", Auth.API_TOKEN, s.CustomUploadLink,
        query=(CUSTOM_PATH,))})
    web.both(ep.CUSTOM_DOWNLOAD_LINK, assets.custom_download_link, {"GET": Op(
        "A download link for a file of a custom folder", Auth.API_TOKEN, s.DownloadLink,
        query=(Param("path", "the file's path under custom/, e.g. /Main/a.txt"),))})
    out += web.out
    # file server (ticket in the URL)
    files = Table("file server")
    files.both(ep.UPLOAD_API, transfer.upload, {
        "POST": Op(
            "Upload files (multipart: file..., parent_dir, relative_path, replace)", Auth.TICKET,
            list[s.UploadedFile], query=(Param("ret-json", "present: answer JSON instead of ids"),),
            description="Streams each file part to the blob store and commits all files of the "
                        "request at once. Without ret-json the answer is the file ids, tab-separated.",
            also=(Reply(200, "Without ret-json: the file ids, tab-separated", "text/plain", str),)),
        "OPTIONS": Op("CORS preflight", Auth.NONE),
    })
    files.one(ep.FILES, transfer.download, {
        "GET": Op("Download a file (Range, ETag, HEAD)", Auth.TICKET, None,
                  media="application/octet-stream", query=(Param("dl", "1: always as attachment"),),
                  also=(Reply(206, "Partial content (one range)"), Reply(304, "Not modified"),
                        Reply(416, "Range not satisfiable"))),
        "HEAD": Op("The download's headers", Auth.TICKET),
    })
    resumable = "docs/resumable.md"
    files.one(ep.TUS_CREATE, tus.create, {
        "POST": Op("tus: create an upload (Upload-Length, Upload-Metadata; creation-with-upload)",
                   Auth.TICKET, status=201, seatable=False, description=resumable),
        "OPTIONS": Op("tus: discovery (Tus-Version, Tus-Extension, Tus-Max-Size)", Auth.NONE, status=204,
                      seatable=False),
    })
    files.one(ep.TUS_UPLOAD, tus.upload, {
        "HEAD": Op("tus: the upload's offset", Auth.NONE, seatable=False,
                   description="The upload URL's secret id is the credential."),
        "PATCH": Op("tus: append bytes at Upload-Offset", Auth.NONE, status=204, seatable=False,
                    also=(Reply(409, "Upload-Offset does not match"),
                          Reply(423, "Another request is writing"),
                          Reply(460, "Upload-Checksum mismatch"), Reply(410, "Terminated or expired"))),
        "DELETE": Op("tus: terminate the upload", Auth.NONE, status=204, seatable=False),
        "GET": Op("The upload's status and, once complete, its result", Auth.NONE, dict[str, Any],
                  seatable=False),
        "POST": Op("X-HTTP-Method-Override: PATCH, DELETE, HEAD or GET through POST", Auth.NONE,
                   status=204, seatable=False),
        "OPTIONS": Op("tus: discovery", Auth.NONE, status=204, seatable=False),
    })
    files.one(ep.UPLOADED_BYTES, tus.uploaded_bytes, {"GET": Op(
        "Bytes held of a Seafile-style chunked upload: {uploadedBytes}", Auth.TICKET, dict[str, Any],
        seatable=False,
        query=(Param("parent_dir"), Param("relative_path"), Param("file_name", required=True)))})
    out += files.out
    # browser-facing asset URLs stored in cells (API token or access token)
    cells = Table("asset URLs")
    cells.one(ep.ASSET_URL, transfer.asset_url, {
        "GET": Op(
            "The URL stored in file and image cells: redirects to a fresh download link",
            Auth.API_OR_ACCESS_TOKEN, status=302, query=(Param("dl", "1: always as attachment"),),
            also=(Reply(403, "Without a token: a short HTML page when the request prefers text/html "
                             "(a browser), the JSON error otherwise", "text/html", str),)),
        "HEAD": Op("Whether the asset exists (200/404, no redirect)", Auth.API_OR_ACCESS_TOKEN),
    })
    out += cells.out
    thumbs = Table("thumbnails")
    thumbs.one(ep.THUMBNAIL, thumbnails.thumbnail, {"GET": Op(
        "A JPEG or PNG thumbnail of an image (JPEG, PNG, GIF, WebP, HEIC) or a PDF's first page",
        Auth.API_OR_ACCESS_TOKEN, media="image/jpeg",
        query=(Param("size", "edge length in pixels, one of thumbnail_sizes (default 256)", int),),
        also=(Reply(304, "If-None-Match matches the ETag"), Reply(413, "Too many pixels or bytes"),
              Reply(415, "Not an image or PDF"), Reply(422, "Broken, or too slow to decode")))})
    out += thumbs.out
    # bases: gateway v2 and dtable-server v1
    out += base_routes(GATEWAY, "bases (api-gateway v2)")
    out += base_routes(V1_GATEWAY, "bases (v1 under /api-gateway)")
    out += base_routes(V1_SERVER, "bases (dtable-server v1)")
    refs = Table("bases (api-gateway v2)")
    refs.both(GATEWAY + ep.ASSET_REFS, lifecycle_endpoints.gateway_asset_refs, {"GET": Op(
        "Which rows' file and image cells use an asset", Auth.ACCESS_TOKEN, s.AssetRefs, query=(PATH,),
        seatable=False)})
    out += refs.out
    out += misc_routes()
    out += sql_routes()
    db = Table("dtable-db")
    db.both(wl.DTABLE_DB_LINKED_RECORDS, link_endpoints.query_links, {"POST": Op(
        "Linked rows of rows (get_linked_records, clients <= 2.7)", Auth.ACCESS_TOKEN,
        dict[str, list[wl.LinkedRecord]], body=wl.QueryLinksBody)})
    out += db.out
    out += zip_routes()
    return out


def zip_routes() -> list[BaseRoute]:
    """atoll: a zip of the files of a table, a view or a column (API token or access token)."""
    t = Table("zip download")
    query = (*TABLE_Q, VIEW_NAME, Param("column", "one file or image column (default: all of them)"),
             Param("row_ids", "comma-separated row ids (default: every row)"),
             Param("template", "path in the archive, default {row}/{column}/{name}; also {row_name}"),
             Param("compression", "stored (default) or deflate"))
    description = ("Streams a zip (no temp files, constant memory) of the files the rows' file and "
                   "image cells point at, with manifest.json last; cells pointing outside the base "
                   "are listed as skipped, never fetched.")
    for path, auth in ((ep.APP_ZIP, Auth.API_TOKEN), (GATEWAY + ep.ZIP, Auth.ACCESS_TOKEN)):
        t.both(path, zip_endpoints.zip_download, {"GET": Op(
            "A zip of the files of a table, view or column", auth, None, media="application/zip",
            query=query, description=description, seatable=False)})
    return t.out


def misc_routes() -> list[BaseRoute]:
    """The smaller calls of the official client and dtable-sdk (docs/misc-calls.md)."""
    t = Table("more base calls")
    tok, api = Auth.ACCESS_TOKEN, Auth.API_TOKEN
    for prefix in (GATEWAY, V1_GATEWAY, V1_SERVER):
        t.both(prefix + wm.COLUMN_CASCADE_SETTINGS, misc.cascade_settings, {"POST": Op(
            "Cascade one single-select column's options from another's", tok, s.Success,
            body=wm.CascadeBody)})
        t.both(prefix + wm.UI_TOASTS, misc.ui_toasts, {"POST": Op(
            "Send a toast to a user of the base (delivered to live listeners)", tok, s.Success,
            body=wm.ToastBody)})
    insert = Op("Insert many rows (into the table itself: atoll has no separate archive)", tok,
                wm.InsertedRows, body=wm.InsertRowsBody)
    t.both(GATEWAY + wm.ADD_ARCHIVED_ROWS, misc.insert_rows, {"POST": insert})
    t.both(wm.DB_INSERT_ROWS, misc.insert_rows, {"POST": insert})
    t.both(GATEWAY + "/", misc.whole_base_document, {"GET": Op(
        "The whole base: structure and every table's rows (streamed; dtable-sdk loadDTable)", tok,
        wm.WholeBase, query=(Param("lang", "ignored"),))})
    t.both(wm.RELATED_USERS, misc.related_users, {"GET": Op(
        "The base's users: the apps holding a token for it", tok, wm.RelatedUsers)})
    t.both(wm.DEPARTMENTS, misc.departments, {"GET": Op(
        "The base's departments (atoll has none: always empty)", tok, wm.Departments)})
    t.both(wm.APP_USER_INFO, misc.user_info, {"GET": Op(
        "A user's name, for the apps of the token's base", api, wm.UserInfo,
        query=(Param("username", "an email such as a row's _creator", required=True),))})
    t.both(wm.THIRD_PARTY_ACCOUNT, misc.third_party_account, {"GET": Op(
        "Email and WeChat accounts: not supported (400)", api, s.ErrorMsg, status=400)})
    t.both(wm.WORKFLOW_TASK_SUBMIT, misc.workflow_task, {"POST": Op(
        "Workflow tasks: not supported (400)", Auth.API_OR_ACCESS_TOKEN, s.ErrorMsg, status=400)})
    return t.out


def account_routes() -> list[BaseRoute]:
    """The official client's ``Account`` (docs/accounts.md)."""
    t = Table("accounts")
    acct = Auth.ACCOUNT_TOKEN
    t.both(wa.AUTH_TOKEN, account.auth_token, {"POST": Op(
        "Sign in: form username, password -> an account token", Auth.NONE, wa.AuthToken,
        description="Wrong password, unknown or disabled user: the same 400; too many failures: 429.",
        also=(Reply(400, "Unable to login", "application/json", wa.LoginFailed),
              Reply(429, "Too many failed sign-ins (Retry-After)", "application/json", wa.Detail)))})
    t.both(wa.ACCOUNT_INFO, account.account_info,
           {"GET": Op("The signed-in user (load_account_info)", acct, wa.AccountInfo)})
    t.both(wa.WORKSPACES, account.workspaces,
           {"GET": Op("The user's workspaces and their bases", acct, wa.Workspaces)})
    t.both(wa.DTABLES, account.add_base, {"POST": Op(
        "Add a base (form name and owner: the user's email or <workspace id>@seafile_group; or "
        "workspace_id)", acct, wa.AddedBase, status=201)})
    t.both(wa.DTABLE_COPY, account.copy_base, {"POST": Op(
        "Copy a base (form src_workspace_id, name, dst_workspace_id) with its rows, links and "
        "assets (copy_base)", acct, wa.CopiedBase)})
    t.both(wa.TEMP_API_TOKEN, account.temp_api_token, {"GET": Op(
        "A temporary API token for a base of one of the user's workspaces (get_base)", acct,
        wa.TempApiToken)})
    t.both(wa.API_TOKENS, account.api_tokens, {
        "GET": Op("The base's API tokens (members who may write)", acct, wa.ApiTokens),
        "POST": Op("A new API token for an app (form app_name, permission rw|r)", acct,
                   wa.ApiTokenInfo, status=201, body=wa.ApiTokenBody),
    })
    t.both(wa.API_TOKEN, account.api_token, {
        "PUT": Op("Change an app's token permission (form permission)", acct, wa.ApiTokenInfo),
        "DELETE": Op("Delete an app's API token: it stops working at once", acct, s.Success),
    })
    return t.out


def sql_routes() -> list[BaseRoute]:
    """SQL on the gateway and on v1's dtable-db (docs/sql.md)."""
    t = Table("sql")
    query = Op("Run one SQL statement (SELECT, UPDATE, DELETE, INSERT)", Auth.ACCESS_TOKEN, wire_sql.SqlReply,
               body=wire_sql.SqlBody, description="docs/sql.md: the dialect served and what is refused.")
    t.both(GATEWAY + ep.SQL, sql.query, {"POST": query})
    t.both(wire_sql.V1_QUERY, sql.query, {"POST": query})
    return t.out
