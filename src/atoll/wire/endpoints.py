"""Every URL path of the wire protocol, written once: the server routes them
(``server/routes.py``) and the SDK requests them (``client/_requests.py``).

Paths end in ``/`` as SeaTable spells them (the server also answers without it). Base paths
(``METADATA``, ``ROWS``...) are relative to one of the base prefixes (``GATEWAY``, ``V1_GATEWAY``,
``V1_SERVER``); placeholders are Starlette's (``{dtable_uuid}``, ``{row_id}``...).
"""

from __future__ import annotations

# dtable-web (API token) ------------------------------------------------------------------

PING = "/api2/ping/"
APP_ACCESS_TOKEN = "/api/v2.1/dtable/app-access-token/"
APP_UPLOAD_LINK = "/api/v2.1/dtable/app-upload-link/"
APP_DOWNLOAD_LINK = "/api/v2.1/dtable/app-download-link/"
APP_ASSET = "/api/v2.1/dtable/app-asset/"
CUSTOM_ASSET_DIR = "/api/v2.1/dtable/custom/app-asset-dir/"
CUSTOM_ASSET_FILE = "/api/v2.1/dtable/custom/app-asset-file/"
CUSTOM_UPLOAD_LINK = "/api/v2.1/dtable/custom/app-upload-link/"
CUSTOM_DOWNLOAD_LINK = "/api/v2.1/dtable/custom/app-download-link/"
#: atoll: which rows use an asset (GET ?path=).
APP_ASSET_REFS = "/api/v2.1/dtable/app-asset-refs/"
#: atoll: the base's asset trash (GET lists, POST ?id= or ?path= restores).
APP_ASSET_TRASH = "/api/v2.1/dtable/app-asset-trash/"
#: atoll: a zip of a table's, view's or column's files (services/zip_download.py).
APP_ZIP = "/api/v2.1/dtable/app-zip/"

# file server (the ticket in the URL) ------------------------------------------------------

UPLOAD_API = "/seafhttp/upload-api/{ticket}/"
FILES = "/seafhttp/files/{ticket}/{name:path}"
#: atoll: tus 1.0 creation (the upload link's ticket) and one upload (its secret id).
TUS_CREATE = "/seafhttp/tus/{ticket}"
TUS_UPLOAD = "/seafhttp/tus-uploads/{upload_id}"
#: atoll: the bytes held of a Seafile-style chunked upload.
UPLOADED_BYTES = "/seafhttp/uploaded-bytes/{ticket}"
#: the URL stored in file and image cells
ASSET_URL = "/workspace/{workspace_id:int}/asset/{dtable_uuid}/{path:path}"
#: The thumbnail of an image or PDF asset (``?size=N``): the asset URL under ``/thumbnail``.
THUMBNAIL = "/thumbnail" + ASSET_URL

# bases: the api-gateway (v2) and the two v1 prefixes (base access token) -------------------

GATEWAY_PING = "/api-gateway/api/v2/ping/"
GATEWAY = "/api-gateway/api/v2/dtables/{dtable_uuid}"
V1_GATEWAY = "/api-gateway/api/v1/dtables/{dtable_uuid}"
V1_SERVER = "/dtable-server/api/v1/dtables/{dtable_uuid}"

METADATA = "/metadata/"
TABLES = "/tables/"
COLUMNS = "/columns/"
BATCH_APPEND_COLUMNS = "/batch-append-columns/"
COLUMN_OPTIONS = "/column-options/"
ROWS = "/rows/"
ROW = "/rows/{row_id}/"
BATCH_APPEND_ROWS = "/batch-append-rows/"
BATCH_UPDATE_ROWS = "/batch-update-rows/"
BATCH_DELETE_ROWS = "/batch-delete-rows/"
VIEWS = "/views/"
VIEW = "/views/{view_name}/"
FILTERED_ROWS = "/filtered-rows/"
#: SeaTable's SQL endpoint (docs/sql.md); v1 clients use ``wire.sql.V1_QUERY``
SQL = "/sql"
#: atoll: which rows use an asset (GET ?path=), under ``GATEWAY`` with the base's access token.
ASSET_REFS = "/asset-refs/"


def gateway(dtable_uuid: str) -> str:
    """The api-gateway prefix of one base, without the trailing slash."""
    return GATEWAY.replace("{dtable_uuid}", dtable_uuid)

#: atoll: the zip download under a base prefix (access token), like APP_ZIP.
ZIP = "/zip/"
