"""User accounts: create, list, disable, set a password; account tokens (docs/accounts.md).

Each user gets a personal workspace on creation, of which they are the owner. Account tokens
(``Authorization: Token <40 hex>`` on the account routes) are stored as their SHA-256 only and
checked on every request against the user's current state (no cache): disabling a user or
setting a new password shuts their tokens out at once.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from atoll.db import users as q
from atoll.db.engine import read_tx, write_tx
from atoll.db.users import User
from atoll.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from atoll.models import Workspace
from atoll.services import passwords
from atoll.services.context import Context
from atoll.timeutil import utcnow

#: Account tokens are this many random bytes, as hex (40 characters, like SeaTable's).
ACCOUNT_TOKEN_HEX_BYTES = 20
#: Account tokens kept per user: each sign-in makes one; the oldest beyond this are deleted.
MAX_ACCOUNT_TOKENS_PER_USER = 20
#: Longest email and name accepted.
MAX_EMAIL_CHARS = 254
MAX_NAME_CHARS = 255
#: The name of a user's personal workspace (workspace names are unique).
PERSONAL_WORKSPACE_PREFIX = "personal:"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


class AccountTokenInvalid(AuthenticationFailed):
    """An account token that is unknown, or whose user is disabled (401)."""


def normal_email(email: str) -> str:
    """The stored form of an email: trimmed, lowercased; malformed -> InvalidInput."""
    value = email.strip().lower()
    if len(value) > MAX_EMAIL_CHARS or not _EMAIL.match(value):
        raise InvalidInput(f"{email!r} is not an email address")
    return value


def check_password(password: str) -> None:
    if len(password) < passwords.MIN_PASSWORD_CHARS:
        raise InvalidInput(f"the password must be at least {passwords.MIN_PASSWORD_CHARS} characters")
    if len(password) > passwords.MAX_PASSWORD_CHARS:
        raise InvalidInput(f"the password must be at most {passwords.MAX_PASSWORD_CHARS} characters")


def personal_workspace_name(email: str) -> str:
    return PERSONAL_WORKSPACE_PREFIX + email


def create_user(engine: Engine, email: str, password: str, *, name: str = "",
                is_admin: bool = False) -> User:
    """A new active user with a personal workspace they own. Taken email -> Conflict."""
    email = normal_email(email)
    check_password(password)
    name = (name or email.split("@", 1)[0]).strip()
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput(f"the name must be at most {MAX_NAME_CHARS} characters")
    password_hash = passwords.hash_password(password)
    try:
        with write_tx(engine) as conn:
            if q.user_by_email(conn, email) is not None:
                raise Conflict(f"a user {email} already exists")
            user_id = q.insert_user(conn, email=email, name=name, password_hash=password_hash,
                                    is_admin=is_admin, created_at=utcnow().isoformat())
            workspace_id = q.insert_workspace(conn, personal_workspace_name(email))
            q.set_personal_workspace(conn, user_id, workspace_id)
            q.add_member(conn, workspace_id, user_id, "owner")
            user = q.user_by_email(conn, email)
    except IntegrityError:
        raise Conflict(f"a user {email} or a workspace {personal_workspace_name(email)!r} "
                       "already exists") from None
    assert user is not None
    return user


def list_users(engine: Engine) -> list[User]:
    with read_tx(engine) as conn:
        return q.list_users(conn)


def find_user(engine: Engine, email: str) -> User | None:
    with read_tx(engine) as conn:
        return q.user_by_email(conn, email.strip().lower())


def set_active(engine: Engine, email: str, active: bool) -> None:
    """Disable (or enable) a user: a disabled user's account and temporary tokens fail at once."""
    with write_tx(engine) as conn:
        if not q.set_active(conn, email.strip().lower(), active):
            raise NotFound(f"no user {email}")


def set_password(engine: Engine, email: str, password: str) -> None:
    """A new password; the user's account tokens are deleted (signed out everywhere)."""
    check_password(password)
    password_hash = passwords.hash_password(password)
    with write_tx(engine) as conn:
        user = q.user_by_email(conn, email.strip().lower())
        if user is None:
            raise NotFound(f"no user {email}")
        q.set_password_hash(conn, user.id, password_hash)
        q.delete_account_tokens(conn, user.id)


def add_member(engine: Engine, workspace: str, email: str, role: q.Role) -> None:
    """Make a user a member of a workspace (by name) with a role."""
    if role not in q.ROLES:
        raise InvalidInput(f"role must be one of {', '.join(q.ROLES)}")
    with write_tx(engine) as conn:
        user, ws = user_and_workspace(conn, email, workspace)
        q.add_member(conn, ws.id, user.id, role)


def user_and_workspace(conn: Connection, email: str, workspace: str) -> tuple[User, Workspace]:
    """The user (by email) and the workspace (by name), or NotFound naming the missing one."""
    user = q.user_by_email(conn, email.strip().lower())
    if user is None:
        raise NotFound(f"no user {email}")
    ws = q.workspace_by_name(conn, workspace)
    if ws is None:
        raise NotFound(f"no workspace {workspace!r}")
    return user, ws


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_account_token(engine: Engine, user: User) -> str:
    token = secrets.token_hex(ACCOUNT_TOKEN_HEX_BYTES)
    with write_tx(engine) as conn:
        q.insert_account_token(conn, token_hash(token), user.id, utcnow().isoformat(),
                               MAX_ACCOUNT_TOKENS_PER_USER)
    return token


def _user_of_token(engine: Engine, token: str) -> User | None:
    with read_tx(engine) as conn:
        return q.active_user_by_token_hash(conn, token_hash(token))


async def authenticate_account_token(ctx: Context, token: str) -> User:
    """The active user of an account token; unknown token or disabled user -> AccountTokenInvalid."""
    user = await ctx.run_db(_user_of_token, ctx.engine, token)
    if user is None:
        raise AccountTokenInvalid("Invalid token")
    return user
