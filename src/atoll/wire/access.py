"""The JSON of the auth exchange (``app-access-token``)."""

from __future__ import annotations

from atoll.models import Principal
from atoll.wire.shapes import AppAccessToken


def dtable_server_url(public_url: str) -> str:
    """Where v1 clients send base calls; SeaTable 6.x answers ``<host>/api-gateway/``."""
    return public_url.rstrip("/") + "/api-gateway/"


def dtable_db_url(public_url: str) -> str:
    return public_url.rstrip("/") + "/dtable-db/"


def app_access_token_json(principal: Principal, access_token: str, public_url: str) -> AppAccessToken:
    """SeaTable 6.x's seven keys, plus ``dtable_db`` (clients <= 3.x read it; see
    docs/seatable-compatibility.md)."""
    return {
        "app_name": principal.app_name,
        "access_token": access_token,
        "dtable_uuid": principal.dtable.uuid,
        "dtable_server": dtable_server_url(public_url),
        "dtable_db": dtable_db_url(public_url),
        "workspace_id": principal.dtable.workspace_id,
        "dtable_name": principal.dtable.name,
        "use_api_gateway": True,
    }
