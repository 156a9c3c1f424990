"""``scripts/bench --large`` (issue 10): one large file through atoll's tus link and its upload-api,
and back down, side by side with nginx; server peak RSS; then the official client against
atoll's SDK on a smaller file (benchlib/large_clients.py). Report: benchlib/large_report.py,
docs/benchmarks-large.md.

Per round (``--large-rounds``), the upload legs run in a rotated order, each preceded by an
untimed warm-up upload of ``--large-warmup`` bytes (default 1 GiB) by the same method to the
same server, as ``warmup.bin`` (this VM returns freed memory to its host; see
performance-anchors.md); the timed upload goes to ``big.bin`` (replace):

* ``tus``: ``curl -X POST <tus_link>`` with ``Tus-Resumable``, ``Upload-Length`` and
  ``Upload-Metadata`` (filename, relative_path, replace=1) -> 201 ``Location``; then ONE
  ``curl -X PATCH -T <payload>`` (streamed from disk) with ``Upload-Offset: 0`` and
  ``Content-Type: application/offset+octet-stream``; the final 204's ``Atoll-Upload-Result``
  must carry the payload's size and sha256. Time = the two curls' ``time_total``.
* ``upload-api``: ``curl -F`` exactly as the default big-upload phase (atoll's JSON reply
  checked for name and size); nginx's upload is the same command against its anchor config.

Then the downloads, servers in a rotated order: one untimed download of the stored file (round
1: read in Python and checked by sha256; later rounds: ``curl -o /dev/null``), then the timed
``curl -o /dev/null``. Server peak RSS: VmHWM over the server's process tree, reset
(clear_refs 5) right before every timed transfer; idle = VmRSS after start-up.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import time
import urllib.parse
from collections.abc import Callable
from functools import partial
from pathlib import Path

from benchlib.common import MB, MIB, human_size, log, rotated
from benchlib.large_clients import official_python, phase_clients
from benchlib.large_report import print_large_summary, write_large_doc
from benchlib.load import check_upload_reply, curl_download, curl_upload
from benchlib.processes import measured
from benchlib.runner import Bench
from benchlib.servers import Atoll, Nginx, Server

GIB = 1024 * MIB
MAX_TIME_S = 3600  # curl --max-time for one large transfer
TUS = {"Tus-Resumable": "1.0.0"}


def write_random(path: Path, size: int) -> str:
    """``size`` random bytes to ``path`` -> their sha256 (hashed while writing)."""
    h = hashlib.sha256()
    with path.open("wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(left, 8 * MIB))
            h.update(chunk)
            f.write(chunk)
            left -= len(chunk)
    os.chmod(path, 0o644)
    return h.hexdigest()


def curl_headers(args: list[str], hdr_file: Path) -> tuple[str, dict[str, str]]:
    """Run curl with ``-D hdr_file``: -> (its -w output, the last response's headers, lowercased
    names)."""
    out = subprocess.run(["curl", "-sS", "-f", "--max-time", str(MAX_TIME_S), "-D", str(hdr_file),
                          "-o", "/dev/null", *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"curl {' '.join(args[-3:])} failed: {out.stderr.strip()}")
    headers: dict[str, str] = {}
    for line in hdr_file.read_text(errors="replace").splitlines():
        if line.startswith("HTTP/"):
            headers = {}  # a 100 Continue block before the real answer
        elif ":" in line:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
    hdr_file.unlink(missing_ok=True)
    return out.stdout, headers


def tus_upload(tmp: Path, tus_link: str, rel: str, payload: Path, name: str) -> tuple[float, int,
                                                                                      dict[str, object]]:
    """Create + one streaming PATCH -> (seconds of both curls, bytes sent, Atoll-Upload-Result)."""
    size = payload.stat().st_size
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}"
                    for k, v in (("filename", name), ("relative_path", rel), ("replace", "1")))
    hdrs = tmp / "tus-headers.txt"
    w, h = curl_headers(["-X", "POST", "-H", "Tus-Resumable: 1.0.0", "-H", f"Upload-Length: {size}",
                         "-H", f"Upload-Metadata: {meta}", "-H", "Content-Length: 0",
                         "-w", "%{time_total} %{http_code}", tus_link], hdrs)
    t_create, code = w.split()
    if code != "201" or "location" not in h:
        raise RuntimeError(f"tus create answered {code} {h}")
    url = urllib.parse.urljoin(tus_link, h["location"])
    w, h = curl_headers(["-X", "PATCH", "-T", str(payload), "-H", "Tus-Resumable: 1.0.0",
                         "-H", "Upload-Offset: 0", "-H", "Content-Type: application/offset+octet-stream",
                         "-H", "Expect:", "-w", "%{time_total} %{size_upload} %{http_code}", url], hdrs)
    t_patch, sent, code = w.split()
    if code != "204" or h.get("upload-offset") != str(size):
        raise RuntimeError(f"tus PATCH answered {code}, Upload-Offset {h.get('upload-offset')}")
    result = json.loads(h.get("atoll-upload-result", "null") or "null")
    if not isinstance(result, dict):
        raise RuntimeError(f"tus PATCH without Atoll-Upload-Result: {h}")
    return float(t_create) + float(t_patch), int(float(sent)), result


class LargeBench(Bench):
    """``--large``: nginx and atoll servers (uvicorn by default)."""

    LEGS = ("tus", "upload-api")

    def make_server(self, name: str) -> Server:
        srv = super().make_server(name)
        if isinstance(srv, Atoll):
            # upload-api limits the whole request body: a file of max_upload_bytes (10 GiB by
            # default) plus its multipart framing would be refused with 413.
            limit = max(10 * GIB, self.args.large_size + 64 * MIB)
            srv.env.setdefault("ATOLL_MAX_UPLOAD_BYTES", str(limit))
        return srv

    def check_space(self) -> None:
        a = self.args
        atolls = len(self.atoll_names)
        # payloads; per atoll server the stored file, the one in flight and the warm-up's;
        # nginx's body file.
        need = (a.large_size + a.large_warmup + a.client_size
                + atolls * (2 * a.large_size + a.large_warmup + 2 * a.client_size)
                + ("nginx" in self.names) * a.large_size + 2 * GIB)
        st = os.statvfs(self.tmp)
        free = st.f_bavail * st.f_frsize
        if free < need:
            raise SystemExit(f"bench --large: {free / GIB:.1f} GiB free under {self.tmp}, needs about "
                             f"{need / GIB:.1f} GiB (BENCH_TMPDIR picks another place)")
        log(f"disk: {free / GIB:.1f} GiB free under {self.tmp}, the run needs about "
            f"{need / GIB:.1f} GiB")

    def make_payloads(self) -> None:
        a = self.args
        self.check_space()
        self.big = self.tmp / "payload.bin"
        self.small = self.tmp / "small.bin"
        log(f"payload: {human_size(a.large_size)} of random bytes -> {self.big}")
        t0 = time.monotonic()
        self.big_sha = write_random(self.big, a.large_size)
        log(f"  written and hashed in {time.monotonic() - t0:.0f} s")
        self.warm = self.big
        if a.large_warmup < a.large_size:
            self.warm = self.tmp / "warmup.bin"
            write_random(self.warm, a.large_warmup)
        self.client_payload = self.tmp / "client.bin"
        if not a.skip_clients:
            write_random(self.client_payload, a.client_size)
        write_random(self.small, a.small_size)

    def prepare(self) -> None:
        super().prepare()
        for name in list(self.servers):
            try:
                self.fresh_links(name)
            except Exception as e:
                self.fail(name, f"prepare: no tus_link ({e})")

    def fresh_links(self, name: str) -> None:
        """New upload links (upload-api and tus) for an atoll server: tickets last an hour
        (``link_ttl_s``), less than a slow run of several 10 GiB rounds."""
        srv = self.servers[name]
        if isinstance(srv, Atoll):
            link = srv.upload_link()
            self.ctx[name].update({k: str(link[k]) for k in ("upload_link", "parent_path",
                                                             "file_relative_path", "tus_link")})

    def legs(self) -> list[tuple[str, str]]:
        out = []
        for name in self.names:
            if name not in self.servers:
                continue
            for leg in self.LEGS if isinstance(self.servers[name], Atoll) else ("upload-api",):
                out.append((leg, name))
        return out

    def upload(self, leg: str, name: str, payload: Path, as_name: str,
               sha: str | None) -> tuple[float, int]:
        """One upload by ``leg`` -> (s, bytes); atoll's answer checked (sha256 when given)."""
        srv, ctx = self.servers[name], self.ctx[name]
        size = payload.stat().st_size
        if leg == "tus":
            t, sent, result = tus_upload(self.tmp, ctx["tus_link"], ctx["file_relative_path"],
                                         payload, as_name)
            if result.get("size") != size or (sha and result.get("sha256") != sha):
                raise RuntimeError(f"tus result {result} (want size {size}, sha256 {sha})")
            return t, sent
        link = {k: ctx[k] for k in ("upload_link", "parent_path", "file_relative_path")}
        t, sent, reply = curl_upload(link, payload, as_name, max_time=MAX_TIME_S)
        if not isinstance(srv, Nginx):
            check_upload_reply(reply, as_name, size)
        return t, sent

    def timed(self, metric: str, label: str, name: str, rnd: int,
              fn: Callable[[], tuple[float, int]]) -> None:
        """The timed transfer ``fn`` -> (s, bytes) on server ``name``; records MB/s, the server's
        peak RSS and CPU per GiB as ``metric``, ``rss_<metric>``, ``cpu_<metric>``."""
        srv, size = self.servers[name], self.args.large_size
        (t, n), cpu, hwm = measured(srv.roots, fn)
        if n < size:  # curl -F sends the multipart framing too
            raise RuntimeError(f"{n} bytes moved, want {size}")
        mbs = n / t / MB
        self.res.add(metric, name, rnd, mbs)
        self.res.add(f"rss_{metric}", name, rnd, hwm)
        self.res.add(f"cpu_{metric}", name, rnd, cpu / (size / GIB))
        log(f"  r{rnd + 1} {name:8s} {label:10s} {mbs:8.0f} MB/s   peak RSS {hwm:7.1f} MiB"
            f"   server CPU {cpu:6.1f} s")

    def phase_large_upload(self) -> None:
        a = self.args
        log(f"\n== upload {human_size(a.large_size)}: tus (POST + one PATCH) and upload-api "
            f"(curl -F); warm-up {human_size(self.warm.stat().st_size)} before each; "
            f"{a.large_rounds} rounds")
        for rnd in range(a.large_rounds):
            for leg, name in rotated(self.legs(), rnd) if self.legs() else []:
                if name not in self.servers:
                    continue
                try:
                    self.fresh_links(name)
                    # Warm-up, untimed, under another name: the large file it would replace is
                    # freed at the end of the timed upload, so before the next leg's warm-up.
                    self.upload(leg, name, self.warm, "warmup.bin", None)
                    self.timed("upload_tus" if leg == "tus" else "upload", leg, name, rnd,
                               partial(self.upload, leg, name, self.big, "big.bin", self.big_sha))
                except Exception as e:
                    self.fail(name, f"{leg} upload: {e}")
            self.log_round_ratios("upload", rnd)
            self.log_round_ratios("upload_tus", rnd, ref_metric="upload")

    def phase_large_download(self) -> None:
        a = self.args
        log(f"\n== download {human_size(a.large_size)} (curl -o /dev/null, one untimed download "
            f"first), {a.large_rounds} rounds")
        for rnd in range(a.large_rounds):
            for name in self.order(rnd):
                srv = self.servers.get(name)
                if not srv:
                    continue
                try:
                    url = srv.big_download_url(self.ctx[name])  # a fresh link every round
                    if rnd == 0 and not isinstance(srv, Nginx):
                        digest, n = srv.sha256_download(url)
                        if (digest, n) != (self.big_sha, a.large_size):
                            raise RuntimeError(f"{n} bytes, sha256 mismatch")
                    else:
                        curl_download(url, max_time=MAX_TIME_S)  # warm-up, untimed
                    self.timed("download", "download", name, rnd,
                               partial(curl_download, url, max_time=MAX_TIME_S))
                except Exception as e:
                    self.fail(name, f"download: {e}")
            self.log_round_ratios("download", rnd)

    def phase_clients(self) -> None:
        a = self.args
        srv = next((self.servers[n] for n in self.atoll_names if n in self.servers), None)
        if not isinstance(srv, Atoll):
            return
        self.client_server = srv.name
        try:
            pythons = {"official": official_python(Path(a.repo), a.python, a.official_python),
                       "atoll": a.python}
            self.facts.update(phase_clients(self.res, self.tmp, Path(a.repo), pythons, srv,
                                            self.client_payload, a.client_rounds))
        except Exception as e:
            log(f"!! clients: {e}")
            self.failed["clients"] = str(e)
        finally:
            self.client_payload.unlink(missing_ok=True)

    def run(self) -> int:
        a = self.args
        self.t0 = time.time()
        self.facts: dict[str, object] = {}
        self.client_server = ""
        self.make_payloads()
        self.start_servers()
        self.prepare()
        if not self.servers:
            log("no server could be benchmarked")
            return 1
        self.phase_large_upload()
        if not a.skip_download:
            self.phase_large_download()
        if not a.skip_clients:
            self.phase_clients()
        self.idle = {n: s.idle_rss_kib / 1024 for n, s in self.servers.items()}
        print_large_summary(self)
        doc = a.doc
        if doc is None and not a.no_doc and not a.quick and not self.failed and not a.variants \
                and a.large_size == 10 * GIB and a.client_size == GIB and "nginx" in self.servers:
            doc = str(Path(a.repo) / "docs" / "benchmarks-large.md")
        if doc and not a.no_doc:
            write_large_doc(self, Path(doc))
        log(f"total {(time.time() - self.t0) / 60:.1f} min")
        return 0 if not self.failed else 2
