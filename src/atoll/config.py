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
#: Bytes read/written per chunk on the byte paths.
DEFAULT_CHUNK_BYTES = 1 * MiB
#: Rows per list_rows page at most (SeaTable: 1000).
DEFAULT_MAX_ROWS_PER_PAGE = 1000
#: Rows per batch write at most (SeaTable: 1000).
DEFAULT_MAX_ROWS_PER_BATCH = 1000


def _env_name(name: str) -> str:
    return "ATOLL_" + name.upper()


@dataclass(frozen=True, kw_only=True)
class Settings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    data_dir: Path = field(default_factory=lambda: Path(DEFAULT_DATA_DIR))
    #: The URL clients reach this server at; every generated link uses it, never Host.
    public_url: str = ""
    #: SQLAlchemy URL of the metadata store; default: SQLite in the data dir.
    database_url: str = ""
    #: Blob store URL; default: file:// under the data dir.
    blob_url: str = ""
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
    max_rows_per_page: int = DEFAULT_MAX_ROWS_PER_PAGE
    max_rows_per_batch: int = DEFAULT_MAX_ROWS_PER_BATCH

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        if not self.public_url:
            object.__setattr__(self, "public_url", f"http://{self.host}:{self.port}")
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
        if not self.database_url:
            db_path = (self.data_dir / "atoll.sqlite3").resolve()
            object.__setattr__(self, "database_url", f"sqlite:///{db_path}")
        if not self.blob_url:
            object.__setattr__(self, "blob_url", (self.data_dir / "blobs").resolve().as_uri())

    @classmethod
    def load(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ``ATOLL_*`` variables, then explicit overrides (CLI flags)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(_env_name(f.name))
            if raw is not None and raw != "":
                values[f.name] = int(raw) if f.type in ("int", int) else raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @property
    def secret_path(self) -> Path:
        return self.data_dir / "secret.key"


def setting_names() -> list[tuple[str, str]]:
    """(field name, environment variable) for every setting; used by docs tests."""
    return [(f.name, _env_name(f.name)) for f in fields(Settings)]
