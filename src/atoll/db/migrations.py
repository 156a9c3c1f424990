"""Versioned schema migrations, one history for SQLite and PostgreSQL. Each step runs once, in
order, inside one transaction; concurrent starters on PostgreSQL queue on an advisory lock.

Add a step by appending ``(version, function)``; never edit a released step. ``ensure_schema``
is what commands call: it creates an empty database, and refuses an older or newer one (an
upgrade is the operator's explicit ``atoll db upgrade``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, inspect, select, text

from atoll.db import blob_backfill, schema
from atoll.errors import AtollError

Step = Callable[[Connection], None]
#: Any fixed number: the PostgreSQL advisory lock that serialises migrations.
MIGRATION_LOCK_ID = 0x61746F6C6C


class SchemaMismatch(AtollError):
    """The database's schema version is not the one this code needs."""


def _v1_initial(conn: Connection) -> None:
    schema.metadata.create_all(conn, checkfirst=True)


def _v2_server_settings(conn: Connection) -> None:
    schema.server_settings.create(conn, checkfirst=True)


def _v3_row_keys(conn: Connection) -> None:
    """The sort keys of cells. Existing rows get theirs from ``atoll db upgrade`` right after
    (services.rowkeys.backfill: the keys are the values the client sees, computed above db).
    The table-order index gains the row id, so a page is found on the index alone."""
    schema.row_keys.create(conn, checkfirst=True)
    conn.execute(text(f"DROP INDEX IF EXISTS {schema.OLD_ROWS_ORDER_INDEX}"))
    schema.ROWS_ORDER_INDEX.create(conn, checkfirst=True)


def _v4_upload_sessions(conn: Connection) -> None:
    """Resumable uploads (tus and Seafile-style chunks) keep their sessions here."""
    schema.upload_sessions.create(conn, checkfirst=True)


def _v5_row_links(conn: Connection) -> None:
    """Links between rows (link columns); bases had none before."""
    schema.row_links.create(conn, checkfirst=True)


def _v6_live_events(conn: Connection) -> None:
    """Live updates: the changes every server process sends to its socket.io listeners."""
    schema.live_events.create(conn, checkfirst=True)


def _v7_accounts(conn: Connection) -> None:
    """User accounts: users, their account tokens, failed sign-ins, workspace members; API
    tokens record who made them (``generated_by``)."""
    for table in (schema.users, schema.account_tokens, schema.login_attempts,
                  schema.workspace_members):
        table.create(conn, checkfirst=True)
    columns = {c["name"] for c in inspect(conn).get_columns("api_tokens")}
    if "generated_by" not in columns:  # absent unless step 1 made api_tokens with it
        conn.execute(text("ALTER TABLE api_tokens ADD COLUMN generated_by VARCHAR(255)"))


def _v8_asset_lifecycle(conn: Connection) -> None:
    """Asset references (which rows use which asset) and the asset trash. The references of
    existing rows are computed after the upgrade (``services.asset_refs.backfill``)."""
    for table in (schema.asset_refs, schema.asset_trash):
        table.create(conn, checkfirst=True)


def _v9_blobs(conn: Connection) -> None:
    """Content-addressed blobs with reference counts (db.blobs), filled from ``assets``. Files
    that already share content are grouped onto one blob: the smallest key of each
    (sha256, size) is kept and every asset of that content points at it; the other keys' bytes
    are then orphans, reported by ``atoll fsck`` and reaped by ``atoll gc``."""
    schema.blobs.create(conn, checkfirst=True)
    blob_backfill.backfill(conn, datetime.now(UTC).isoformat())


def _v10_thumbnails(conn: Connection) -> None:
    """Cached thumbnails: source content and edge length -> thumbnail blob."""
    schema.thumbnails.create(conn, checkfirst=True)


STEPS: list[tuple[int, Step]] = [
    (1, _v1_initial),
    (2, _v2_server_settings),
    (3, _v3_row_keys),
    (4, _v4_upload_sessions),
    (5, _v5_row_links),
    (6, _v6_live_events),
    (7, _v7_accounts),
    (8, _v8_asset_lifecycle),
    (9, _v9_blobs),
    (10, _v10_thumbnails),
]

LATEST = STEPS[-1][0]
#: The step that added ``row_keys``: an upgrade across it computes them (services.rowkeys).
ROW_KEYS_VERSION = 3
#: The first schema of an atoll that computes formula and auto-number cells (it added
#: ``row_links``): an upgrade across it fills them in (services.formula.backfill).
COMPUTED_CELLS_VERSION = 5
#: The step that added ``asset_refs``: an upgrade across it computes them (services.asset_refs).
ASSET_REFS_VERSION = 8


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table("schema_version"):
        return 0
    found = conn.execute(select(schema.schema_version.c.version)).scalars().all()
    return max(found, default=0)


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})


def migrate(engine: Engine, *, only_if_empty: bool = False) -> tuple[int, int]:
    """Bring the database to the latest version; return (from, to). With ``only_if_empty``,
    a database that already has a schema is left as it is."""
    with engine.connect() as raw:
        conn = raw.execution_options(atoll_write=True)  # SQLite: BEGIN IMMEDIATE
        with conn.begin():
            _lock(conn)
            before = version = current_version(conn)
            if only_if_empty and before:
                return before, before
            for number, step in STEPS:
                if number <= version:
                    continue
                step(conn)
                conn.execute(
                    schema.schema_version.insert().values(
                        version=number, applied_at=datetime.now(UTC).isoformat()
                    )
                )
                version = number
    return before, version


def ensure_schema(engine: Engine) -> int:
    """Create the schema in an empty database; refuse one that is older or newer than the code."""
    _, version = migrate(engine, only_if_empty=True)
    if version < LATEST:
        raise SchemaMismatch(
            f"the database schema is at version {version}, this atoll needs {LATEST}: "
            "run `atoll db upgrade` (with the same --db-url / ATOLL_DB_URL) first"
        )
    if version > LATEST:
        raise SchemaMismatch(
            f"the database schema is at version {version}, newer than this atoll knows ({LATEST}): "
            "run the newer atoll, or restore a backup made for this version"
        )
    return version
