"""The ``atoll`` command: operator commands (serve, token, ...) and client commands (upload,
download, ls, mkdir, rm, sync). Thin: parsing and printing only; the work happens in services and the SDK."""

from __future__ import annotations

import inspect

import click

from atoll.cli.lazy import LazyGroup

#: Help is wrapped at this width (or the terminal's, if narrower), never cut.
HELP_WIDTH = 100


#: Which module registers each command (``register(group)``); loaded when the command runs.
COMMAND_MODULES = {
    **dict.fromkeys(("serve", "token", "fsck", "gc"), "atoll.cli.operator"),
    **dict.fromkeys(("upload", "download", "ls", "mkdir", "rm"), "atoll.cli.files"),
    "sync": "atoll.cli.sync",
    **dict.fromkeys(("db", "storage"), "atoll.cli.data"),
    "user": "atoll.cli.users",
    **dict.fromkeys(("refs", "trash"), "atoll.cli.lifecycle"),
    "thumbnail": "atoll.cli.thumbnails",
    "zip": "atoll.cli.zipcmd",
    **dict.fromkeys(("export", "import"), "atoll.cli.archive"),
}


def first_sentence(help_text: str) -> str:
    """The first sentence of a command's help, whole: what ``COMMAND --help`` lists for it.
    (click's default cuts it to the space left beside the name and appends ``...``.)"""
    paragraph = inspect.cleandoc(help_text).split("\n\n", 1)[0]
    text = " ".join(paragraph.replace("\b", "").split())
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def complete_short_help(command: click.Command) -> None:
    """Give every command without a ``short_help`` its whole first sentence, recursively."""
    if command.short_help is None and command.help:
        command.short_help = first_sentence(command.help)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            complete_short_help(sub)


@click.group(cls=LazyGroup, modules=COMMAND_MODULES, prepare=complete_short_help,
             context_settings={"help_option_names": ["-h", "--help"],
                               "max_content_width": HELP_WIDTH})
@click.version_option(package_name="atoll")
def main() -> None:
    """atoll: a SeaTable-compatible server, SDK and CLI for bases, rows, files and images.

    Operator commands, on the server's machine: serve, token, user, fsck, gc, db, storage.

    File commands, against any atoll or SeaTable server: upload, download, ls, mkdir, rm, sync.
    They take --server and --token, or ATOLL_SERVER and ATOLL_TOKEN, or a profile of
    ~/.config/atoll/config.toml (--profile NAME; docs/cli.md). Exit statuses: 0 ok, 1 failure,
    2 usage, 3 auth, 4 not found, 5 conflict, 6 too large or no space, 7 server unreachable,
    130 interrupted.
    """
