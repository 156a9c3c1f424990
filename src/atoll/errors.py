"""The domain exception tree. The wire layer maps each class to a status and body in one table
(``atoll.wire.errors``)::

    AtollError                      message for humans
    ├── InvalidInput                400 bad argument (path, name, field, cell value)
    │   └── PayloadTooLarge         413 body or field over a configured limit
    ├── AuthenticationFailed        403 missing, unknown, revoked or malformed credential
    │   └── TokenExpired            403 {"error_msg": "Token expired."}
    ├── PermissionDenied            403 credential valid, action not allowed (read-only, wrong base)
    ├── NotFound                    404 base, table, row, column, file or folder missing
    │   ├── PathNotFound            400 SeaTable's "path X not found." for asset paths
    │   └── Gone                    410 a resumable upload that was terminated or has expired
    ├── Conflict                    409 the request does not fit the current state (an upload's offset)
    │   └── Locked                  423 another request is writing the same resumable upload
    ├── ChecksumMismatch            460 a resumable chunk's bytes do not match its Upload-Checksum
    ├── UnsupportedMediaType        415 a body in a content type the route does not take
    ├── PreconditionFailed          412 a protocol version the route does not speak (Tus-Resumable)
    ├── QuotaExceeded               443 the upload would take the base over its asset quota
    └── StorageError                502 the blob store or the database failed (nothing was stored)
        ├── StorageUnavailable      503 it cannot be reached, asks us to slow down, or had an I/O error
        ├── StorageTimeout          504 it did not answer in time
        ├── CorruptBlob             502 a blob's bytes do not match its size or SHA-256 (download)
        └── InsufficientStorage     507 disk or quota full (ENOSPC, EDQUOT, SQLITE_FULL), or the
                                        upload would cross the free-space reserve
"""

from __future__ import annotations


class AtollError(Exception):
    """Base class of every error atoll raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(AtollError):
    pass


class PayloadTooLarge(InvalidInput):
    pass


class Unprocessable(InvalidInput):
    """Well-formed request, content that cannot be processed (e.g. a broken image): 422."""


class AuthenticationFailed(AtollError):
    pass


class TokenExpired(AuthenticationFailed):
    def __init__(self, message: str = "Token expired.") -> None:
        super().__init__(message)


class PermissionDenied(AtollError):
    pass


class NotFound(AtollError):
    pass


class PathNotFound(NotFound):
    pass


class Gone(NotFound):
    pass


class Conflict(AtollError):
    pass


class Locked(Conflict):
    pass


class ChecksumMismatch(AtollError):
    pass


class UnsupportedMediaType(AtollError):
    pass


class PreconditionFailed(AtollError):
    pass


class StorageError(AtollError):
    pass


class StorageUnavailable(StorageError):
    pass


class DatabaseUnavailable(StorageUnavailable):
    """The metadata database failed (down, restarting, connection lost): a 503. A commit that
    fails this way may still have landed (the connection dropped after the server committed)."""


class StorageTimeout(StorageError):
    pass


class InsufficientStorage(StorageError):
    pass


class CorruptBlob(StorageError):
    """A stored blob's bytes differ from its metadata (size or SHA-256): nothing is served."""
class QuotaExceeded(AtollError):
    """An upload or import would take the base over its asset quota (``base_quota_bytes``):
    443, Seafile's "Out of quota." status."""
