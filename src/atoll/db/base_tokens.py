"""Queries for one base's API tokens by app name (the api-tokens route of user accounts)."""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from atoll.db import schema
from atoll.db.access import token_of
from atoll.models import ApiToken, Permission


def active_tokens(conn: Connection, dtable_uuid: str) -> list[ApiToken]:
    t = schema.api_tokens
    rows = conn.execute(select(t).where(t.c.dtable_uuid == dtable_uuid, t.c.revoked.is_(False))
                        .order_by(t.c.created_at, t.c.token)).mappings()
    return [token_of(r) for r in rows]


def active_by_app(conn: Connection, dtable_uuid: str, app_name: str) -> list[ApiToken]:
    t = schema.api_tokens
    rows = conn.execute(select(t).where(t.c.dtable_uuid == dtable_uuid, t.c.app_name == app_name,
                                        t.c.revoked.is_(False)).order_by(t.c.created_at)).mappings()
    return [token_of(r) for r in rows]


def set_permission(conn: Connection, dtable_uuid: str, app_name: str, permission: Permission) -> None:
    t = schema.api_tokens
    conn.execute(update(t).where(t.c.dtable_uuid == dtable_uuid, t.c.app_name == app_name,
                                 t.c.revoked.is_(False)).values(permission=permission))


def revoke_app(conn: Connection, dtable_uuid: str, app_name: str) -> int:
    t = schema.api_tokens
    result = conn.execute(update(t).where(t.c.dtable_uuid == dtable_uuid, t.c.app_name == app_name,
                                          t.c.revoked.is_(False)).values(revoked=True))
    return int(result.rowcount)
