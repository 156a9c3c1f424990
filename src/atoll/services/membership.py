"""A user's role in a workspace, as the account routes require it."""

from __future__ import annotations

from sqlalchemy import Connection

from atoll.db import users as q
from atoll.db.users import User
from atoll.errors import NotFound, PermissionDenied


def member_role(conn: Connection, user: User, workspace_id: int) -> q.Role:
    """The user's role: 404 when the workspace does not exist, 403 when the user is not an
    active member of it."""
    role = q.active_role(conn, workspace_id, user.id)
    if role is None:
        if not q.workspace_exists(conn, workspace_id):
            raise NotFound(f"workspace {workspace_id} not found.")
        raise PermissionDenied("Permission denied.")
    return role


def writing_role(conn: Connection, user: User, workspace_id: int) -> q.Role:
    """``member_role``, and 403 unless it may write (owner, admin, member)."""
    role = member_role(conn, user, workspace_id)
    if role not in q.WRITE_ROLES:
        raise PermissionDenied("Permission denied.")
    return role
