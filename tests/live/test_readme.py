"""The README's code blocks run, as a person would paste them, against a live server.

Every fenced block is ```sh, ```bash or ```python (run), or carries ``no-run`` in its info
string (```sh no-run: the quick start itself, reference listings). Before running, the quick
start's URL (http://127.0.0.1:8000) becomes the live server's and /tmp/ a fresh folder; the
variables a shell block exports carry over to the blocks after it. Python blocks that import
``seatable_api`` run in the official client's venv (tests/compat/clients.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.compat.clients import ClientInstallError, ensure_client
from tests.live_server import LiveServer

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
QUICK_START_URL = "http://127.0.0.1:8000"
RUNNABLE = {"sh", "bash", "python"}
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)


@dataclass(frozen=True)
class Block:
    line: int
    lang: str
    run: bool
    code: str


def blocks(text: str) -> list[Block]:
    out = []
    for m in FENCE.finditer(text):
        info = m.group(1).split()
        lang = info[0] if info else ""
        out.append(Block(text.count("\n", 0, m.start()) + 1, lang, "no-run" not in info[1:],
                         m.group(2)))
    return out


def test_every_block_is_runnable_or_marked() -> None:
    found = blocks(README.read_text())
    assert len(found) >= 6
    for b in found:
        assert b.lang in RUNNABLE, f"README.md:{b.line}: say ```sh, ```python, or mark it no-run"
    assert sum(b.run for b in found) >= 5


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("readme") / "data") as srv:
        yield srv


def _dump_env(code: str, env_file: Path) -> str:
    return f"{code}\nenv -0 > {env_file}\n"


def test_readme_blocks_run_against_a_live_server(server: LiveServer, tmp_path: Path) -> None:
    work = tmp_path / "tmp"
    work.mkdir()
    env = {**server._env(), "ATOLL_DATA_DIR": str(server.data_dir)}
    for name in ("ATOLL_SERVER_URL", "ATOLL_API_TOKEN", "VIRTUAL_ENV", "PYTHONPATH"):
        env.pop(name, None)
    official: str | None = None
    ran = 0
    for block in blocks(README.read_text()):
        if not block.run:
            continue
        code = block.code.replace(QUICK_START_URL, server.url).replace("/tmp/", f"{work}/")
        where = f"README.md:{block.line}"
        if block.lang == "python":
            python = sys.executable
            if "seatable_api" in code:
                if official is None:
                    try:
                        official = str(ensure_client("4.0.0"))
                    except ClientInstallError as exc:
                        pytest.skip(f"{where} needs seatable-api 4.0.0, not installable: {exc}")
                python = official
            out = subprocess.run([python, "-c", code], cwd=ROOT, env=env, capture_output=True,
                                 text=True, timeout=120, check=False)
        else:
            env_file = tmp_path / "env"
            out = subprocess.run(["bash", "-euo", "pipefail", "-c", _dump_env(code, env_file)],
                                 cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                                 check=False)
            if out.returncode == 0:
                pairs = env_file.read_bytes().decode().split("\0")
                env = dict(p.split("=", 1) for p in pairs if "=" in p)
        assert out.returncode == 0, (
            f"{where} failed:\n{code}\n--- stdout\n{out.stdout}\n--- stderr\n{out.stderr}")
        ran += 1
    assert ran >= 5
    assert env.get("ATOLL_SERVER_URL") == server.url and len(env.get("ATOLL_API_TOKEN", "")) == 40
    assert (work / "hello-copy.txt").read_text() == "hello\n"
    assert (work / "sky-copy.txt").read_text() == "blue"
    assert os.path.exists(work / "report-copy.txt")
