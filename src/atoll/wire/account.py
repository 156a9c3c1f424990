"""The account routes' JSON (``Account`` of the official client; docs/accounts.md).

Key sets follow the recordings of SeaTable 6.x (``test_authentication``, ``test_account``,
``test_base_operations/test_createBase``); the workspace list was not recorded: its items carry
the keys both client versions read (``id``, ``type``, ``owner_type``, ``group_id``) and the
workspace's name and bases. Errors follow dtable-web/Django REST framework: sign-in failures
``{"non_field_errors": [...]}``, token failures ``{"detail": ...}``.

No ``from __future__ import annotations`` here: see ``wire/schema.py``.
"""

import zlib
from datetime import datetime
from typing import Annotated, Literal, NotRequired, TypedDict

AUTH_TOKEN = "/api2/auth-token/"
ACCOUNT_INFO = "/api2/account/info/"
WORKSPACES = "/api/v2.1/workspaces/"
DTABLES = "/api/v2.1/dtables/"
DTABLE_COPY = "/api/v2.1/dtable-copy/"
TEMP_API_TOKEN = "/api/v2.1/workspace/{workspace_id:int}/dtable/{name}/temp-api-token/"
API_TOKENS = "/api/v2.1/workspace/{workspace_id:int}/dtable/{name}/api-tokens/"
API_TOKEN = "/api/v2.1/workspace/{workspace_id:int}/dtable/{name}/api-tokens/{app_name}/"

LOGIN_FAILED_MESSAGE = "Unable to login with provided credentials."
NO_CREDENTIALS_MESSAGE = "Authentication credentials were not provided."
INVALID_TOKEN_MESSAGE = "Invalid token"


class AuthToken(TypedDict):
    token: Annotated[str, "an account token: 40 hex characters"]


class LoginFailed(TypedDict):
    non_field_errors: list[str]


class Detail(TypedDict):
    """A token failure (401, 403) or a throttled sign-in (429)."""

    detail: str


class AccountInfo(TypedDict):
    """``GET /api2/account/info/``: the recorded 19 keys; quotas and counters are atoll's
    (no limits: -1, nothing counted: 0)."""

    api_calls_limit: int
    api_calls_usage_rate: str
    avatar_url: str
    contact_email: str
    dtable_collaborate_email_interval: int
    dtable_updates_email_interval: int
    email: Annotated[str, "the user's email (add_base sends it back as owner)"]
    enable_subscription: bool
    institution: str
    is_cloud_personal_account: bool
    is_staff: bool
    login_id: str
    name: str
    row_total: int
    row_usage: int
    row_usage_rate: str
    space_usage: str
    total: int
    usage: int


class BaseInfo(TypedDict):
    """A base as ``POST /api/v2.1/dtables/`` answers it (the recorded 11 keys)."""

    color: None
    created_at: str
    icon: None
    id: Annotated[int, "a number derived from the uuid (atoll has no numeric base ids)"]
    in_storage: bool
    is_encrypted: bool
    name: str
    text_color: None
    updated_at: str
    uuid: str
    workspace_id: int


class AddedBase(TypedDict):
    table: BaseInfo


class CopiedBase(TypedDict):
    """``POST /api/v2.1/dtable-copy/``: the new base (the clients read ``dtable``)."""

    dtable: BaseInfo


class WorkspaceItem(TypedDict):
    id: int
    name: str
    type: Literal["personal", "group"]
    owner_type: Literal["Personal", "Group"]
    group_id: NotRequired[Annotated[int, "group workspaces: the workspace id (owner <id>@seafile_group)"]]
    group_name: NotRequired[str]
    role: Annotated[str, "atoll's: the caller's role (owner, admin, member, readonly)"]
    table_list: list[BaseInfo]


class Workspaces(TypedDict):
    workspace_list: list[WorkspaceItem]


class TempApiToken(TypedDict):
    api_token: Annotated[str, "a JWT accepted wherever an API token is, for a short time"]


class ApiTokenInfo(TypedDict):
    """One API token of a base (the recorded 6 keys)."""

    api_token: Annotated[str, "40 hex characters"]
    app_name: str
    generated_at: Annotated[str, "ISO 8601, seconds, UTC offset"]
    generated_by: Annotated[str, "the email of the user who made it; '' for atoll token create"]
    last_access: Annotated[str, "its last exchange for an access token; at first generated_at"]
    permission: Literal["rw", "r"]


class ApiTokens(TypedDict):
    api_tokens: list[ApiTokenInfo]


class ApiTokenBody(TypedDict):
    app_name: str
    permission: NotRequired[Literal["rw", "r"]]


def api_token_json(*, token: str, app_name: str, permission: Literal["rw", "r"],
                   generated_at: datetime, generated_by: str, last_access: str | None
                   ) -> ApiTokenInfo:
    made = generated_at.isoformat(timespec="seconds")
    return {
        "api_token": token,
        "app_name": app_name,
        "generated_at": made,
        "generated_by": generated_by,
        "last_access": last_access or made,
        "permission": permission,
    }


def auth_token_json(token: str) -> AuthToken:
    return {"token": token}


def login_failed_json() -> LoginFailed:
    return {"non_field_errors": [LOGIN_FAILED_MESSAGE]}


def detail_json(message: str) -> Detail:
    return {"detail": message}


def account_info_json(*, email: str, name: str, is_admin: bool) -> AccountInfo:
    return {
        "api_calls_limit": -1,
        "api_calls_usage_rate": "0%",
        "avatar_url": "",
        "contact_email": email,
        "dtable_collaborate_email_interval": 0,
        "dtable_updates_email_interval": 0,
        "email": email,
        "enable_subscription": False,
        "institution": "",
        "is_cloud_personal_account": True,
        "is_staff": is_admin,
        "login_id": "",
        "name": name,
        "row_total": -1,
        "row_usage": 0,
        "row_usage_rate": "0%",
        "space_usage": "0%",
        "total": -1,
        "usage": 0,
    }


def base_number(dtable_uuid: str) -> int:
    """A stable positive number for a base (its ``id``): CRC-32 of the uuid, 31 bits."""
    return zlib.crc32(dtable_uuid.encode()) & 0x7FFFFFFF


def base_json(*, uuid: str, name: str, workspace_id: int, created_at: str) -> BaseInfo:
    return {
        "color": None,
        "created_at": created_at,
        "icon": None,
        "id": base_number(uuid),
        "in_storage": True,
        "is_encrypted": False,
        "name": name,
        "text_color": None,
        "updated_at": created_at,
        "uuid": uuid,
        "workspace_id": workspace_id,
    }


def workspace_json(*, workspace_id: int, name: str, personal: bool, role: str,
                   tables: list[BaseInfo]) -> WorkspaceItem:
    item: WorkspaceItem = {
        "id": workspace_id,
        "name": name,
        "type": "personal" if personal else "group",
        "owner_type": "Personal" if personal else "Group",
        "role": role,
        "table_list": tables,
    }
    if not personal:
        item["group_id"] = workspace_id
        item["group_name"] = name
    return item
