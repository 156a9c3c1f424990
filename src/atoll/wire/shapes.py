"""The JSON bodies atoll sends and reads, as types.

The wire functions (``wire/access.py``, ``assets.py``, ``rows.py``, ``tables.py``) are typed to
return these, and ``wire/schema.py`` turns them into the OpenAPI document's schemas, so each
shape is written once. Shapes follow the SeaTable 6.x captures (``tests/rows/golden/``, the
recorded snapshots): key sets are exact (closed) except where the keys are data (rows: one key
per column) or documents kept verbatim (column ``data``, view settings).

No ``from __future__ import annotations`` here: see ``wire/schema.py``.
"""

from typing import Annotated, Any, Literal, NotRequired, TypedDict

from atoll.wire.schema import open_shape

# ---- the front door ------------------------------------------------------------------------


class Connect(TypedDict):
    """How to get a token and connect, with this server's public URL filled in."""

    get_a_token: Annotated[str, "the shell command that prints a new API token for a base"]
    official_client: Annotated[str, "Python, with seatable-api"]
    atoll_sdk: Annotated[str, "Python, with atoll's SDK"]


class FrontDoor(TypedDict):
    """``GET /`` as JSON: what this server is and where to go next."""

    name: Literal["atoll"]
    description: str
    version: str
    public_url: str
    docs: Annotated[str, "the API reference (HTML)"]
    openapi: Annotated[str, "the OpenAPI 3.1 document"]
    health: str
    ready: str
    connect: Connect


# ---- health and auth ---------------------------------------------------------------------

Pong = Literal["pong"]



class GatewayPong(TypedDict):
    ret: Literal["pong"]


class Health(TypedDict):
    """Liveness: the process answers HTTP (no I/O)."""

    status: Literal["ok"]


class ReadyChecks(TypedDict):
    database: Annotated[str, '"ok", or a short reason ("timed out after 2 s", "failed: <class>")']
    storage: Annotated[str, '"ok", or a short reason']


class ReadySpace(TypedDict):
    status: Annotated[str, '"ok", or "low" while uploads would be refused with 507']
    free_bytes: Annotated[int | None, "null where the store shows none (S3)"]
    min_free_bytes: int


class Ready(TypedDict):
    """Readiness: the database and the blob store answer; 503 with the same shape otherwise."""

    status: Literal["ready", "unavailable"]
    checks: ReadyChecks
    space: ReadySpace


class AppAccessToken(TypedDict):
    """An access token (JWT, 3 days) for the API token's base. SeaTable 6.x sends the seven keys
    other than ``dtable_db``."""

    app_name: str
    access_token: str
    dtable_uuid: str
    dtable_server: Annotated[str, "<public URL>/api-gateway/"]
    dtable_db: NotRequired[Annotated[str, "atoll's addition: seatable-api <= 3.x reads it"]]
    workspace_id: int
    dtable_name: str
    use_api_gateway: bool


# ---- errors -------------------------------------------------------------------------------


class ErrorMsg(TypedDict):
    """An error from dtable-web (``/api/v2.1``, ``/api2``) and dtable-server v1 paths."""

    error_msg: str


class ErrorMessage(TypedDict):
    """An error from the api-gateway (``/api-gateway/api/v2``); 403 ``Token expired.`` is an
    ``error_msg`` everywhere."""

    error_message: str


class Success(TypedDict):
    success: bool


# ---- assets and custom folders -----------------------------------------------------------


class UploadLink(TypedDict):
    upload_link: Annotated[str, "POST multipart here (file, parent_dir, relative_path, replace)"]
    tus_link: Annotated[str, "atoll: create resumable tus uploads here (docs/resumable.md)"]
    parent_path: Annotated[str, "/asset/<base uuid>"]
    img_relative_path: Annotated[str, "images/<YYYY-MM>"]
    file_relative_path: Annotated[str, "files/<YYYY-MM>"]
    workspace_id: int
    max_upload_bytes: NotRequired[Annotated[int, "atoll: largest file per upload (413 beyond)"]]
    quota_bytes: NotRequired[Annotated[int, "atoll: base asset quota (0: none; 443 beyond)"]]
    quota_used_bytes: NotRequired[Annotated[int, "atoll: bytes of the base's files (-1: no quota)"]]


class CustomUploadLink(TypedDict):
    upload_link: str
    tus_link: Annotated[str, "atoll: create resumable tus uploads here (docs/resumable.md)"]
    parent_path: Annotated[str, "/asset/<base uuid>/custom"]
    relative_path: str
    workspace_id: int
    max_upload_bytes: NotRequired[Annotated[int, "atoll: largest file per upload (413 beyond)"]]
    quota_bytes: NotRequired[Annotated[int, "atoll: base asset quota (0: none; 443 beyond)"]]
    quota_used_bytes: NotRequired[Annotated[int, "atoll: bytes of the base's files (-1: no quota)"]]


