"""Install each official ``seatable-api`` version into its own venv and run scenarios with it.

The official client is never imported into the test process: every scenario runs as a
subprocess of the client's venv python, so several client versions can be tested side by side.

Venvs live under ``<repo>/.cache/clients/seatable-api-<version>/``. Installation is idempotent
(skipped when the venv already imports the right version) and guarded by a file lock, so it is
safe to call from a session-scoped fixture, also under pytest-xdist.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_ROOT = REPO_ROOT / ".cache" / "clients"
SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"

#: The client versions under test: 4.0.0 (api-gateway paths) and 2.6.11 (v1 dtable-server paths).
CLIENT_VERSIONS: tuple[str, ...] = ("4.0.0", "2.6.11")

PIP_TIMEOUT_S = 600
SCENARIO_TIMEOUT_S = 120


class ClientInstallError(RuntimeError):
    pass


def venv_dir(version: str) -> Path:
    return CACHE_ROOT / f"seatable-api-{version}"


def venv_python(version: str) -> Path:
    return venv_dir(version) / "bin" / "python"


def installed_version(python: Path) -> str | None:
    """The seatable-api version importable by ``python``, or None."""
    if not python.exists():
        return None
    probe = "import importlib.metadata as m, seatable_api;print(m.version('seatable-api'))"
    try:
        out = subprocess.run(
            [str(python), "-c", probe], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def _base_python() -> str:
    # python -m venv from inside a venv works, but the base interpreter is the cleaner parent.
    return getattr(sys, "_base_executable", None) or sys.executable


def ensure_client(version: str) -> Path:
    """Return the python of a venv where ``import seatable_api`` gives ``version``."""
    python = venv_python(version)
    if installed_version(python) == version:
        return python
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    lock_path = CACHE_ROOT / f".seatable-api-{version}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if installed_version(python) == version:  # installed while we waited
                return python
            target = venv_dir(version)
            if target.exists():
                shutil.rmtree(target)
            _run([_base_python(), "-m", "venv", str(target)], "create venv")
            _run(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--no-input",
                    f"seatable-api=={version}",
                ],
                f"pip install seatable-api=={version}",
            )
            got = installed_version(python)
            if got != version:
                raise ClientInstallError(f"venv {target} imports seatable-api {got!r}, not {version}")
            return python
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_clients(versions: tuple[str, ...] = CLIENT_VERSIONS) -> dict[str, Path]:
    return {v: ensure_client(v) for v in versions}


def _run(cmd: list[str], what: str) -> None:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ClientInstallError(f"{what}: timed out after {PIP_TIMEOUT_S}s") from exc
    if out.returncode != 0:
        raise ClientInstallError(f"{what} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")


@dataclass
class ScenarioResult:
    """What a scenario script printed: one JSON object with one entry per check."""

    data: dict[str, Any]
    stderr: str

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def check(self, key: str) -> Any:
        """The value of check ``key``; fail with the client's traceback if the check raised."""
        if key not in self.data:
            raise AssertionError(f"scenario produced no result {key!r}; stderr:\n{self.stderr}")
        value = self.data[key]
        if isinstance(value, dict) and value.get("__error__"):
            raise AssertionError(
                f"{key}: client raised {value['type']}: {value['message']}\n{value.get('traceback', '')}"
            )
        return value


def run_scenario(
    python: Path | str,
    script: str,
    server_url: str,
    api_token: str,
    *,
    workdir: Path,
    extra: dict[str, str] | None = None,
    timeout: float = SCENARIO_TIMEOUT_S,
) -> ScenarioResult:
    """Run ``scenarios/<script>`` with ``python``; parse the last stdout line as JSON.

    Arguments reach the script as ``argv[1:3]`` (server_url, api_token) and environment
    variables (``SEATABLE_SERVER_URL``, ``SEATABLE_API_TOKEN``, ``COMPAT_WORKDIR`` and ``extra``).
    """
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    env.update(
        SEATABLE_SERVER_URL=server_url,
        SEATABLE_API_TOKEN=api_token,
        COMPAT_WORKDIR=str(workdir),
        PYTHONIOENCODING="utf-8",
    )
    env.update(extra or {})
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [str(python), str(SCENARIO_DIR / script), server_url, api_token]
    try:
        out = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=workdir,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"{script} timed out after {timeout}s: {exc.stderr!r}") from exc
    lines = [ln for ln in out.stdout.splitlines() if ln.strip()]
    if out.returncode != 0 or not lines:
        raise AssertionError(
            f"{script} exited {out.returncode}\nstdout:\n{out.stdout[-4000:]}\nstderr:\n{out.stderr[-8000:]}"
        )
    try:
        data = json.loads(lines[-1])
    except json.JSONDecodeError as exc:
        raise AssertionError(f"{script} printed no JSON:\n{out.stdout[-4000:]}") from exc
    return ScenarioResult(data=data, stderr=out.stderr)
