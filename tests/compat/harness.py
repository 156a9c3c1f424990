"""Test-side helpers for the compatibility suite (the fixtures are in conftest.py)."""

from __future__ import annotations

import itertools
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.compat.clients import ScenarioResult, run_scenario
from tests.live_server import LiveServer

CUSTOM_FOLDER = "/Main"


@dataclass(frozen=True)
class Client:
    """One client implementation under test."""

    name: str  # "4.0.0", "2.6.11" or "atoll"
    python: str
    env: dict[str, str] = field(default_factory=dict)

    @property
    def legacy(self) -> bool:
        """seatable-api 2.x: v1 dtable-server paths, caller-chosen relative_path."""
        return self.name.startswith("2.")

    @property
    def official(self) -> bool:
        return self.name != "atoll"

    def __str__(self) -> str:
        return self.name


def sdk_client() -> Client:
    """Our SDK: the scenario scripts run with this venv's python and ``from atoll import Base``."""
    return Client(name="atoll", python=sys.executable, env={"COMPAT_CLIENT": "atoll"})


def make_custom_folder(server: LiveServer, base_name: str, token: str, path: str) -> str | None:
    """Create the custom folder ``path`` in the token's base; None if done, else why not.

    Real SeaTable creates custom sub-folders in its web UI only; atoll adds
    ``POST /api/v2.1/dtable/custom/app-asset-dir/?path=<folder>`` (API token) for it.
    """
    url = server.url + "/api/v2.1/dtable/custom/app-asset-dir/"
    try:
        resp = httpx.post(url, params={"path": path}, headers={"Authorization": f"Token {token}"}, timeout=30)
    except httpx.HTTPError as exc:
        return f"creating custom folder {path!r} failed: {exc!r}"
    if resp.status_code in (404, 405):
        return (
            f"no way to create custom folder {path!r}: POST {url}?path= answered "
            f"{resp.status_code}; needs an atoll endpoint or CLI command that creates it"
        )
    if resp.status_code >= 400:
        return f"creating custom folder {path!r}: HTTP {resp.status_code} {resp.text[:300]}"
    return None


_counter = itertools.count(1)


class ScenarioRunner:
    """Runs each (client, script) once per module against a fresh base; caches the result."""

    def __init__(self, server: LiveServer, workdir: Path) -> None:
        self.server = server
        self.workdir = workdir
        self.cache: dict[tuple[str, str], ScenarioResult] = {}
        self.notes: dict[tuple[str, str], dict[str, object]] = {}

    def base_name(self, client: Client, script: str) -> str:
        stem = re.sub(r"[^A-Za-z0-9]+", "-", f"{script.removesuffix('.py')}-{client.name}")
        return f"{stem}-{next(_counter)}"

    def __call__(
        self,
        client: Client,
        script: str,
        *,
        prepare: Callable[[str, str], dict[str, object]] | None = None,
        ro_token: bool = False,
    ) -> ScenarioResult:
        key = (client.name, script)
        if key not in self.cache:
            base = self.base_name(client, script)
            token = self.server.create_token(base)
            extra = dict(client.env)
            notes: dict[str, object] = {"base": base}
            if ro_token:
                extra["COMPAT_RO_TOKEN"] = self.server.create_token(base, permission="r")
            if prepare:
                notes.update(prepare(base, token))
            self.notes[key] = notes
            self.cache[key] = run_scenario(
                client.python,
                script,
                self.server.url,
                token,
                workdir=self.workdir / base,
                extra=extra,
            )
        return self.cache[key]
