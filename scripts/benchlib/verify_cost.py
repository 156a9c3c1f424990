"""The cost of ``verify_downloads`` (docs/storage.md, "Verified downloads"): one atoll process
(uvicorn, sqlite-local) per mode, all running at once, the same files; the modes take turns,
batch by batch. 4 KiB: p50 latency of sequential GETs on one keep-alive connection (Python
client); large file: curl into /dev/null (a Python client would be the bottleneck). Run as

    .venv/bin/python scripts/benchlib/verify_cost.py [--large-mib 256] [--small-n 2000] [--rounds 5]

Prints a Markdown table. Figures are indicative on a shared machine: compare within one run.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

MODES = ("off", "small", "all")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(data: Path, mode: str) -> tuple[subprocess.Popen[bytes], str, str]:
    env = {**os.environ, "ATOLL_VERIFY_DOWNLOADS": mode, "ATOLL_LOG_LEVEL": "warning"}
    atoll = [sys.executable, "-m", "atoll"]
    made = subprocess.run([*atoll, "token", "create", "--data-dir", str(data), "--base", "Bench"],
                          env=env, capture_output=True, check=True)
    token = made.stdout.decode().strip()
    port = _port()
    url = f"http://127.0.0.1:{port}"
    serve = [*atoll, "serve", "--data-dir", str(data), "--port", str(port), "--public-url", url]
    proc = subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    for _ in range(300):
        try:
            if httpx.get(url + "/api2/ping/").status_code == 200:
                return proc, url, token
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("atoll did not start")


def _upload(http: httpx.Client, auth: dict[str, str], name: str, path: Path) -> str:
    link = http.get("/api/v2.1/dtable/app-upload-link/", headers=auth).json()
    with path.open("rb") as f:
        up = http.post(link["upload_link"] + "?ret-json=1", files={"file": (name, f)},
                       data={"parent_dir": link["parent_path"], "relative_path": "bench"})
    up.raise_for_status()
    got = http.get("/api/v2.1/dtable/app-download-link/", params={"path": f"bench/{name}"}, headers=auth)
    return str(got.json()["download_link"])


def _curl_rate(url: str) -> float:
    """MiB/s of one GET by curl into /dev/null (a Python client would be the bottleneck)."""
    out = subprocess.run(["curl", "-sf", "-o", "/dev/null", "-w", "%{speed_download}", url],
                         capture_output=True, check=True)
    return float(out.stdout) / (1 << 20)


def measure(tmp: Path, small: Path, large: Path, small_n: int, rounds: int) -> dict[str, tuple[float, float]]:
    """Every mode's server at once; the modes take turns, batch by batch (a shared machine's
    load then hits them alike)."""
    servers = {mode: _serve(tmp / f"data-{mode}", mode) for mode in MODES}
    try:
        clients = {mode: httpx.Client(base_url=url, timeout=600) for mode, (_, url, _) in servers.items()}
        links = {}
        for mode, (_, _, token) in servers.items():
            auth = {"Authorization": f"Token {token}"}
            http = clients[mode]
            pair = (_upload(http, auth, "s.bin", small), _upload(http, auth, "l.bin", large))
            links[mode] = pair
        times: dict[str, list[float]] = {m: [] for m in MODES}
        rates: dict[str, list[float]] = {m: [] for m in MODES}
        for _ in range(rounds):
            for mode in MODES:
                http, (small_link, large_link) = clients[mode], links[mode]
                for _ in range(small_n // rounds):
                    t0 = time.perf_counter()
                    assert http.get(small_link).status_code == 200
                    times[mode].append(time.perf_counter() - t0)
                rates[mode].append(_curl_rate(large_link))
        for http in clients.values():
            http.close()
        return {m: (sorted(times[m])[len(times[m]) // 2] * 1000, sorted(rates[m])[len(rates[m]) // 2])
                for m in MODES}
    finally:
        for proc, _, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--large-mib", type=int, default=256)
    parser.add_argument("--small-n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atoll-verify-") as name:
        tmp = Path(name)
        small, large = tmp / "small", tmp / "large"
        small.write_bytes(os.urandom(4096))
        with large.open("wb") as f:
            for _ in range(args.large_mib):
                f.write(os.urandom(1 << 20))
        results = measure(tmp, small, large, args.small_n, args.rounds)
        print(f"| verify_downloads | 4 KiB GET p50 (ms) | {args.large_mib} MiB GET (MiB/s, median of "
              f"{args.rounds}) |")
        print("|---|---|---|")
        for mode, (p50, rate) in results.items():
            print(f"| `{mode}` | {p50:.2f} | {rate:.0f} |")


if __name__ == "__main__":
    main()
