"""File commands (upload, download, ls) over the SDK. Placeholder until the SDK slice lands."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    return None
