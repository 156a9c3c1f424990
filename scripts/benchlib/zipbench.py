"""The zip benchmark (``scripts/bench --zip``): atoll's zip download against ``zip -0``.

One atoll server (uvicorn). A table with a file column gets ``files`` rows, one uploaded file of
``size`` random bytes each (the same bytes are written to a folder for ``zip``). Per round, in
alternating order: ``curl -o /dev/null`` of ``GET /api/v2.1/dtable/app-zip/?table_name=Z``
(stored method; the server reads each blob, CRCs it and streams it), and ``zip -0 -q -r -`` of
the folder into ``/dev/null`` (stored too; it reads each file and CRCs it). Throughput is the
archive's bytes over the wall time; the ratio atoll / zip is taken per round and its median is
quoted (target >= 0.7).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

from benchlib.common import MIB, human_size, log, median
from benchlib.servers import Server

TARGET = 0.7


def _gateway(srv: Server) -> tuple[str, dict[str, str]]:
    req = urllib.request.Request(srv.url + "/api/v2.1/dtable/app-access-token/", headers=srv.auth)
    with urllib.request.urlopen(req, timeout=30) as r:
        d = json.load(r)
    base = f"{srv.url}/api-gateway/api/v2/dtables/{d['dtable_uuid']}"
    return base, {"Authorization": f"Token {d['access_token']}", "Content-Type": "application/json"}


def _call(url: str, headers: dict[str, str], method: str = "GET", body: object = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)


def _upload(srv: Server, link: dict[str, str], path: Path) -> dict[str, object]:
    out = subprocess.run(
        ["curl", "-sS", "-f", "-H", "Expect:", "-F", f"parent_dir={link['parent_path']}",
         "-F", f"relative_path={link['file_relative_path']}", "-F", f"file=@{path}",
         link["upload_link"] + "?ret-json=1"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    [item] = json.loads(out.stdout)
    url = "/".join([srv.url.rstrip("/"), "workspace", "1", "asset", link["parent_path"].split("/")[-1],
                    link["file_relative_path"], urllib.parse.quote(item["name"])])  # fmt: skip
    return {"type": "file", "name": item["name"], "size": item["size"], "url": url}


def prepare(srv: Server, folder: Path, files: int, size: int) -> None:
    """The table Z (Name, Files) with one uploaded file per row; the same bytes in ``folder``."""
    base, headers = _gateway(srv)
    _call(base + "/tables/", headers, "POST", {"table_name": "Z", "lang": "en", "columns": [
        {"column_name": "Name", "column_type": "text"}, {"column_name": "Files", "column_type": "file"}]})
    link = _call(srv.url + "/api/v2.1/dtable/app-upload-link/", srv.auth)
    assert isinstance(link, dict)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(files):
        path = folder / f"f{i:05d}.bin"
        path.write_bytes(os.urandom(size))
        rows.append({"Name": f"row {i}", "Files": [_upload(srv, link, path)]})
        if len(rows) == 500 or i == files - 1:
            _call(base + "/batch-append-rows/", headers, "POST", {"table_name": "Z", "rows": rows})
            rows = []


def _time_atoll(srv: Server) -> tuple[float, int]:
    auth = srv.auth["Authorization"]
    t0 = time.perf_counter()
    out = subprocess.run(
        ["curl", "-sS", "-f", "-o", "/dev/null", "-w", "%{size_download}", "-H", f"Authorization: {auth}",
         srv.url + "/api/v2.1/dtable/app-zip/?table_name=Z&template=%7Bname%7D"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return time.perf_counter() - t0, int(out.stdout)


def _time_zip(folder: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        proc = subprocess.Popen(["zip", "-0", "-q", "-r", "-", "."], cwd=folder, stdout=subprocess.PIPE)
        assert proc.stdout is not None
        total = 0
        while chunk := proc.stdout.read(MIB):
            total += len(chunk)
            sink.write(chunk)
        proc.wait()
    return time.perf_counter() - t0, total


def run_zip(srv: Server, tmp: Path, files: int, size: int, rounds: int) -> dict[str, object]:
    folder = tmp / "zip-files"
    log(f"zip: preparing {files:,} files of {human_size(size)} on {srv.name}")
    prepare(srv, folder, files, size)
    per_round: list[dict[str, float]] = []
    for r in range(rounds):
        got: dict[str, tuple[float, int]] = {}
        for which in (("atoll", "zip") if r % 2 == 0 else ("zip", "atoll")):
            got[which] = _time_atoll(srv) if which == "atoll" else _time_zip(folder)
        a_s, a_bytes = got["atoll"]
        z_s, z_bytes = got["zip"]
        row = {"atoll_s": a_s, "zip_s": z_s, "atoll_mb_s": a_bytes / a_s / 1e6,
               "zip_mb_s": z_bytes / z_s / 1e6, "atoll_bytes": a_bytes, "zip_bytes": z_bytes}  # fmt: skip
        row["ratio"] = row["atoll_mb_s"] / row["zip_mb_s"]
        per_round.append(row)
        log(f"zip round {r + 1}: atoll {row['atoll_mb_s']:.0f} MB/s ({a_s:.2f} s), zip -0 "
            f"{row['zip_mb_s']:.0f} MB/s ({z_s:.2f} s), ratio {row['ratio']:.2f}")
    ratio = median([x["ratio"] for x in per_round])
    log(f"zip: median ratio atoll / zip -0 = {ratio:.2f} (target >= {TARGET})")
    return {"files": files, "size": size, "rounds": per_round, "ratio": ratio}
