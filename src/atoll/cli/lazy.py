"""A command group that imports a command's module only when that command runs.

``atoll serve`` then loads the server's modules and not the SDK's commands, and ``atoll upload``
not the server's: every process the CLI starts (a server, a token, one upload) pays only for
what it runs. ``atoll --help`` lists every command and so imports them all.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping

import click


class LazyGroup(click.Group):
    """``modules`` maps each command's name to the module whose ``register(group)`` adds it.
    ``prepare`` is applied to every command when it is loaded (e.g. to complete its help)."""

    def __init__(self, *args: object, modules: Mapping[str, str],
                 prepare: Callable[[click.Command], None] = lambda command: None,
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.modules = dict(modules)
        self._prepare = prepare

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.modules, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.modules:
            self._load(self.modules[cmd_name])
        return self.commands.get(cmd_name)

    def _load(self, module_name: str) -> None:
        module = importlib.import_module(module_name)
        staging = click.Group()
        module.register(staging)
        for name, command in staging.commands.items():
            self._prepare(command)
            self.commands.setdefault(name, command)

    def load_all(self) -> MutableMapping[str, click.Command]:
        """Every command, loaded (for help listings and tests)."""
        for module_name in sorted(set(self.modules.values())):
            self._load(module_name)
        return self.commands
