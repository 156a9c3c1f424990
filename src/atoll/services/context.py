"""What every use case needs: settings, the metadata engine, the blob store, the secrets."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import anyio.to_thread
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from atoll.config import Settings
from atoll.db.engine import make_engine
from atoll.db.group import Commits, commits_for
from atoll.db.lookups import Busy, Lookups
from atoll.db.migrations import ensure_schema
from atoll.db.prepared import Lookup
from atoll.db.secrets import stored_secret
from atoll.errors import DatabaseUnavailable, InsufficientStorage, InvalidInput
from atoll.services.planner_stats import PlannerStats
from atoll.storage import BlobStore, open_blob_store

T = TypeVar("T")
P = ParamSpec("P")
SECRET_BYTES = 32
#: SQLite's primary result code for "database or disk is full" (extended codes keep it in the low byte).
SQLITE_FULL = 13
#: PostgreSQL's SQLSTATE disk_full.
PG_DISK_FULL = "53100"
#: A secret given in a setting must be at least this long (HS256 wants 32 bytes of key).
MIN_SECRET_CHARS = 32


def _checked(value: str, source: str) -> bytes:
    value = value.strip()
    if len(value) < MIN_SECRET_CHARS:
        raise InvalidInput(f"{source} must be at least {MIN_SECRET_CHARS} characters long")
    return value.encode()


def _legacy_or_new(legacy: Path) -> Callable[[], str]:
    """The secret of a data dir made before secrets moved into the database, else a new one."""

    def make() -> str:
        try:
            return legacy.read_text().strip()
        except FileNotFoundError:
            return secrets.token_hex(SECRET_BYTES)

    return make


def signing_secret(settings: Settings, engine: Engine) -> bytes:
    """``secret``, else ``secret_file``, else the one stored in the database (made once)."""
    if settings.secret:
        return _checked(settings.secret, "ATOLL_SECRET")
    if settings.secret_file:
        try:
            text = Path(settings.secret_file).read_text()
        except OSError as exc:
            where = settings.secret_file
            raise InvalidInput(f"cannot read ATOLL_SECRET_FILE {where}: {exc.strerror}") from None
        return _checked(text, "the secret in ATOLL_SECRET_FILE")
    stored = stored_secret(engine, _legacy_or_new(settings.legacy_secret_path))
    return bytes.fromhex(stored) if len(stored) == 2 * SECRET_BYTES else stored.encode()


def previous_secrets(settings: Settings) -> tuple[bytes, ...]:
    parts = [p for p in settings.previous_secrets.split(",") if p.strip()]
    return tuple(_checked(p, "each of ATOLL_PREVIOUS_SECRETS") for p in parts)


@dataclass
class Context:
    settings: Settings
    engine: Engine
    blobs: BlobStore
    #: Signs new access tokens and links.
    secret: bytes
    #: Verify tokens and links: the signing secret first, then former ones still accepted.
    verify_keys: tuple[bytes, ...]

    @cached_property
    def commits(self) -> Commits:
        """How write jobs commit: grouped on SQLite, one transaction each elsewhere (``db.group``)."""
        return commits_for(self.engine)

    @cached_property
    def planner_stats(self) -> PlannerStats:
        """Counts bulk row writes and refreshes PostgreSQL's statistics (``planner_stats``)."""
        return PlannerStats(self.engine, self.settings.analyze_after_rows)

    @cached_property
    def lookups(self) -> Lookups:
        """Runs the hot single-row reads (tokens, bases, assets by path): see ``db.lookups``."""
        return Lookups(self.engine)

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        engine: Engine | None = None,
        blobs: BlobStore | None = None,
    ) -> Context:
        """Connect to the metadata store (creating an empty one's schema; an older schema is
        refused: ``atoll db upgrade``) and the blob store."""
        if settings.db_url.startswith("sqlite") or settings.storage.startswith("file:"):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = engine or make_engine(settings.db_url)
        ensure_schema(engine)
        blobs = blobs or open_blob_store(settings.storage, settings)
        secret = signing_secret(settings, engine)
        return cls(settings, engine, blobs, secret, (secret, *previous_secrets(settings)))

    async def run_db(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a blocking metadata call in a worker thread. A database that cannot be reached
        (down, restarting, connection lost) is a 503, not a 500: the caller may try again."""
        with self._database_errors():
            return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))

    async def commit(self, job: Callable[[Connection], T], *, quick: bool = False) -> T:
        """Run a write job (``db.group``): its result once it is durable. ``quick``: a few short
        statements, nothing else (may run on the event loop). Errors as ``run_db``."""
        with self._database_errors():
            return await self.commits.run(job, quick=quick)

    async def lookup(self, lookup: Lookup[T], **values: Any) -> T | None:
        """One hot single-row read (``db.lookups``): inline on SQLite unless the database is
        busy, else on a worker thread. Errors as ``run_db``."""
        with self._database_errors():
            if self.lookups.inline:
                try:
                    return self.lookups.run_inline(lookup, values)
                except Busy:
                    pass
            return await anyio.to_thread.run_sync(lambda: self.lookups.run_pooled(lookup, values))

    @contextmanager
    def _database_errors(self) -> Iterator[None]:
        """A database that failed (SQLAlchemy's errors, or the driver's own from prepared
        statements): 507 when its disk is full, else 503."""
        dbapi = self.engine.dialect.loaded_dbapi
        try:
            yield
        except (OperationalError, InterfaceError) as exc:
            raise _unavailable(exc.orig) from exc
        except (dbapi.OperationalError, dbapi.InterfaceError) as exc:
            raise _unavailable(exc) from exc

    def close(self) -> None:
        """Close what this context opened besides the engine (which its owner disposes)."""
        if "lookups" in self.__dict__:  # made on first use
            self.lookups.close()


def _unavailable(orig: BaseException | None) -> Exception:
    """The error for a database that failed: 507 when its disk is full, else 503."""
    if database_full(orig):
        return InsufficientStorage(
            "Not enough storage space: the metadata database's disk is full. "
            "Free some space or try again later."
        )
    return DatabaseUnavailable("The metadata database is unavailable; try again shortly.")


def database_full(orig: BaseException | None) -> bool:
    """Whether a driver error means the database's disk is full (SQLITE_FULL, PG disk_full)."""
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF == SQLITE_FULL:
        return True
    return getattr(orig, "sqlstate", None) == PG_DISK_FULL
