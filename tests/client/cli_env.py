"""What the CLI tests keep out: the connection variables, config file and resume store of the
machine running them."""

from __future__ import annotations

from pathlib import Path

import pytest

CONNECTION_ENV = ("ATOLL_CONFIG", "ATOLL_PROFILE", "ATOLL_SERVER", "ATOLL_TOKEN",
                  "ATOLL_SERVER_URL", "ATOLL_API_TOKEN")


def isolate(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    """Unset the connection variables; config under ``root/config``, state under ``root/state``."""
    for name in CONNECTION_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(root / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(root / "state"))