class UploadLimits(TypedDict):
    """What an upload may hold, reported before it starts (atoll's addition to the link answers)."""

    max_upload_bytes: int
    quota_bytes: int
    quota_used_bytes: int


class DownloadLink(TypedDict):
    download_link: Annotated[str, "a ticketed /seafhttp/files/ URL, valid for link_ttl_s"]


class UploadedFile(TypedDict):
    name: Annotated[str, "the stored name (conflicts become 'name (N).ext' unless replace=1)"]
    id: Annotated[str, "40 hex digits"]
    size: int


class DirEntry(TypedDict):
    name: str


class CustomFileEntry(TypedDict):
    name: str
    size: NotRequired[Annotated[int, "atoll's addition: bytes (for `atoll sync`)"]]
    sha256: NotRequired[Annotated[str, "atoll's addition: 64 hex digits (for `atoll sync`)"]]


class CustomDir(TypedDict):
    dir: list[DirEntry]
    file: list[CustomFileEntry]


class Dirent(TypedDict):
    is_file: bool
    obj_name: str
    file_size: int
    last_update: Annotated[str, "ISO 8601, seconds"]
    uuid: str


class CustomFile(TypedDict):
    dirent: Dirent


class AssetRef(TypedDict):
    table_id: str
    table_name: str
    row_id: str
    column_key: str
    column_name: str


class AssetRefs(TypedDict):
    """atoll's addition: which rows' file and image cells use one asset."""

    path: Annotated[str, "the asset's path, relative to the base's asset root"]
    trashed: Annotated[bool, "the asset is in the trash (restorable)"]
    total: Annotated[int, "cells that use it (refs lists at most max_asset_refs_listed rows)"]
    refs: list[AssetRef]


class TrashEntry(TypedDict):
    id: Annotated[int, "restore with POST app-asset-trash/?id=<id>"]
    path: Annotated[str, "where the file was, relative to the base's asset root"]
    name: str
    size: int
    sha256: str
    uuid: str
    deleted_at: Annotated[str, "ISO 8601, UTC"]
    deleted_by: Annotated[str, "the app name of the API token that deleted it"]
    purge_after: Annotated[str, "ISO 8601: `atoll gc` may purge it from then on, unless a row uses it"]


class AssetTrash(TypedDict):
    """atoll's addition: a page of the base's asset trash, in deletion order."""

    trash: list[TrashEntry]
    next_after: Annotated[int | None, "pass as ?after= for the next page; null on the last"]


class Restored(TypedDict):
    success: bool
    path: Annotated[str, "where the file is now, relative to the base's asset root"]
    name: str
    renamed: Annotated[bool, "the path was taken meanwhile: restored under a conflict name"]


# ---- structure: columns, views, tables, metadata -----------------------------------------


class Column(TypedDict):
    """A column. API-created columns carry all 16 SeaTable keys; the template table of a new
    SeaTable base has only the first six."""

    key: Annotated[str, "4 characters, the first column '0000'"]
    name: str
    type: str
    width: int
    editable: bool
    resizable: bool
    draggable: NotRequired[bool]
    data: NotRequired[Annotated[dict[str, Any] | None, "per column type (options, format, ...)"]]
    permission_type: NotRequired[str]
    permitted_users: NotRequired[list[Any]]
    permitted_group: NotRequired[list[Any]]
    edit_metadata_permission_type: NotRequired[str]
    edit_metadata_permitted_users: NotRequired[list[Any]]
    edit_metadata_permitted_group: NotRequired[list[Any]]
    description: NotRequired[str | None]
    colorbys: NotRequired[dict[str, Any]]
    frozen: NotRequired[Annotated[bool, "set by op_type freeze_column"]]


class View(TypedDict):
    """A view (18 keys on the view endpoints). Settings are stored as given and do not filter
    rows. Views inside a table answer also carry ``link_rows``."""

    _id: str
    name: str
    type: str
    is_locked: bool
    rows: list[Any]
    formula_rows: dict[str, Any]
    summaries: Annotated[dict[str, Any] | list[Any], "{} (an API-created view); [] in old templates"]
    filter_conjunction: str
    filters: list[Any]
    sorts: list[Any]
    hidden_columns: list[str]
    groupbys: list[Any]
    groups: list[Any]
    colorbys: NotRequired[dict[str, Any]]
    colors: NotRequired[dict[str, Any]]
    column_colors: NotRequired[dict[str, Any]]
    private_for: NotRequired[str | None]
    row_height: NotRequired[str]
    link_rows: NotRequired[dict[str, Any]]


class ViewStructure(TypedDict):
    folders: list[Any]
    view_ids: list[str]


@open_shape
class RawRow(TypedDict):
    """A row as stored: keyed by column key, non-empty cells only, five system keys."""

    _id: Annotated[str, "22 characters, URL-safe base64"]
    _ctime: str
    _mtime: str
    _creator: str
    _last_modifier: str


