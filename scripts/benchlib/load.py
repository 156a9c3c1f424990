"""Load generators: curl for big uploads and downloads, wrk (with the Lua scripts in
templates/) for small files."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from benchlib.common import MIB, template

if TYPE_CHECKING:
    from benchlib.servers import Server


def curl_upload(link: dict[str, str], payload: Path, name: str,
                max_time: int = 900) -> tuple[float, int, object]:
    """Upload through upload-api exactly like the anchors: curl -F, Expect off. -> (s, bytes, json)"""
    url = link["upload_link"] + "?ret-json=1"
    out = subprocess.run(
        ["curl", "-sS", "-f", "--max-time", str(max_time), "-H", "Expect:",
         "-F", f"parent_dir={link['parent_path']}",
         "-F", f"relative_path={link['file_relative_path']}",
         "-F", "replace=1", "-F", f"file=@{payload};filename={name}",
         "-w", "\n%{time_total} %{size_upload}", url],
        capture_output=True, text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"upload to {url} failed: {out.stderr.strip()} {out.stdout[-500:]}")
    body, _, tail = out.stdout.rpartition("\n")
    t, up = tail.split()
    return float(t), int(float(up)), json.loads(body) if body.strip() else None


def curl_download(url: str, dest: str = "/dev/null", extra: tuple[str, ...] = (),
                  max_time: int = 900) -> tuple[float, int]:
    out = subprocess.run(
        ["curl", "-sS", "-f", "--max-time", str(max_time), *extra, "-o", dest,
         "-w", "%{time_total} %{size_download}", url],
        capture_output=True, text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"download {url} failed: {out.stderr.strip()}")
    t, n = out.stdout.split()
    return float(t), int(float(n))


def sha256_of_url(url: str) -> tuple[str, int]:
    h = hashlib.sha256()
    n = 0
    with urllib.request.urlopen(url, timeout=900) as resp:
        if resp.status != 200:
            raise RuntimeError(f"GET {url} -> {resp.status}")
        while chunk := resp.read(4 * MIB):
            h.update(chunk)
            n += len(chunk)
    return h.hexdigest(), n


def sha256_of_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(4 * MIB):
            h.update(chunk)
    return h.hexdigest()


def check_upload_reply(reply: object, name: str, size: int) -> None:
    ok = (isinstance(reply, list) and reply and isinstance(reply[0], dict)
          and reply[0].get("name") == name and reply[0].get("size") == size)
    if not ok:
        raise RuntimeError(f"unexpected upload reply {reply!r} (want name={name} size={size})")



# wrk Lua. Modes:
#   get      : GET one pre-fetched download link (static request)
#   linkget  : per op, GET app-download-link then GET the link it returned
#   post     : POST a 4 KiB multipart upload (unique file name) to a pre-fetched upload link
#   linkpost : per op, GET app-upload-link then POST to the link it returned
#   assetget : per op, GET the asset URL (/workspace/<wid>/asset/<uuid>/<path>, access token)
#              and, on its 302, GET the Location; an op counts when the 4 KiB body arrives
# With wrk's -c32 the two requests of an op are issued alternately by the thread, so link
# fetches and transfers are interleaved 1:1 across the 32 connections; ops/s counts the
# completed 2xx transfers (link replies are counted separately and checked for 2xx).
class Wrk:
    def __init__(self, tmp: Path, threads: int, conns: int, duration: float) -> None:
        self.tmp = tmp
        self.threads, self.conns, self.duration = threads, conns, duration
        self.static_lua = tmp / "wrk-static.lua"
        self.static_lua.write_text(template("wrk-common.lua") + "\nok, links, bad = 0, 0, 0\n")
        self.dyn_lua = tmp / "wrk-dynamic.lua"
        self.dyn_lua.write_text(template("wrk-common.lua") + template("wrk-dynamic.lua"))
        self.run_id = 0

    def run(self, srv: Server, mode: str, ctx: dict[str, str]) -> dict[str, float]:
        self.run_id += 1
        base = ["wrk", f"-t{self.threads}", f"-c{self.conns}", f"-d{self.duration:g}s",
                "--timeout", "10s"]
        if mode == "get":
            cmd = [*base, "-s", str(self.static_lua), ctx["download_link"]]
        else:
            auth = srv.auth.get("Authorization", "none")
            if mode == "assetget":
                link_path = urllib.parse.urlsplit(ctx["asset_url"]).path
                auth = ctx["asset_auth"]
            elif mode in ("post", "linkpost"):
                link_path = "/api/v2.1/dtable/app-upload-link/"
            else:
                link_path = ("/api/v2.1/dtable/app-download-link/?path="
                             + urllib.parse.quote(ctx["small_rel"], safe="/"))
            xfer_url = ctx["upload_link"] if mode in ("post", "linkpost") else ctx["download_link"]
            xfer_path = urllib.parse.urlsplit(xfer_url).path
            cmd = [*base, "-s", str(self.dyn_lua), srv.url, "--", mode, link_path, xfer_path,
                   ctx["parent_path"], ctx["file_relative_path"], str(ctx["small_size"]),
                   auth, f"{self.run_id}{srv.name[0]}"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=self.duration + 120)
        m = re.search(r"^BENCHRESULT (.*)$", out.stdout, re.M)
        if out.returncode != 0 or not m:
            raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout[-1500:]} {out.stderr[-1500:]}")
        r = {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
        secs = r["duration_us"] / 1e6
        errors = r["status_err"] + r["connect"] + r["read"] + r["write"] + r["timeout"] + r["bad"]
        good = r["requests"] - r["status_err"] if mode in ("get", "post") else r["ok"]
        r["ops_s"] = good / secs
        r["errors"] = errors
        r["p50_ms"] = r["p50_us"] / 1000
        r["p99_ms"] = r["p99_us"] / 1000
        return r
