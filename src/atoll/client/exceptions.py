"""The SDK's exceptions: every failure of a call is an ``AtollHTTPError`` carrying the HTTP status
(``None`` when no response arrived), the server's message and the raw body::

    AtollHTTPError (builtin ConnectionError, like the official client's errors)
    ├── BadRequestError        400
    ├── AuthError              401, 403
    │   └── TokenExpiredError  403 {"error_msg": "Token expired."}
    ├── NotFoundError          404
    ├── TooLargeError          413 (and Seafile's 442 "File size is too large.")
    ├── ServerError            5xx
    ├── IntegrityError         the server's SHA-256 of an upload is not the file's
    └── TransferError          network failure after retries (status None)
        └── TransferTimeoutError  a socket operation exceeded the timeout

The official ``seatable-api`` raises ``ConnectionError(status, text)``; ``AtollHTTPError`` is a
``ConnectionError`` too and keeps ``args == (status, text)``, so ``except ConnectionError`` code
keeps working.
"""

from __future__ import annotations


class AtollHTTPError(ConnectionError):
    """A call failed. ``status`` is the HTTP status or ``None``; ``message`` is for humans."""

    def __init__(self, status: int | None, message: str, body: str | bytes | None = None) -> None:
        text = body if isinstance(body, str) else message
        super().__init__(status, text)
        self.status = status
        self.message = message
        self.body = body

    def __str__(self) -> str:
        if self.status is None:
            return self.message
        return f"HTTP {self.status}: {self.message}"

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.status, self.message, self.body))


class BadRequestError(AtollHTTPError):
    """400: the server rejected an argument (path, name, table, field)."""


class AuthError(AtollHTTPError):
    """401/403: missing, invalid or insufficient credentials."""


class TokenExpiredError(AuthError):
    """403 ``Token expired.``: call ``base.auth()`` again (the SDK does so once by itself)."""


class NotFoundError(AtollHTTPError):
    """404: base, table, row, file or folder missing."""


class TooLargeError(AtollHTTPError):
    """413 (or 442): the request body or file is over a server limit."""


class QuotaExceededError(TooLargeError):
    """443 "Out of quota.": the upload would take the base over its asset quota (the upload-link
    answer's ``quota_bytes`` and ``quota_used_bytes`` say how much room is left)."""


class ServerError(AtollHTTPError):
    """5xx that persisted after retries (or was not retryable)."""


class IntegrityError(AtollHTTPError):
    """A resumable upload completed, but the SHA-256 the server computed over what it stored is
    not the SHA-256 of the bytes sent (the file is in the base: check or delete it)."""


class TransferError(AtollHTTPError):
    """No usable response: connection refused or reset, truncated body, after retries."""

    def __init__(self, message: str, body: str | bytes | None = None) -> None:
        super().__init__(None, message, body)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.message, self.body))


class TransferTimeoutError(TransferError, TimeoutError):
    """A connect, read or write took longer than the timeout (per socket operation)."""


def error_class_for_status(status: int) -> type[AtollHTTPError]:
    if status == 400:
        return BadRequestError
    if status in (401, 403):
        return AuthError
    if status == 404:
        return NotFoundError
    if status in (413, 442):
        return TooLargeError
    if status == 443:
        return QuotaExceededError
    if status >= 500:
        return ServerError
    return AtollHTTPError


__all__ = [
    "AtollHTTPError",
    "AuthError",
    "BadRequestError",
    "IntegrityError",
    "NotFoundError",
    "QuotaExceededError",
    "ServerError",
    "TokenExpiredError",
    "TooLargeError",
    "TransferError",
    "TransferTimeoutError",
    "error_class_for_status",
]
