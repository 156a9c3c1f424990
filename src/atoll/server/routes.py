"""Every URL the server answers, in one list.

Routes are served with and without the trailing slash and never redirect: the official
client's POSTs would lose their bodies on a redirect (wire contract §2.5).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.routing import BaseRoute, Route

from atoll.server.endpoints import access, assets, health, rows, transfer

Endpoint = Callable[..., Any]

GATEWAY = "/api-gateway/api/v2/dtables/{dtable_uuid}"
V1_BASES = ("/api-gateway/api/v1/dtables/{dtable_uuid}", "/dtable-server/api/v1/dtables/{dtable_uuid}")


def both(path: str, endpoint: Endpoint, methods: Sequence[str]) -> list[BaseRoute]:
    """``path`` with and without its trailing slash."""
    bare = path.rstrip("/")
    return [
        Route(bare + "/", endpoint, methods=list(methods)),
        Route(bare, endpoint, methods=list(methods)),
    ]


def base_routes(prefix: str) -> list[BaseRoute]:
    """Tables, columns, rows and views of one base; the same paths for v1 and the gateway."""
    out: list[BaseRoute] = []
    out += both(prefix + "/metadata/", rows.metadata, ["GET"])
    out += both(prefix + "/tables/", rows.tables, ["POST", "PUT", "DELETE"])
    out += both(prefix + "/columns/", rows.columns, ["GET", "POST", "PUT", "DELETE"])
    out += both(prefix + "/batch-append-columns/", rows.batch_append_columns, ["POST"])
    out += both(prefix + "/column-options/", rows.column_options, ["POST"])
    out += both(prefix + "/rows/", rows.rows, ["GET", "POST", "PUT", "DELETE"])
    out += both(prefix + "/rows/{row_id}/", rows.row, ["GET"])
    out += both(prefix + "/batch-append-rows/", rows.batch_append_rows, ["POST"])
    out += both(prefix + "/batch-update-rows/", rows.batch_update_rows, ["PUT"])
    out += both(prefix + "/batch-delete-rows/", rows.batch_delete_rows, ["DELETE"])
    out += both(prefix + "/views/", rows.views, ["GET", "POST"])
    out += both(prefix + "/views/{view_name}/", rows.view, ["GET", "PUT", "DELETE"])
    out += both(prefix + "/filtered-rows/", rows.filtered_rows, ["GET", "POST"])
    return out


def routes() -> list[BaseRoute]:
    out: list[BaseRoute] = []
    # health
    out += both("/api2/ping/", access.ping, ["GET"])
    out += both("/api-gateway/api/v2/ping/", access.gateway_ping, ["GET"])
    out += both("/api/health/", health.health, ["GET"])  # liveness (no I/O)
    out += both("/api/ready/", health.ready, ["GET"])  # readiness (database and blob store)
    # auth (dtable-web, API token)
    out += both("/api/v2.1/dtable/app-access-token/", access.app_access_token, ["GET"])
    # system assets (dtable-web, API token)
    out += both("/api/v2.1/dtable/app-upload-link/", assets.upload_link, ["GET"])
    out += both("/api/v2.1/dtable/app-download-link/", assets.download_link, ["GET"])
    out += both("/api/v2.1/dtable/app-asset/", assets.delete_asset, ["DELETE"])
    # custom folders (dtable-web, API token)
    out += both("/api/v2.1/dtable/custom/app-asset-dir/", assets.custom_dir, ["GET", "POST"])
    out += both("/api/v2.1/dtable/custom/app-asset-file/", assets.custom_file, ["GET"])
    out += both("/api/v2.1/dtable/custom/app-upload-link/", assets.custom_upload_link, ["GET"])
    out += both("/api/v2.1/dtable/custom/app-download-link/", assets.custom_download_link, ["GET"])
    # file server (ticket in the URL)
    out += both("/seafhttp/upload-api/{ticket}/", transfer.upload, ["POST", "OPTIONS"])
    out.append(Route("/seafhttp/files/{ticket}/{name:path}", transfer.download, methods=["GET", "HEAD"]))
    # browser-facing asset URLs stored in cells (API token or access token)
    out.append(
        Route(
            "/workspace/{workspace_id:int}/asset/{dtable_uuid}/{path:path}",
            transfer.asset_url,
            methods=["GET", "HEAD"],
        )
    )
    # bases: gateway v2 and dtable-server v1
    out += base_routes(GATEWAY)
    for prefix in V1_BASES:
        out += base_routes(prefix)
    return out
