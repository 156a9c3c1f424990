"""Queries for user accounts: users, account tokens, failed sign-ins and workspace members."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, delete, func, select, update

from atoll.db import schema
from atoll.db.access import dtable_of
from atoll.models import Dtable, Workspace

Role = Literal["owner", "admin", "member", "readonly"]
ROLES: tuple[Role, ...] = ("owner", "admin", "member", "readonly")
#: Roles that may add bases to a workspace and write to its bases.
WRITE_ROLES: tuple[Role, ...] = ("owner", "admin", "member")


@dataclass(frozen=True)
class User:
    id: int
    email: str
    name: str
    password_hash: str
    is_admin: bool
    is_active: bool
    personal_workspace_id: int | None
    created_at: str


@dataclass(frozen=True)
class Membership:
    workspace: Workspace
    role: Role
    personal: bool  # the user's own personal workspace


@dataclass(frozen=True)
class BaseRecord:
    dtable: Dtable
    created_at: str


def _user(row: Mapping[Any, Any]) -> User:
    return User(
        id=int(row["id"]), email=row["email"], name=row["name"],
        password_hash=row["password_hash"], is_admin=bool(row["is_admin"]),
        is_active=bool(row["is_active"]), personal_workspace_id=row["personal_workspace_id"],
        created_at=row["created_at"],
    )


def _role(value: str) -> Role:
    for role in ROLES:
        if role == value:
            return role
    return "readonly"  # an unknown stored role grants the least


def insert_user(conn: Connection, *, email: str, name: str, password_hash: str, is_admin: bool,
                created_at: str) -> int:
    new_id = conn.execute(schema.users.insert().values(
        email=email, name=name, password_hash=password_hash, is_admin=is_admin, is_active=True,
        created_at=created_at,
    )).inserted_primary_key
    assert new_id is not None
    return int(new_id[0])


def insert_workspace(conn: Connection, name: str) -> int:
    new_id = conn.execute(schema.workspaces.insert().values(name=name)).inserted_primary_key
    assert new_id is not None
    return int(new_id[0])


def set_personal_workspace(conn: Connection, user_id: int, workspace_id: int) -> None:
    t = schema.users
    conn.execute(update(t).where(t.c.id == user_id).values(personal_workspace_id=workspace_id))


def user_by_email(conn: Connection, email: str) -> User | None:
    t = schema.users
    row = conn.execute(select(t).where(t.c.email == email)).mappings().first()
    return _user(row) if row else None


def list_users(conn: Connection) -> list[User]:
    t = schema.users
    return [_user(r) for r in conn.execute(select(t).order_by(t.c.id)).mappings()]


def set_active(conn: Connection, email: str, active: bool) -> bool:
    t = schema.users
    return bool(conn.execute(update(t).where(t.c.email == email).values(is_active=active)).rowcount)


def set_password_hash(conn: Connection, user_id: int, password_hash: str) -> None:
    t = schema.users
    conn.execute(update(t).where(t.c.id == user_id).values(password_hash=password_hash))


# ---- account tokens ----------------------------------------------------------------------------

def insert_account_token(conn: Connection, token_hash: str, user_id: int, created_at: str,
                         keep: int) -> None:
    """Store a new token's hash; the user's oldest tokens beyond ``keep`` are deleted."""
    t = schema.account_tokens
    conn.execute(t.insert().values(token_hash=token_hash, user_id=user_id, created_at=created_at))
    old = (select(t.c.token_hash).where(t.c.user_id == user_id)
           .order_by(t.c.created_at.desc(), t.c.token_hash).offset(keep))
    stale = list(conn.execute(old).scalars())
    if stale:
        conn.execute(delete(t).where(t.c.token_hash.in_(stale)))


def delete_account_tokens(conn: Connection, user_id: int) -> None:
    t = schema.account_tokens
    conn.execute(delete(t).where(t.c.user_id == user_id))


def active_user_by_token_hash(conn: Connection, token_hash: str) -> User | None:
    """The token's user if it is active (a disabled user's tokens open nothing)."""
    t, u = schema.account_tokens, schema.users
    row = conn.execute(
        select(u).join(t, t.c.user_id == u.c.id).where(t.c.token_hash == token_hash)
    ).mappings().first()
    if row is None:
        return None
    user = _user(row)
    return user if user.is_active else None


# ---- failed sign-ins ---------------------------------------------------------------------------

def failures_since(conn: Connection, key: str, since: float) -> tuple[int, float | None]:
    """How many failures ``key`` had after ``since``, and the oldest of them."""
    t = schema.login_attempts
    row = conn.execute(
        select(func.count(), func.min(t.c.at)).where(t.c.key == key, t.c.at > since)
    ).one()
    return int(row[0]), (float(row[1]) if row[1] is not None else None)


def add_failures(conn: Connection, keys: Iterable[str], at: float) -> None:
    conn.execute(schema.login_attempts.insert(), [{"key": k, "at": at} for k in keys])


def prune_failures(conn: Connection, before: float) -> None:
    """Forget every failure at or before ``before`` (out of the window: no longer counted)."""
    t = schema.login_attempts
    conn.execute(delete(t).where(t.c.at <= before))


def clear_failures(conn: Connection, key: str) -> None:
    t = schema.login_attempts
    conn.execute(delete(t).where(t.c.key == key))


# ---- workspaces and members --------------------------------------------------------------------

def add_member(conn: Connection, workspace_id: int, user_id: int, role: Role) -> None:
    t = schema.workspace_members
    found = conn.execute(select(t.c.role).where(
        t.c.workspace_id == workspace_id, t.c.user_id == user_id)).first()
    if found is None:
        conn.execute(t.insert().values(workspace_id=workspace_id, user_id=user_id, role=role))
    else:
        conn.execute(update(t).where(t.c.workspace_id == workspace_id, t.c.user_id == user_id)
                     .values(role=role))


def remove_member(conn: Connection, workspace_id: int, user_id: int) -> bool:
    t = schema.workspace_members
    gone = conn.execute(delete(t).where(t.c.workspace_id == workspace_id, t.c.user_id == user_id))
    return bool(gone.rowcount)


def delete_user(conn: Connection, user: User) -> None:
    """The user, their account tokens and memberships; then their personal workspace (the caller
    made sure it holds no base)."""
    m, t = schema.workspace_members, schema.account_tokens
    conn.execute(delete(t).where(t.c.user_id == user.id))
    conn.execute(delete(m).where(m.c.user_id == user.id))
    conn.execute(delete(schema.users).where(schema.users.c.id == user.id))
    if user.personal_workspace_id is not None:
        w = schema.workspaces
        conn.execute(delete(m).where(m.c.workspace_id == user.personal_workspace_id))
        conn.execute(delete(w).where(w.c.id == user.personal_workspace_id))


def workspace_by_name(conn: Connection, name: str) -> Workspace | None:
    t = schema.workspaces
    row = conn.execute(select(t).where(t.c.name == name)).mappings().first()
    return Workspace(id=int(row["id"]), name=row["name"]) if row else None


def active_role(conn: Connection, workspace_id: int, user_id: int) -> Role | None:
    """The user's role in the workspace; None when not a member or the user is disabled."""
    m, u = schema.workspace_members, schema.users
    value = conn.execute(
        select(m.c.role).join(u, u.c.id == m.c.user_id)
        .where(m.c.workspace_id == workspace_id, m.c.user_id == user_id, u.c.is_active)
    ).scalar()
    return _role(value) if value is not None else None


