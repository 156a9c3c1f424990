"""Sign-in (``POST /api2/auth-token/``): password check without user enumeration, and a rate
limit on failures per account and per client address, counted in the database (so every
process sharing it sees the same counts).

An unknown email, a disabled user and a wrong password all fail the same way, after the same
work: the password is always verified against a hash (a dummy one when there is no usable user).
A throttled sign-in is refused before any hash is computed, for known and unknown emails alike.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from sqlalchemy import Engine

from atoll.db import users as q
from atoll.db.engine import read_tx, write_tx
from atoll.db.users import User
from atoll.errors import AtollError
from atoll.services import accounts, passwords
from atoll.services.context import Context

#: Longest credential field read from the form (longer: treated as a failed sign-in).
MAX_LOGIN_FIELD_CHARS = passwords.MAX_PASSWORD_CHARS


class LoginFailed(AtollError):
    """Wrong email or password, or a disabled user: one answer for all (400)."""


class LoginThrottled(AtollError):
    """Too many failed sign-ins for this account or address (429)."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"Request was throttled. Expected available in {retry_after_s} seconds.")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Limits:
    window_s: int
    per_account: int
    per_address: int


def limits_of(ctx: Context) -> Limits:
    s = ctx.settings
    return Limits(s.login_window_s, s.login_max_failures_per_account, s.login_max_failures_per_address)


def account_key(email: str) -> str:
    return "account:" + email.strip().lower()


def address_key(address: str) -> str:
    return "address:" + address


def _retry_after(engine: Engine, keys: list[tuple[str, int]], limits: Limits, now: float) -> int:
    """0 when no key is over its limit, else the seconds until the oldest counted failure of
    the worst key ages out of the window."""
    since = now - limits.window_s
    wait = 0.0
    with read_tx(engine) as conn:
        for key, limit in keys:
            if limit <= 0:
                continue
            count, oldest = q.failures_since(conn, key, since)
            if count >= limit and oldest is not None:
                wait = max(wait, oldest + limits.window_s - now)
    return math.ceil(wait) if wait > 0 else 0


def _record_failure(engine: Engine, keys: list[str], limits: Limits, now: float) -> None:
    with write_tx(engine) as conn:
        q.prune_failures(conn, now - limits.window_s)
        q.add_failures(conn, keys, now)


def _usable_user(engine: Engine, email: str) -> User | None:
    with read_tx(engine) as conn:
        user = q.user_by_email(conn, email)
    return user


def _clear_account(engine: Engine, key: str) -> None:
    with write_tx(engine) as conn:
        q.clear_failures(conn, key)


async def sign_in(ctx: Context, email: str, password: str, address: str) -> str:
    """A new account token for a correct email and password; LoginFailed or LoginThrottled."""
    limits = limits_of(ctx)
    email = email.strip().lower()[:MAX_LOGIN_FIELD_CHARS]
    keys = [(account_key(email), limits.per_account), (address_key(address), limits.per_address)]
    wait = await ctx.run_db(_retry_after, ctx.engine, keys, limits, time.time())
    if wait:
        raise LoginThrottled(wait)
    user = await ctx.run_db(_usable_user, ctx.engine, email) if email else None
    stored = user.password_hash if user is not None and user.is_active else None
    ok = await passwords.verify_in_thread(stored, password[:MAX_LOGIN_FIELD_CHARS])
    if not ok or user is None or len(password) > MAX_LOGIN_FIELD_CHARS:
        await ctx.run_db(_record_failure, ctx.engine, [k for k, _ in keys], limits, time.time())
        raise LoginFailed("Unable to login with provided credentials.")
    await ctx.run_db(_clear_account, ctx.engine, account_key(email))
    return await ctx.run_db(accounts.issue_account_token, ctx.engine, user)
