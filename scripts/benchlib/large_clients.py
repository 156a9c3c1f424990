"""``scripts/bench --large``, the client half: the official client (seatable-api 4.0.0) against
atoll's SDK on the same atoll server, each operation a process of its own (benchlib/client_op.py)
whose wall time and peak RSS are measured alone."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

from benchlib.common import MB, log, rotated
from benchlib.load import sha256_of_file
from benchlib.processes import reset_hwm, tree_kib
from benchlib.report import Results, fmt_ratio
from benchlib.servers import Atoll

OFFICIAL_VERSION = "4.0.0"
CLIENTS = ("official", "atoll")
CLIENT_OP = Path(__file__).with_name("client_op.py")


def official_python(repo: Path, python: str, given: str | None) -> str:
    """The python of a venv with seatable-api 4.0.0: ``given``, else the compat tests' venv
    (tests/compat/clients.py ``ensure_client``: ``<repo>/.cache/clients/seatable-api-4.0.0``,
    installed from PyPI on first use, idempotent, under a file lock)."""
    if given:
        return given
    code = ("import sys; sys.path.insert(0, 'tests/compat'); from clients import ensure_client; "
            f"print(ensure_client({OFFICIAL_VERSION!r}))")
    out = subprocess.run([python, "-c", code], cwd=repo, capture_output=True, text=True,
                         timeout=900)
    if out.returncode != 0 or not out.stdout.strip():
        raise RuntimeError(f"no seatable-api {OFFICIAL_VERSION} venv: {out.stderr.strip()[-800:]}")
    return out.stdout.strip().splitlines()[-1]


class ClientRun:
    """Runs client_op.py for ``official`` (its venv's python) and ``atoll`` (the bench's python
    with ``PYTHONPATH=<repo>/src``: the SDK of the checkout under test)."""

    def __init__(self, tmp: Path, repo: Path, pythons: dict[str, str], srv: Atoll) -> None:
        self.tmp, self.srv, self.pythons = tmp, srv, pythons
        self.token = srv.auth["Authorization"].split()[-1]
        state = tmp / "client-state"  # the SDK's resume store, not the user's
        state.mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["XDG_STATE_HOME"] = str(state)
        self.env = {"official": env, "atoll": {**env, "PYTHONPATH": str(repo / "src")}}

    def op(self, kind: str, op: str, path: Path, arg: str) -> dict[str, object]:
        """One operation -> client_op.py's JSON plus ``maxrss_mib`` (wait4's ru_maxrss of that
        process alone) and ``wall_s`` (process start to exit)."""
        cmd = [self.pythons[kind], str(CLIENT_OP), kind, op, self.srv.url, self.token, str(path),
               arg]
        errf = self.tmp / f"client-{kind}-{op}.err"
        t0 = time.monotonic()
        with errf.open("wb") as err:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=self.env[kind],
                                    cwd=self.tmp, stdin=subprocess.DEVNULL)
        timer = threading.Timer(3600, proc.kill)
        timer.start()
        try:
            assert proc.stdout is not None
            out = proc.stdout.read()
            proc.stdout.close()
            # wait4, not Popen.wait: the rusage of this child alone (ru_maxrss, KiB on Linux).
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            timer.cancel()
            if proc.returncode is None:  # interrupted (Ctrl-C, SIGTERM): no orphan client
                proc.kill()
                proc.wait()
        wall = time.monotonic() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"{kind} {op} exited {proc.returncode}: "
                               f"{errf.read_text(errors='replace')[-1500:]}")
        lines = [ln for ln in out.decode().splitlines() if ln.strip()]
        res: dict[str, object] = json.loads(lines[-1])
        res["wall_s"] = wall
        res["maxrss_mib"] = usage.ru_maxrss / 1024
        return res


def num(r: dict[str, object], key: str) -> float:
    v = r[key]
    if not isinstance(v, (int, float)):
        raise RuntimeError(f"client_op.py printed {key}={v!r}")
    return float(v)


def phase_clients(res: Results, tmp: Path, repo: Path, pythons: dict[str, str], srv: Atoll,
                  payload: Path, rounds: int) -> dict[str, object]:
    """Per round, in rotated order: each client uploads ``payload`` (after an untimed warm-up
    upload of the same payload by the same client) and downloads what it uploaded. Figures:
    client_<op> (MB/s of the timed call), client_<op>_rss (peak RSS of the process, MiB),
    client_<op>_rss_before (its RSS before the call), client_<op>_server_rss (peak over the
    server's tree during that op, MiB), per client. Returns facts for the report."""
    size = payload.stat().st_size
    sha = sha256_of_file(payload)
    run = ClientRun(tmp, repo, pythons, srv)
    facts: dict[str, object] = {}
    dest = tmp / "client-download.bin"
    log(f"\n== clients: official seatable-api {OFFICIAL_VERSION} vs atoll SDK, "
        f"{size / MB:,.0f} MB upload + download on {srv.name}, {rounds} rounds")
    for rnd in range(rounds):
        for kind in rotated(list(CLIENTS), rnd):
            name = f"bench-{kind}.bin"
            run.op(kind, "upload", payload, name)  # warm-up, untimed
            reset_hwm(srv.roots)
            up = run.op(kind, "upload", payload, name)
            srv_up = tree_kib(srv.roots, "VmHWM") / 1024
            cell = up.get("cell")
            if not isinstance(cell, dict) or cell.get("size") not in (size, None):
                raise RuntimeError(f"{kind} upload returned {cell!r}")
            if "resumable" in up:
                facts["atoll_resumable"] = up["resumable"]
            dest.unlink(missing_ok=True)
            reset_hwm(srv.roots)
            down = run.op(kind, "download", dest, str(cell["url"]))
            srv_down = tree_kib(srv.roots, "VmHWM") / 1024
            got = dest.stat().st_size if dest.exists() else -1
            if got != size or (rnd == 0 and sha256_of_file(dest) != sha):
                raise RuntimeError(f"{kind} download: {got} bytes or sha256 mismatch")
            dest.unlink(missing_ok=True)
            for op, r, srv_peak in (("upload", up, srv_up), ("download", down, srv_down)):
                mbs, rss, rss0 = size / num(r, "seconds") / MB, num(r, "maxrss_mib"), \
                    num(r, "rss_before_mib")
                res.add(f"client_{op}", kind, rnd, mbs)
                res.add(f"client_{op}_rss", kind, rnd, rss)
                res.add(f"client_{op}_rss_before", kind, rnd, rss0)
                res.add(f"client_{op}_server_rss", kind, rnd, srv_peak)
                log(f"  r{rnd + 1} {kind:8s} {op:8s} {mbs:8.0f} MB/s   client peak RSS "
                    f"{rss:7.1f} MiB (before the call {rss0:5.1f})   server peak {srv_peak:6.1f} MiB")
        for op in ("upload", "download"):
            x, y = res.at(f"client_{op}", "atoll", rnd), res.at(f"client_{op}", "official", rnd)
            if x and y:
                log(f"     r{rnd + 1} {op} atoll / official: {fmt_ratio(x / y)}")
    return facts
