"""The ``atoll`` command: operator commands (serve, token) and file commands (upload, download,
ls). Thin: parsing and printing only; the work happens in services and the SDK."""

from __future__ import annotations

import click

from atoll.cli import data, files, operator


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="atoll")
def main() -> None:
    """atoll: a SeaTable-compatible server, SDK and CLI for bases, rows, files and images."""


operator.register(main)
files.register(main)
data.register(main)
