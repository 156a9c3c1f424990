"""The metadata schema, one definition for SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", String(40), nullable=False),
)

# Server-wide values every process must agree on (the token-signing secret).
server_settings = Table(
    "server_settings",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
)

dtables = Table(
    "dtables",
    metadata,
    Column("uuid", String(36), primary_key=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("created_at", String(40), nullable=False),
    UniqueConstraint("workspace_id", "name"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token", String(64), primary_key=True),
    Column("dtable_uuid", String(36), ForeignKey("dtables.uuid"), nullable=False, index=True),
    Column("app_name", String(255), nullable=False),
    Column("permission", String(2), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("last_access", String(40), nullable=True),
    Column("revoked", Boolean, nullable=False, default=False),
    # who made it: a user's email (the api-tokens route), NULL for `atoll token create` (step 7)
    Column("generated_by", String(255), nullable=True),
)

# Folders of a base's asset tree, relative to /asset/<uuid>: "/", "/files", "/custom/Main"...
asset_dirs = Table(
    "asset_dirs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dtable_uuid", String(36), ForeignKey("dtables.uuid"), nullable=False),
    Column("path", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
    UniqueConstraint("dtable_uuid", "path"),
)

# Files of a base's asset tree. blob_key is ours alone: it never contains user input.
assets = Table(
    "assets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dtable_uuid", String(36), ForeignKey("dtables.uuid"), nullable=False),
    Column("dir_path", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("blob_key", String(128), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("mtime", String(40), nullable=False),
    Column("uuid", String(36), nullable=False, unique=True),
    UniqueConstraint("dtable_uuid", "dir_path", "name"),
)
Index("ix_assets_blob_key", assets.c.blob_key)

# A base's table structure (tables, columns, views) as one JSON document, versioned.
dtable_docs = Table(
    "dtable_docs",
    metadata,
    Column("dtable_uuid", String(36), ForeignKey("dtables.uuid"), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("doc", Text, nullable=False),
)

rows = Table(
    "rows",
    metadata,
    Column("dtable_uuid", String(36), ForeignKey("dtables.uuid"), primary_key=True),
    Column("row_id", String(22), primary_key=True),
    Column("table_id", String(8), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("data", Text, nullable=False),  # JSON object keyed by column key
    Column("ctime", String(40), nullable=False),
    Column("mtime", String(40), nullable=False),
    Column("creator", String(255), nullable=False),
    Column("last_modifier", String(255), nullable=False),
)
#: Table order, with the row id: a page is found on the index alone (OFFSET skips index entries).
ROWS_ORDER_INDEX = Index(
    "ix_rows_table_order", rows.c.dtable_uuid, rows.c.table_id, rows.c.seq, rows.c.row_id
)
#: The index schema 1 and 2 had instead (dropped by step 3).
OLD_ROWS_ORDER_INDEX = "ix_rows_table_seq"

# One sort key per non-empty cell (services/rowkeys.py computes it from the value the client sees),
# kept in step with ``rows`` in the same transaction, so the database sorts and pages.
# kind 0: number (num); 1: text, 2: other (head/tail: an order-preserving byte encoding, split
# at ROW_KEY_HEAD_BYTES so that index entries stay small; tail is NULL unless it was split).
row_keys = Table(
    "row_keys",
    metadata,
    Column("dtable_uuid", String(36), ForeignKey("dtables.uuid"), primary_key=True),
    Column("table_id", String(8), primary_key=True),
    Column("row_id", String(22), primary_key=True),
    Column("column_key", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("kind", SmallInteger, nullable=False),
    Column("num", Double, nullable=False),
    Column("head", LargeBinary, nullable=False),
    Column("tail", LargeBinary, nullable=True),
)
_KEY_PREFIX = (row_keys.c.dtable_uuid, row_keys.c.table_id, row_keys.c.column_key)
_KEY_ORDER = (row_keys.c.kind, row_keys.c.num, row_keys.c.head)
# Ascending sorts read this one forwards; descending ones read the second backwards (key
# descending, ties still in table order).
Index("ix_row_keys_asc", *_KEY_PREFIX, *_KEY_ORDER, row_keys.c.seq, row_keys.c.row_id)
Index("ix_row_keys_desc", *_KEY_PREFIX, *_KEY_ORDER, row_keys.c.seq.desc(), row_keys.c.row_id.desc())

# Links between rows (link columns): one record per linked pair of one link (``link_id``, shared
# by a link column and its mirror). The pair is stored one way only: ``table_id`` is the smaller
# of the two table ids (db/links.py); a link of a table to itself stores (smaller, larger) row id.
# The primary key serves one direction, ix_row_links_other the other.
row_links = Table(
    "row_links",
    metadata,
    Column("dtable_uuid", String(36), ForeignKey("dtables.uuid"), primary_key=True),
    Column("link_id", String(8), primary_key=True),
    Column("row_id", String(22), primary_key=True),
    Column("other_row_id", String(22), primary_key=True),
    Column("table_id", String(8), nullable=False),
    Column("other_table_id", String(8), nullable=False),
)
Index(
    "ix_row_links_other",
    row_links.c.dtable_uuid,
    row_links.c.link_id,
    row_links.c.other_row_id,
    row_links.c.row_id,
)

# Resumable uploads (tus, Seafile-style chunks) in progress: the bytes live in the blob store's
# partial area under blob_key (store_state says where, as JSON); received counts the durable bytes.
# id_hash is the SHA-256 of the upload URL's secret id (the URL is the credential); chunked
# sessions also have natural_key (base, folder and name). state: open, completing (all bytes
# durable, the commit is being rolled forward), done (result holds the answer), terminated.
upload_sessions = Table(
    "upload_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("natural_key", String(64), nullable=True, unique=True),
    Column("kind", String(8), nullable=False),
    Column("dtable_uuid", String(36), ForeignKey("dtables.uuid"), nullable=False),
    Column("dir_path", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("replace_existing", Boolean, nullable=False),
    Column("file_type", String(8), nullable=False),
    Column("attach", Text, nullable=True),
    Column("actor", String(255), nullable=False),
    Column("upload_metadata", Text, nullable=False),
    Column("length", BigInteger, nullable=False),
    Column("received", BigInteger, nullable=False),
    Column("blob_key", String(32), nullable=False),
    Column("store_state", Text, nullable=False),
    Column("state", String(12), nullable=False),
    Column("result", Text, nullable=True),
    Column("lease_id", String(32), nullable=True),
    Column("lease_until", Double, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("expires_at", Double, nullable=False),
)
Index("ix_upload_sessions_expires", upload_sessions.c.expires_at)

# Live updates (services.events): one row per change of a base, read by every server process's
# poller and sent to that base's socket.io listeners; pruned by age. Ids only grow (SQLite's
# AUTOINCREMENT: never reused after a prune empties the table).
live_events = Table(
    "live_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("dtable_uuid", String(36), nullable=False),
    Column("event", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", Double, nullable=False),
    sqlite_autoincrement=True,
)
Index("ix_live_events_created", live_events.c.created_at)

# ---- accounts (schema step 7; docs/accounts.md) ------------------------------------------------
# People who sign in. email is stored lowercased (unique); password_hash is an argon2id string
# (services/passwords.py). personal_workspace_id: the workspace made for the user on creation.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(255), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("personal_workspace_id", Integer, ForeignKey("workspaces.id"), nullable=True),
    Column("created_at", String(40), nullable=False),
)

# Account tokens (``Authorization: Token <40 hex>`` on the account routes): only their SHA-256.
account_tokens = Table(
    "account_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("created_at", String(40), nullable=False),
)

# Failed sign-ins, one row per (failure, key): key is "account:<email>" or "address:<ip>". Counted
# in the database so that every process sharing it enforces the same limit.
login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("key", String(300), nullable=False),
    Column("at", Double, nullable=False),
)
Index("ix_login_attempts_key_at", login_attempts.c.key, login_attempts.c.at)
Index("ix_login_attempts_at", login_attempts.c.at)

# Who may use a workspace, and how: owner | admin | member | readonly.
workspace_members = Table(
    "workspace_members",
    metadata,
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("role", String(16), nullable=False),
)
Index("ix_workspace_members_user", workspace_members.c.user_id)

# ---- content-addressed blobs (schema step 9; docs/storage.md "Deduplication") ------------------
# One row per stored blob: its content (sha256, size) and how many references point at it (an
# asset's blob_key, and whatever else holds a blob: a trash entry, ...). Identical content is one
# row and one set of bytes: unique on (sha256, size). Only db.blobs.add_ref / drop_ref change it.
blobs = Table(
    "blobs",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("refs", Integer, nullable=False),
    Column("created_at", String(40), nullable=False),
    UniqueConstraint("sha256", "size", name="uq_blobs_content"),
)
# ---- asset lifecycle (schema step 8; docs/storage.md "References, trash and gc") ---------------
# Which rows' file and image cells point at which asset, kept in step by every row write
# (services/asset_refs.py). target is the asset's path ("/files/2025-08/a.pdf", as Asset.path)
# for a URL cell, or "custom-asset://<asset uuid>" for a custom-asset URL (survives restores
# under another name).
asset_refs = Table(
    "asset_refs",
    metadata,
    Column("dtable_uuid", String(36), ForeignKey("dtables.uuid"), primary_key=True),
    Column("table_id", String(8), primary_key=True),
    Column("row_id", String(22), primary_key=True),
    Column("column_key", String(64), primary_key=True),
    Column("target", Text, primary_key=True),
)
Index("ix_asset_refs_target", asset_refs.c.dtable_uuid, asset_refs.c.target)

# Deleted assets (DELETE app-asset): the asset's columns, plus when and by whom. Out of
# ``assets``, so no lookup finds them; restore puts them back, ``atoll gc`` purges them after
# ``trash_retention_s`` unless a row still references them.
asset_trash = Table(
    "asset_trash",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dtable_uuid", String(36), ForeignKey("dtables.uuid"), nullable=False),
    Column("dir_path", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("blob_key", String(128), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("mtime", String(40), nullable=False),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("deleted_at", Double, nullable=False),
    Column("deleted_by", String(255), nullable=False),
)
Index("ix_asset_trash_base", asset_trash.c.dtable_uuid, asset_trash.c.dir_path, asset_trash.c.name)
Index("ix_asset_trash_blob_key", asset_trash.c.blob_key)
Index("ix_asset_trash_deleted_at", asset_trash.c.deleted_at)
# Cached thumbnails (services/thumbs): one blob per source content (sha256 and size) and edge length.
# Keyed by content, not by asset: copies of one file share their thumbnails, and a replaced file
# gets new ones. gc and fsck count ``blob_key`` as in use.
thumbnails = Table(
    "thumbnails",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("src_size", BigInteger, primary_key=True),
    Column("thumb_size", Integer, primary_key=True),
    Column("blob_key", String(32), nullable=False),
    Column("media_type", String(32), nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("created_at", String(40), nullable=False),
)
Index("ix_thumbnails_blob_key", thumbnails.c.blob_key)  # "is this blob a thumbnail?" (gc, fsck)
