"""Exit statuses of the client commands (upload, download, ls, mkdir, rm, sync), in one place.

A script can branch on them; docs/cli.md lists them. Every failure also writes one line on
stderr (``Error: ...``); an interruption writes ``interrupted; ...`` and exits 130.
"""

from __future__ import annotations

import errno
from enum import IntEnum

import click

from atoll.client import (
    AtollHTTPError,
    AuthError,
    NotFoundError,
    TooLargeError,
    TransferError,
)

#: In the SDK's message when an answer is an HTML page or other text: the URL is not a server.
NOT_AN_ANSWER = "not an atoll or SeaTable message"


class Exit(IntEnum):
    OK = 0
    #: anything not listed below (a 500, a bad answer, a local I/O error)
    FAILURE = 1
    #: bad arguments or options, a missing server or token, an unusable config file
    USAGE = 2
    #: 401/403: the token is wrong, revoked, or may not do this (read-only)
    AUTH = 3
    #: 404, or SeaTable's 400 "... does not exist": no such file, folder, table or row
    NOT_FOUND = 4
    #: 409, or a local file that already exists: the state is not what the command expects
    CONFLICT = 5
    #: 413/442/507 or a local disk full: over a size limit or out of space
    TOO_LARGE = 6
    #: no connection, a timeout, or 502/503/504 after the SDK's retries
    UNAVAILABLE = 7
    #: Ctrl-C (SIGINT)
    INTERRUPTED = 130


class CommandError(click.ClickException):
    """A one-line ``Error: ...`` on stderr and the given exit status."""

    def __init__(self, message: str, code: Exit = Exit.FAILURE) -> None:
        super().__init__(message)
        self.code = code
        self.exit_code = int(code)  # type: ignore[misc]  # a ClassVar in click; read per instance


class Interrupted(click.ClickException):
    """Ctrl-C: a plain ``interrupted...`` line (no ``Error:``) and exit status 130."""

    exit_code = int(Exit.INTERRUPTED)

    def show(self, file: object = None) -> None:
        click.echo(self.message, err=True)


def for_http(exc: AtollHTTPError) -> Exit:
    """The exit status for an SDK error."""
    status = exc.status
    if NOT_AN_ANSWER in exc.message:
        return Exit.FAILURE  # a 404 from some other web server says nothing about files
    if isinstance(exc, TransferError) or status in (502, 503, 504):
        return Exit.UNAVAILABLE
    if isinstance(exc, AuthError):
        return Exit.AUTH
    if isinstance(exc, NotFoundError) or (status == 400 and "does not exist" in exc.message):
        return Exit.NOT_FOUND
    if status == 409:
        return Exit.CONFLICT
    if isinstance(exc, TooLargeError) or status == 507:
        return Exit.TOO_LARGE
    return Exit.FAILURE


def for_os(exc: OSError) -> Exit:
    """The exit status for a local file error."""
    if isinstance(exc, FileNotFoundError):
        return Exit.NOT_FOUND
    if isinstance(exc, FileExistsError):
        return Exit.CONFLICT
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return Exit.TOO_LARGE
    return Exit.FAILURE
