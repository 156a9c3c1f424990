"""Options every operator command shares: where the metadata and the blobs live."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from atoll.config import DEFAULT_DATA_DIR, Settings

F = TypeVar("F", bound=Callable[..., Any])


def backend_options(fn: F) -> F:
    """``--data-dir``, ``--db-url`` and ``--storage`` (each with its ``ATOLL_*`` twin)."""
    fn = click.option(
        "--storage", envvar="ATOLL_STORAGE", default=None,
        help="Blob store URL: file:///path, s3://bucket/prefix or memory://. "
             "Default: file://DATA_DIR/blobs",
    )(fn)
    fn = click.option(
        "--db-url", envvar="ATOLL_DB_URL", default=None,
        help="Metadata database URL: sqlite:///path or postgresql://user@host/db. "
             "Default: sqlite:///DATA_DIR/atoll.sqlite3",
    )(fn)
    fn = click.option(
        "--data-dir", envvar="ATOLL_DATA_DIR", default=DEFAULT_DATA_DIR, show_default=True,
        type=click.Path(file_okay=False), help="Folder for the default database and blobs.",
    )(fn)
    return fn


def load_settings(
    data_dir: str | None, db_url: str | None, storage: str | None, **overrides: Any
) -> Settings:
    """Defaults < ATOLL_* (and AWS_*) variables < flags."""
    try:
        return Settings.load(data_dir=data_dir, db_url=db_url, storage=storage, **overrides)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
