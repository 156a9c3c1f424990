"""Queries for workspaces, bases (dtables) and API tokens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select, update

from atoll.db import schema
from atoll.models import ApiToken, Dtable, Permission, Workspace
from atoll.timeutil import parse_iso


def dtable_of(row: Mapping[Any, Any]) -> Dtable:
    return Dtable(uuid=row["uuid"], name=row["name"], workspace_id=row["workspace_id"])


def token_of(row: Mapping[Any, Any]) -> ApiToken:
    perm: Permission = "rw" if row["permission"] == "rw" else "r"
    return ApiToken(
        token=row["token"],
        dtable_uuid=row["dtable_uuid"],
        app_name=row["app_name"],
        permission=perm,
        created_at=parse_iso(row["created_at"]),
        revoked=bool(row["revoked"]),
        generated_by=row.get("generated_by") or "",
        last_access=row.get("last_access"),
    )


def get_or_create_workspace(conn: Connection, name: str) -> Workspace:
    t = schema.workspaces
    row = conn.execute(select(t).where(t.c.name == name)).mappings().first()
    if row is None:
        new_id = conn.execute(t.insert().values(name=name)).inserted_primary_key
        assert new_id is not None
        return Workspace(id=int(new_id[0]), name=name)
    return Workspace(id=row["id"], name=row["name"])


def find_dtable(conn: Connection, workspace_id: int, name: str) -> Dtable | None:
    t = schema.dtables
    row = (
        conn.execute(select(t).where(t.c.workspace_id == workspace_id, t.c.name == name))
        .mappings()
        .first()
    )
    return dtable_of(row) if row else None


def get_dtable(conn: Connection, dtable_uuid: str) -> Dtable | None:
    t = schema.dtables
    row = conn.execute(select(t).where(t.c.uuid == dtable_uuid)).mappings().first()
    return dtable_of(row) if row else None


def insert_dtable(conn: Connection, dtable: Dtable, created_at: str) -> None:
    conn.execute(
        schema.dtables.insert().values(
            uuid=dtable.uuid,
            workspace_id=dtable.workspace_id,
            name=dtable.name,
            created_at=created_at,
        )
    )


def insert_token(conn: Connection, token: ApiToken) -> None:
    conn.execute(
        schema.api_tokens.insert().values(
            token=token.token,
            dtable_uuid=token.dtable_uuid,
            app_name=token.app_name,
            permission=token.permission,
            created_at=token.created_at.isoformat(),
            revoked=False,
            generated_by=token.generated_by or None,
        )
    )


def list_tokens(conn: Connection) -> list[tuple[ApiToken, Dtable]]:
    t, d = schema.api_tokens, schema.dtables
    query = select(t, d.c.name, d.c.workspace_id, d.c.uuid).join(d, d.c.uuid == t.c.dtable_uuid)
    out = []
    for row in conn.execute(query.order_by(t.c.created_at)).mappings():
        out.append((token_of(row), dtable_of(row)))
    return out


def revoke_token(conn: Connection, token: str) -> bool:
    t = schema.api_tokens
    result = conn.execute(update(t).where(t.c.token == token).values(revoked=True))
    return bool(result.rowcount)


def touch_token(conn: Connection, token: str, when: str) -> None:
    t = schema.api_tokens
    conn.execute(update(t).where(t.c.token == token).values(last_access=when))
