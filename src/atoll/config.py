"""Settings: one typed object built at the edge. The only reader of ``os.environ``.

Every setting has an ``ATOLL_*`` environment variable and, where it makes sense, a CLI flag
(see docs/configuration.md). Limits are named constants here and settings below.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

MiB = 1024 * 1024
GiB = 1024 * MiB

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_DATA_DIR = "./data"
#: Largest request body the upload endpoint accepts (413 beyond it).
DEFAULT_MAX_UPLOAD_BYTES = 10 * GiB
#: Largest metadata document an imported archive may hold (base.json, a .dtable's content.json).
DEFAULT_IMPORT_MAX_DOCUMENT_BYTES = 512 * MiB
#: Largest JSON body any API endpoint reads (413 beyond it).
DEFAULT_MAX_JSON_BYTES = 16 * MiB
#: Upload and download links stay valid this long (Seafile's web_token_expire_time).
DEFAULT_LINK_TTL_S = 3600
#: Access tokens (JWT) from app-access-token stay valid this long (SeaTable: 3 days).
DEFAULT_ACCESS_TOKEN_TTL_S = 3 * 24 * 3600
#: Largest number of multipart parts and of non-file fields in one upload request.
DEFAULT_MAX_PARTS = 1000
#: Largest non-file multipart field value.
DEFAULT_MAX_FIELD_BYTES = 64 * 1024
#: Longest header line in one multipart part.
DEFAULT_MAX_PART_HEADER_BYTES = 8 * 1024
#: Bytes read/written per chunk on the byte paths. 4 MiB: a 1 GiB upload ran 1.5x faster than
#: with 1 MiB (with body_buffer_bytes 1 MiB; same-run A/B, docs/benchmarks.md).
DEFAULT_CHUNK_BYTES = 4 * MiB
#: Free-space reserve of the blob folder (and a SQLite database's folder): uploads that would
#: leave less free are refused with 507, and /api/ready is not ready below it. 0 turns it off.
DEFAULT_MIN_FREE_BYTES = 256 * MiB
#: An upload re-reads the free space (statvfs) at least every this many bytes it receives.
DEFAULT_FREE_SPACE_CHECK_BYTES = 16 * MiB
#: Rows per list_rows page at most (SeaTable: 1000).
DEFAULT_MAX_ROWS_PER_PAGE = 1000
#: Rows per batch write at most (SeaTable: 1000).
DEFAULT_MAX_ROWS_PER_BATCH = 1000
#: How ``atoll serve`` writes its log (access lines, errors): one ``text`` line or one ``json``
#: object per record (docs/deployment.md, "Logs").
DEFAULT_LOG_FORMAT = "text"
LOG_FORMATS = ("text", "json")
#: Least severe record logged; access lines are ``info``, so ``warning`` turns them off.
DEFAULT_LOG_LEVEL = "info"
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
#: Smallest S3 multipart part (S3's own minimum); parts grow so no upload needs over 10,000.
DEFAULT_S3_PART_BYTES = 8 * MiB
#: S3 parts uploading at once per upload (memory per upload is about this + 1 parts).
DEFAULT_S3_PARTS_IN_FLIGHT = 2
#: Presigned S3 download URLs stay valid this long.
DEFAULT_S3_PRESIGN_TTL_S = 60
#: Unfinished S3 multipart uploads older than this are aborted by the sweep (start-up, gc).
DEFAULT_S3_ABANDONED_AFTER_S = 24 * 3600
#: Seconds an S3 request may take before it is retried or fails (504).
DEFAULT_S3_TIMEOUT_S = 30
#: Attempts per S3 request on 5xx, SlowDown, resets and timeouts (jittered backoff between).
DEFAULT_S3_MAX_ATTEMPTS = 5
#: Longest request line or single header line (name + value); longer: 414 / 431.
DEFAULT_MAX_HEADER_LINE_BYTES = 16 * 1024
#: Largest request head (request line and all headers); larger: 431, read no further.
DEFAULT_MAX_HEADER_BYTES = 64 * 1024
#: Request-body bytes a connection buffers for the app before it stops reading the socket
#: (uvicorn). uvicorn's own mark is 64 KiB; 1 MiB hands big uploads over in fewer pieces.
DEFAULT_BODY_BUFFER_BYTES = 1 * MiB
#: The server process's young-generation GC threshold (Python's default: 700 allocations). At
#: start-up the server freezes what it has built (gc.freeze) and collects young objects only
#: after this many more allocations than frees; 0 leaves the collector as Python sets it.
DEFAULT_GC_YOUNG_THRESHOLD = 20_000
#: Seconds from a connection's opening (or a request's first byte) until its head is complete.
DEFAULT_HEADER_READ_TIMEOUT_S = 15
#: Longest wait for the next piece of a request body.
DEFAULT_BODY_READ_TIMEOUT_S = 20
#: Smallest average upload rate in bytes/s (0: off), with a credit of body_rate_window_s.
DEFAULT_MIN_BODY_RATE = 1024
#: How far (in seconds) a body may fall behind min_body_rate before it is cut off (408).
DEFAULT_BODY_RATE_WINDOW_S = 20
#: Seconds an idle keep-alive connection stays open between requests.
DEFAULT_KEEPALIVE_TIMEOUT_S = 30
#: Open client connections per process; beyond it a new connection gets 503 and is closed.
DEFAULT_MAX_CONNECTIONS = 1000
#: A resumable upload (tus or Seafile-style chunks) expires this long after its last chunk.
DEFAULT_UPLOAD_SESSION_TTL_S = 24 * 3600
#: How long a request writing a resumable upload holds it; renewed while bytes arrive, so only
#: a crashed writer's lock lapses (then another request may take the upload over).
DEFAULT_UPLOAD_LEASE_S = 15
#: A long PATCH is made durable and its offset recorded after every this many bytes.
DEFAULT_UPLOAD_COMMIT_BYTES = 64 * MiB
#: How often a server process looks for expired resumable uploads to reap (0: never).
DEFAULT_UPLOAD_REAP_INTERVAL_S = 600
#: How often each server process reads new live-update events (docs/live-updates.md).
DEFAULT_LIVE_POLL_INTERVAL_MS = 250
#: Rows a process appends or deletes between two ANALYZEs of the row tables (PostgreSQL).
DEFAULT_ANALYZE_AFTER_ROWS = 20_000
#: Sign-in rate limit (docs/accounts.md): failed sign-ins counted over this many seconds...
DEFAULT_LOGIN_WINDOW_S = 15 * 60
#: ...at most this many per account (email) in the window; then 429 until the oldest ages out...
DEFAULT_LOGIN_MAX_FAILURES_PER_ACCOUNT = 10
#: ...and at most this many per client address (all accounts together).
DEFAULT_LOGIN_MAX_FAILURES_PER_ADDRESS = 100
#: The temporary API token of ``get_base`` (temp-api-token) stays valid this long (SeaTable: 1 h).
DEFAULT_TEMP_API_TOKEN_TTL_S = 3600
#: Which downloads check the blob's SHA-256 against the metadata (docs/storage.md, "Integrity"):
#: ``small`` (blobs up to verify_small_bytes: read, hashed and compared before the first byte is
#: sent), ``all`` (also larger blobs: hashed while streaming, the connection cut on a mismatch)
#: or ``off``.
DEFAULT_VERIFY_DOWNLOADS = "small"
VERIFY_MODES = ("small", "all", "off")
#: Largest blob verified before sending (held in memory while it is hashed).
DEFAULT_VERIFY_SMALL_BYTES = 1 * MiB
#: A deleted asset stays in the trash (restorable) this long before ``atoll gc`` may purge it.
DEFAULT_TRASH_RETENTION_S = 30 * 24 * 3600
#: At most this many rows are named in one "who uses this asset" answer (the total is counted).
DEFAULT_MAX_ASSET_REFS_LISTED = 1000
#: Thumbnail edge lengths (pixels) a client may ask for with ``?size=`` (docs/thumbnails.md).
DEFAULT_THUMBNAIL_SIZES = "64,128,256,512,1024"
#: Images with more pixels than this (width x height in the header) get no thumbnail (413).
DEFAULT_THUMBNAIL_MAX_PIXELS = 100_000_000
#: Files larger than this get no thumbnail (413); the file itself is still served.
DEFAULT_THUMBNAIL_MAX_SOURCE_BYTES = 256 * MiB
#: A thumbnail that takes longer than this to decode is given up (422; the worker is replaced).
DEFAULT_THUMBNAIL_TIMEOUT_MS = 15_000
#: Address-space limit of each thumbnail worker process (setrlimit RLIMIT_AS).
DEFAULT_THUMBNAIL_MEMORY_BYTES = 1 * GiB
#: Thumbnail worker processes per server process.
DEFAULT_THUMBNAIL_WORKERS = 2

#: Per-base asset quota in bytes: the sum of the sizes of a base's files (0 = unlimited).
#: Uploads and imports over it are refused with 443 "Out of quota." (docs/configuration.md).
DEFAULT_BASE_QUOTA_BYTES = 0
#: Most row ids one zip download may name (``row_ids``; 400 beyond).
DEFAULT_MAX_ZIP_ROW_IDS = 10_000

#: Standard AWS variables read for the S3 store (alongside their ATOLL_S3_* twins).
AWS_ENV = {
    "s3_endpoint_url": "AWS_ENDPOINT_URL",
    "s3_region": "AWS_REGION",
    "s3_access_key_id": "AWS_ACCESS_KEY_ID",
    "s3_secret_access_key": "AWS_SECRET_ACCESS_KEY",
}


def _env_name(name: str) -> str:
    return "ATOLL_" + name.upper()


@dataclass(frozen=True, kw_only=True)
class Settings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    data_dir: Path = field(default_factory=lambda: Path(DEFAULT_DATA_DIR))
    #: The URL clients reach this server at; every generated link uses it, never Host.
    public_url: str = ""
    #: Metadata store URL (sqlite:///..., postgresql://...); default: SQLite in the data dir.
    db_url: str = ""
    #: Blob store URL (file:///..., s3://bucket/prefix, memory://); default: file:// in the data dir.
    storage: str = ""
    #: Signing secret for access tokens and links (any string of 32+ characters). Default: from
    #: secret_file, else kept in the metadata database (shared by every process that uses it).
    secret: str = field(default="", repr=False)
    #: A file holding the signing secret (e.g. a mounted Kubernetes or Docker secret).
    secret_file: str = ""
    #: Former secrets, comma-separated, still accepted (not used for signing) while rotating.
    previous_secrets: str = field(default="", repr=False)
    s3_endpoint_url: str = ""
    s3_region: str = ""
    s3_access_key_id: str = ""
    s3_secret_access_key: str = field(default="", repr=False)
    #: Answer downloads from S3 with a redirect to a short-lived presigned URL.
    s3_presigned_downloads: bool = False
    s3_presign_ttl_s: int = DEFAULT_S3_PRESIGN_TTL_S
    s3_part_bytes: int = DEFAULT_S3_PART_BYTES
    s3_parts_in_flight: int = DEFAULT_S3_PARTS_IN_FLIGHT
    s3_abandoned_after_s: int = DEFAULT_S3_ABANDONED_AFTER_S
    s3_timeout_s: int = DEFAULT_S3_TIMEOUT_S
    s3_max_attempts: int = DEFAULT_S3_MAX_ATTEMPTS
    #: HTTP server implementation for ``atoll serve``: granian or uvicorn.
    server: str = "uvicorn"
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    max_json_bytes: int = DEFAULT_MAX_JSON_BYTES
    link_ttl_s: int = DEFAULT_LINK_TTL_S
    access_token_ttl_s: int = DEFAULT_ACCESS_TOKEN_TTL_S
    max_parts: int = DEFAULT_MAX_PARTS
    max_field_bytes: int = DEFAULT_MAX_FIELD_BYTES
    max_part_header_bytes: int = DEFAULT_MAX_PART_HEADER_BYTES
    chunk_bytes: int = DEFAULT_CHUNK_BYTES
    #: Local store: write files smaller than one chunk with the native helper when it is built
    #: (storage/native.py); off, or not built: the same steps in Python.
    native_writes: bool = True
    min_free_bytes: int = DEFAULT_MIN_FREE_BYTES
    free_space_check_bytes: int = DEFAULT_FREE_SPACE_CHECK_BYTES
    max_rows_per_page: int = DEFAULT_MAX_ROWS_PER_PAGE
    max_rows_per_batch: int = DEFAULT_MAX_ROWS_PER_BATCH
    log_format: str = DEFAULT_LOG_FORMAT
    log_level: str = DEFAULT_LOG_LEVEL
    max_header_line_bytes: int = DEFAULT_MAX_HEADER_LINE_BYTES
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    body_buffer_bytes: int = DEFAULT_BODY_BUFFER_BYTES
    gc_young_threshold: int = DEFAULT_GC_YOUNG_THRESHOLD
    header_read_timeout_s: int = DEFAULT_HEADER_READ_TIMEOUT_S
    body_read_timeout_s: int = DEFAULT_BODY_READ_TIMEOUT_S
    min_body_rate: int = DEFAULT_MIN_BODY_RATE
    body_rate_window_s: int = DEFAULT_BODY_RATE_WINDOW_S
    keepalive_timeout_s: int = DEFAULT_KEEPALIVE_TIMEOUT_S
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    upload_session_ttl_s: int = DEFAULT_UPLOAD_SESSION_TTL_S
    upload_lease_s: int = DEFAULT_UPLOAD_LEASE_S
    upload_commit_bytes: int = DEFAULT_UPLOAD_COMMIT_BYTES
    upload_reap_interval_s: int = DEFAULT_UPLOAD_REAP_INTERVAL_S
    live_updates: bool = True
    live_poll_interval_ms: int = DEFAULT_LIVE_POLL_INTERVAL_MS
    analyze_after_rows: int = DEFAULT_ANALYZE_AFTER_ROWS
    login_window_s: int = DEFAULT_LOGIN_WINDOW_S
    login_max_failures_per_account: int = DEFAULT_LOGIN_MAX_FAILURES_PER_ACCOUNT
    login_max_failures_per_address: int = DEFAULT_LOGIN_MAX_FAILURES_PER_ADDRESS
    temp_api_token_ttl_s: int = DEFAULT_TEMP_API_TOKEN_TTL_S
    verify_downloads: str = DEFAULT_VERIFY_DOWNLOADS
    verify_small_bytes: int = DEFAULT_VERIFY_SMALL_BYTES
    trash_retention_s: int = DEFAULT_TRASH_RETENTION_S
    max_asset_refs_listed: int = DEFAULT_MAX_ASSET_REFS_LISTED
    thumbnail_sizes: str = DEFAULT_THUMBNAIL_SIZES
    thumbnail_max_pixels: int = DEFAULT_THUMBNAIL_MAX_PIXELS
    thumbnail_max_source_bytes: int = DEFAULT_THUMBNAIL_MAX_SOURCE_BYTES
    thumbnail_timeout_ms: int = DEFAULT_THUMBNAIL_TIMEOUT_MS
    thumbnail_memory_bytes: int = DEFAULT_THUMBNAIL_MEMORY_BYTES
    thumbnail_workers: int = DEFAULT_THUMBNAIL_WORKERS
    base_quota_bytes: int = DEFAULT_BASE_QUOTA_BYTES
    max_zip_row_ids: int = DEFAULT_MAX_ZIP_ROW_IDS
    import_max_document_bytes: int = DEFAULT_IMPORT_MAX_DOCUMENT_BYTES

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        if not self.public_url:
            object.__setattr__(self, "public_url", f"http://{self.host}:{self.port}")
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
        if not self.db_url:
            db_path = (self.data_dir / "atoll.sqlite3").resolve()
            object.__setattr__(self, "db_url", f"sqlite:///{db_path}")
        if not self.storage:
            object.__setattr__(self, "storage", (self.data_dir / "blobs").resolve().as_uri())
        for name, allowed in (("log_format", LOG_FORMATS), ("log_level", LOG_LEVELS)):
            value = str(getattr(self, name)).lower()
            if value not in allowed:
                raise ValueError(f"{_env_name(name)} must be one of {', '.join(allowed)}, not {value!r}")
            object.__setattr__(self, name, value)
        if self.verify_downloads not in VERIFY_MODES:
            raise ValueError(f"ATOLL_VERIFY_DOWNLOADS must be one of {', '.join(VERIFY_MODES)}, "
                             f"not {self.verify_downloads!r}")

    @classmethod
    def load(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ``ATOLL_*`` variables, then explicit overrides (CLI flags)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(_env_name(f.name)) or env.get(AWS_ENV.get(f.name, ""))
            if raw is not None and raw != "":
                values[f.name] = _parse(f.name, str(f.type), raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @property
    def legacy_secret_path(self) -> Path:
        """Where versions before 0.2 kept the secret; imported into the database once."""
        return self.data_dir / "secret.key"


def _parse(name: str, type_name: str, raw: str) -> Any:
    if type_name in ("int", "<class 'int'>"):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{_env_name(name)} must be a whole number, not {raw!r}") from None
    if type_name in ("bool", "<class 'bool'>"):
        if raw.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
            raise ValueError(f"{_env_name(name)} must be true or false, not {raw!r}")
        return raw.lower() in ("1", "true", "yes", "on")
    return raw


def setting_names() -> list[tuple[str, str]]:
    """(field name, environment variable) for every setting; used by docs tests."""
    return [(f.name, _env_name(f.name)) for f in fields(Settings)]
