"""Docs are checked: every setting is documented, the README's quick start names real scripts,
and the CLI help matches the documented commands."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from atoll.config import setting_names

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    for name, env in setting_names():
        assert f"`{name}`" in text, name
        assert f"`{env}`" in text, env


def test_readme_quick_start_is_two_commands_that_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Quick start", 1)[1].split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in block.splitlines()[1:] if line.strip()]
    assert commands == ["scripts/serve", "scripts/test"]
    for cmd in commands:
        path = ROOT / cmd
        assert path.exists() and path.stat().st_mode & 0o111, cmd
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test" in ci


def test_cli_help_lists_documented_commands() -> None:
    out = subprocess.run([sys.executable, "-m", "atoll", "--help"], capture_output=True, text=True,
                         check=True).stdout
    commands = set(re.findall(r"^  (\w+)\s", out.split("Commands:", 1)[1], flags=re.M))
    assert {"serve", "token"} <= commands
    for sub in ("create", "list", "revoke"):
        help_text = subprocess.run([sys.executable, "-m", "atoll", "token", sub, "--help"],
                                   capture_output=True, text=True, check=True).stdout
        assert "--data-dir" in help_text


def test_deployment_doc_explains_directives_the_nginx_template_has() -> None:
    """Every directive docs/deployment.md explains is in deploy/nginx.conf, as written there."""
    doc = (ROOT / "docs" / "deployment.md").read_text()
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    table = doc.split("### The directives that matter for big files", 1)[1].split("\n\n|", 1)[1]
    rows = [line for line in ("|" + table).split("\n\n", 1)[0].splitlines()[2:] if line.startswith("|")]
    assert len(rows) >= 8
    for row in rows:
        for code in re.findall(r"`([^`]+)`", row.split("|")[1]):
            name = code.split()[0]
            assert re.search(rf"^\s*{re.escape(name)}\b", conf, flags=re.M), code
            if " " in code and not any(mark in code for mark in ("…", "*", "/")):
                assert re.search(rf"^\s*{re.escape(code)};", conf, flags=re.M), code
    assert "--public-url" in conf and "--public-url" in doc