class Table(TypedDict):
    """``POST tables/``: the new table, with empty ``rows`` and ``id_row_map``."""

    _id: str
    name: str
    columns: list[Column]
    views: list[View]
    view_structure: ViewStructure
    header_settings: dict[str, Any]
    is_header_locked: bool
    summary_configs: dict[str, Any]
    rows: list[RawRow]
    id_row_map: dict[str, RawRow]


class MetadataTable(TypedDict):
    _id: str
    name: str
    columns: list[Column]
    views: list[View]
    header_settings: NotRequired[dict[str, Any]]
    is_header_locked: NotRequired[bool]
    summary_configs: NotRequired[dict[str, Any]]


class MetadataBody(TypedDict):
    tables: list[MetadataTable]
    version: Annotated[int, "grows by one with each change of the structure"]
    format_version: Literal[9]
    settings: dict[str, Any]


class Metadata(TypedDict):
    metadata: MetadataBody


class Columns(TypedDict):
    columns: list[Column]


class Views(TypedDict):
    views: list[View]


# ---- rows ---------------------------------------------------------------------------------


@open_shape
class GatewayRow(TypedDict):
    """A row on the api-gateway: the 8 system keys and every column (null when empty), keyed by
    column key, or by name with ``convert_keys=true``. Dates carry the server's UTC offset."""

    _id: str
    _ctime: str
    _mtime: str
    _creator: str
    _last_modifier: str
    _archived: bool
    _locked: bool | None
    _locked_by: str | None


@open_shape
class V1Row(TypedDict):
    """A row on dtable-server v1: keyed by column name, empty cells left out."""

    _id: str
    _ctime: str
    _mtime: str


class GatewayRows(TypedDict):
    rows: list[GatewayRow]


class V1Rows(TypedDict):
    rows: list[V1Row]


class RowId(TypedDict):
    _id: str


class GatewayAppend(TypedDict):
    inserted_row_count: int
    row_ids: list[RowId]
    first_row: Annotated[RawRow | None, "keyed by column key, even with convert_keys"]


class BatchAppend(TypedDict):
    inserted_row_count: int


class GatewayDeleted(TypedDict):
    success: bool
    deleted_rows: int


# ---- request bodies (JSON; on GET and DELETE the query string works too) -----------------


class TableArg(TypedDict, total=False):
    table_name: str
    table_id: str


class NewColumn(TypedDict, total=False):
    column_name: str
    column_type: str
    column_data: dict[str, Any] | None


class AddTableBody(TypedDict, total=False):
    table_name: str
    columns: list[NewColumn]


class RenameTableBody(TableArg, total=False):
    new_table_name: str


class InsertColumnBody(TableArg, total=False):
    column_name: str
    column_type: str
    column_data: dict[str, Any] | None
    anchor_column: str


ColumnOp = Literal["rename_column", "resize_column", "freeze_column", "move_column", "modify_column_type"]


class UpdateColumnBody(TableArg, total=False):
    """``op_type`` and the argument it reads."""

    op_type: ColumnOp
    column: Annotated[str, "the column's key or name"]
    new_column_name: Annotated[str, "rename_column"]
    new_column_width: Annotated[int, "resize_column"]
    frozen: Annotated[bool, "freeze_column"]
    target_column: Annotated[str, "move_column: placed after this column"]
    new_column_type: Annotated[str, "modify_column_type"]


class ColumnArg(TableArg, total=False):
    column: Annotated[str, "the column's key or name"]


class AppendColumnsBody(TableArg, total=False):
    columns: list[NewColumn]


class ColumnOptionsBody(TableArg, total=False):
    column: str
    options: list[dict[str, Any]]


class AppendRowsBody(TableArg, total=False):
    """Gateway: ``rows``. v1: ``row`` (one; ``anchor_row_id`` places it) or ``rows``."""

    rows: list[dict[str, Any]]
    row: dict[str, Any]
    anchor_row_id: str


class RowUpdate(TypedDict):
    row_id: str
    row: dict[str, Any]


class UpdateRowsBody(TableArg, total=False):
    """``updates``; v1 also takes one ``row_id`` with ``row``."""

    updates: list[RowUpdate]
    row_id: str
    row: dict[str, Any]


class DeleteRowsBody(TableArg, total=False):
    """``row_ids``; v1 also takes one ``row_id``."""

    row_ids: list[str]
    row_id: str


class Filter(TypedDict, total=False):
    column_name: str
    filter_predicate: str
    filter_term: Any


class FilterRowsBody(TableArg, total=False):
    filters: list[Filter]
    filter_conjunction: Literal["And", "Or"]
    view_name: str


class AddViewBody(TypedDict, total=False):
    name: str
    type: str


@open_shape
class UpdateViewBody(TypedDict, total=False):
    """``name`` renames; the settings are stored as given (other keys are ignored)."""

    name: str
    filters: list[Any]
    filter_conjunction: str
    sorts: list[Any]
    groupbys: list[Any]
    hidden_columns: list[str]
    is_locked: bool
    row_height: str
    colorbys: dict[str, Any]
    summaries: dict[str, Any]
