"""Frozen records passed between layers. Inside the code a SeaTable "base" is a ``Dtable``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Permission = Literal["rw", "r"]


@dataclass(frozen=True)
class Workspace:
    id: int
    name: str


@dataclass(frozen=True)
class Dtable:
    uuid: str  # lowercase dashed
    name: str
    workspace_id: int


@dataclass(frozen=True)
class ApiToken:
    token: str
    dtable_uuid: str
    app_name: str
    permission: Permission
    created_at: datetime
    revoked: bool = False
    #: The email of the user who made it over HTTP; "" for ``atoll token create``.
    generated_by: str = ""
    last_access: str | None = None


@dataclass(frozen=True)
class Principal:
    """Who is calling, as established by ``server.auth``: always bound to exactly one base."""

    dtable: Dtable
    permission: Permission
    app_name: str

    @property
    def can_write(self) -> bool:
        return self.permission == "rw"


@dataclass(frozen=True)
class Asset:
    """A file under a base's asset tree. ``dir_path`` is like ``/files/2025-08`` (relative to
    ``/asset/<uuid>``); ``blob_key`` never contains user input."""

    id: int
    dtable_uuid: str
    dir_path: str
    name: str
    blob_key: str
    size: int
    sha256: str
    mtime: datetime
    uuid: str  # stable per (base, path, name): custom-asset://<uuid>.<ext>

    @property
    def path(self) -> str:
        return (self.dir_path.rstrip("/") + "/" + self.name) if self.dir_path != "/" else "/" + self.name


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    sha256: str


TicketOp = Literal["upload", "download"]


@dataclass(frozen=True)
class Ticket:
    """A capability for the file server paths: bound to one base, one op, one path, and an expiry."""

    op: TicketOp
    dtable_uuid: str
    path: str  # upload: the parent dir (e.g. /asset/<uuid>); download: the asset path
    expires_at: int
    #: The app (API token's app_name) the upload link was issued to: rows it creates name it.
    app: str = ""