def memberships(conn: Connection, user: User) -> list[Membership]:
    m, w = schema.workspace_members, schema.workspaces
    rows = conn.execute(
        select(w.c.id, w.c.name, m.c.role).join(m, m.c.workspace_id == w.c.id)
        .where(m.c.user_id == user.id).order_by(w.c.id)
    ).mappings()
    return [Membership(Workspace(int(r["id"]), r["name"]), _role(r["role"]),
                       int(r["id"]) == user.personal_workspace_id) for r in rows]


def bases_in(conn: Connection, workspace_ids: list[int]) -> list[BaseRecord]:
    d = schema.dtables
    rows = conn.execute(select(d).where(d.c.workspace_id.in_(workspace_ids))
                        .order_by(d.c.workspace_id, d.c.created_at, d.c.name)).mappings()
    return [BaseRecord(dtable_of(r), r["created_at"]) for r in rows]


def base_by_name(conn: Connection, workspace_id: int, name: str) -> BaseRecord | None:
    d = schema.dtables
    row = conn.execute(select(d).where(d.c.workspace_id == workspace_id, d.c.name == name)
                       ).mappings().first()
    return BaseRecord(dtable_of(row), row["created_at"]) if row else None


def workspace_exists(conn: Connection, workspace_id: int) -> bool:
    t = schema.workspaces
    return conn.execute(select(t.c.id).where(t.c.id == workspace_id)).first() is not None
