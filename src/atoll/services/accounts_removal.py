"""Taking people out: remove a user from a workspace, delete a user (docs/accounts.md).

Both take effect at once: every request checks the caller's user and membership in the database
(account tokens, temporary API tokens); nothing is cached. API tokens belong to their base, not
to the user who made them, and keep working until revoked (``atoll token revoke``).
"""

from __future__ import annotations

from sqlalchemy import Engine

from atoll.db import users as q
from atoll.db.engine import write_tx
from atoll.errors import Conflict, InvalidInput, NotFound
from atoll.services.accounts import user_and_workspace
from atoll.services.accounts_login import account_key


def remove_member(engine: Engine, workspace: str, email: str) -> None:
    """Take a user out of a workspace (by name). Their own personal workspace cannot lose them."""
    with write_tx(engine) as conn:
        user, ws = user_and_workspace(conn, email, workspace)
        if ws.id == user.personal_workspace_id:
            raise InvalidInput(f"{workspace!r} is {user.email}'s personal workspace: "
                               "delete the user instead")
        if not q.remove_member(conn, ws.id, user.id):
            raise NotFound(f"{user.email} is not a member of {workspace!r}")


def delete_user(engine: Engine, email: str) -> None:
    """Delete a user with their account tokens, memberships and personal workspace. Refused
    (Conflict) while the personal workspace holds bases: nothing is deleted with the user."""
    with write_tx(engine) as conn:
        user = q.user_by_email(conn, email.strip().lower())
        if user is None:
            raise NotFound(f"no user {email}")
        pw = user.personal_workspace_id
        held = q.bases_in(conn, [pw]) if pw is not None else []
        if held:
            names = ", ".join(sorted(b.dtable.name for b in held))
            raise Conflict(f"{user.email}'s personal workspace holds {len(held)} base(s) "
                           f"({names}): move or delete them first; nothing was deleted")
        q.delete_user(conn, user)
        q.clear_failures(conn, account_key(user.email))
