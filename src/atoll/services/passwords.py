"""Password hashing: argon2id (argon2-cffi), with parameters measured on the reference machine
(docs/accounts.md, "Password hashing"). Hashing runs on worker threads, at most
``MAX_CONCURRENT_HASHES`` at once per process, so a burst of sign-ins cannot take every core
and ``ARGON2_MEMORY_KIB`` times the burst of memory.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

#: Passes over memory (argon2id t). With 64 MiB: about 260 ms per hash on the 2-core reference
#: machine (median of 5, docs/accounts.md); RFC 9106's second recommended setting.
ARGON2_TIME_COST = 3
#: Memory per hash in KiB (argon2id m): 64 MiB.
ARGON2_MEMORY_KIB = 64 * 1024
#: Lanes (argon2id p): 1, so that one sign-in uses one core.
ARGON2_PARALLELISM = 1
#: Hashes computed at once per process (the reference machine has 2 cores).
MAX_CONCURRENT_HASHES = 2
#: Shortest password accepted.
MIN_PASSWORD_CHARS = 8
#: Longest password accepted (argon2 takes any length; this bounds the work per request).
MAX_PASSWORD_CHARS = 1024

_hasher = PasswordHasher(
    time_cost=ARGON2_TIME_COST, memory_cost=ARGON2_MEMORY_KIB, parallelism=ARGON2_PARALLELISM
)
_slots = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)


def hash_password(password: str) -> str:
    with _slots:
        return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches; a malformed stored hash never matches."""
    try:
        with _slots:
            return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash of nothing anyone knows, with today's parameters: an unknown user's sign-in is
    checked against it, so that it takes as long as a wrong password."""
    return _hasher.hash("atoll: no such user")


async def verify_in_thread(stored_hash: str | None, password: str) -> bool:
    """``verify_password`` on a worker thread; ``None`` (no such user) verifies against the
    dummy hash and answers False."""

    def check() -> bool:
        target = stored_hash if stored_hash is not None else dummy_hash()
        return verify_password(target, password)

    matched = await anyio.to_thread.run_sync(check)
    return matched and stored_hash is not None


async def hash_in_thread(password: str) -> str:
    return await anyio.to_thread.run_sync(lambda: hash_password(password))
