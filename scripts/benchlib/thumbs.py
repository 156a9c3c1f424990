"""The thumbnail benchmark (``scripts/bench --thumbs``): atoll only, against ``vipsthumbnail``.

One 24-megapixel JPEG (6000 x 4000, a gradient with noise, quality 90) is made once. Each round
uploads a copy that differs only in bytes after the JPEG's end marker (so its content, and with
it the thumbnail cache key, is new; decoders ignore those bytes), then times:

* the first ``GET /thumbnail/...?size=256`` of that copy (decode, scale, store, answer), with the
  server's process tree (server, forkserver and thumbnail workers) peak RSS over it (VmHWM,
  reset right before) against the server's idle RSS (VmRSS after start-up, before any
  thumbnail); round 1 also starts the worker pool, so it is reported apart ("cold");
* ``vipsthumbnail <copy> -s 256`` (libvips, shrink-on-load) on the same file, as a process of its
  own (its start-up counts, as the server's request and response count on atoll's side);
* the cached request: the same thumbnail URL again (median of ``CACHED_REQS``), against a
  download of a 4 KiB file through its download link, and the same 4 KiB file through its asset
  URL with the same token (the 302 to a ticketed link followed: what a grid would load without
  thumbnails), same client, same count, interleaved.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from benchlib.common import log, median
from benchlib.processes import reset_hwm, tree_kib
from benchlib.servers import Server

WIDTH, HEIGHT = 6000, 4000
SIZE = 256
CACHED_REQS = 100
#: Issue 13: first request <= 1.5x vipsthumbnail; peak RSS <= idle + 128 MiB; cached ~ small file.
TARGET_VS_VIPS = 1.5
TARGET_RSS_MIB = 128


def make_jpeg(path: Path) -> None:
    from PIL import Image

    noise = Image.effect_noise((WIDTH, HEIGHT), 24)
    grad = Image.linear_gradient("L").resize((WIDTH, HEIGHT))
    Image.merge("RGB", (grad, noise, grad.transpose(Image.Transpose.ROTATE_180))).save(
        path, "JPEG", quality=90)


def _get(url: str, headers: dict[str, str]) -> tuple[float, bytes]:
    req = urllib.request.Request(url, headers=headers)
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=120) as resp:
        body = resp.read()
    return time.perf_counter() - t0, body


def _upload(srv: Server, name: str, content: bytes) -> str:
    """Upload ``content`` into images/ via multipart; the asset path."""
    link = srv.upload_link()
    boundary = "atollbench" + str(time.time_ns())
    parts = [
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"parent_dir\"\r\n\r\n"
        f"{link['parent_path']}\r\n",
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"relative_path\"\r\n\r\n"
        f"{link['img_relative_path']}\r\n",
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n",
    ]
    body = "".join(parts).encode() + content + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(link["upload_link"] + "?ret-json=1", data=body, method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        resp.read()
    return f"{link['img_relative_path']}/{name}"


def _vips(src: Path, out_dir: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(["vipsthumbnail", str(src), "-s", str(SIZE), "-o", str(out_dir / "%s_vips.jpg")],
                   check=True, capture_output=True)
    return time.perf_counter() - t0


def run_thumbs(srv: Server, rounds: int) -> dict[str, float]:
    """The figures of one atoll server (seconds, MiB)."""
    if not shutil.which("vipsthumbnail"):
        raise RuntimeError("vipsthumbnail not found (Debian package libvips-tools)")
    work = Path(tempfile.mkdtemp(prefix="thumbs.", dir=srv.tmp))
    src = work / "photo.jpg"
    make_jpeg(src)
    jpeg = src.read_bytes()
    log(f"  source: {WIDTH} x {HEIGHT} JPEG, {len(jpeg) / 1e6:.1f} MB")
    small = _upload(srv, "small.bin", b"x" * 4096)
    small_link = srv.download_link(small)
    idle_mib = tree_kib(srv.roots, "VmRSS") / 1024
    first: list[float] = []
    vips: list[float] = []
    rss: list[float] = []
    url = ""
    auth = ""
    for rnd in range(rounds + 1):  # round 0: cold (the worker pool starts)
        copy = jpeg + b"atoll-bench-%d" % rnd  # after EOI: new content, same image
        copy_path = work / f"photo{rnd}.jpg"
        copy_path.write_bytes(copy)
        rel = _upload(srv, f"photo{rnd}.jpg", copy)
        asset, auth = srv.asset_url(rel)
        url = asset.replace("/workspace/", "/thumbnail/workspace/", 1) + f"?size={SIZE}"
        reset_hwm(srv.roots)
        t, body = _get(url, {"Authorization": auth})
        peak = tree_kib(srv.roots, "VmHWM") / 1024
        v = _vips(copy_path, work)
        from PIL import Image

        with Image.open(io.BytesIO(body)) as im:
            assert max(im.size) == SIZE, im.size
        label = "cold" if rnd == 0 else f"round {rnd}"
        log(f"  {label}: atoll first request {t * 1000:.0f} ms, vipsthumbnail {v * 1000:.0f} ms, "
            f"peak RSS {peak:.0f} MiB (idle {idle_mib:.0f} MiB)")
        if rnd == 0:
            cold = t
            continue
        first.append(t)
        vips.append(v)
        rss.append(peak - idle_mib)
    cached: list[float] = []
    small_dl: list[float] = []
    small_asset: list[float] = []
    small_url, small_auth = srv.asset_url(small)
    for _ in range(CACHED_REQS):  # interleaved: all see the same load
        cached.append(_get(url, {"Authorization": auth})[0])
        small_dl.append(_get(small_link, {})[0])
        small_asset.append(_get(small_url, {"Authorization": small_auth})[0])
    shutil.rmtree(work, ignore_errors=True)
    return {
        "cold_s": cold, "first_s": median(first), "vips_s": median(vips),
        "rss_over_idle_mib": max(rss), "idle_mib": idle_mib,
        "cached_s": median(cached), "small_download_s": median(small_dl),
        "small_asset_url_s": median(small_asset),
    }


def lines(results: dict[str, dict[str, float]], rounds: int) -> list[str]:
    out = [
        f"| server | first request (median of {rounds}) | vipsthumbnail | ratio (target <= "
        f"{TARGET_VS_VIPS}x) | cold first request | peak RSS over idle (target <= {TARGET_RSS_MIB} MiB) "
        f"| cached request | 4 KiB download link | 4 KiB asset URL (token, 302 followed) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        ratio = r["first_s"] / r["vips_s"]
        out.append(
            f"| {name} | {r['first_s'] * 1000:.0f} ms | {r['vips_s'] * 1000:.0f} ms | {ratio:.2f}x "
            f"{'✅' if ratio <= TARGET_VS_VIPS else '❌'} | {r['cold_s'] * 1000:.0f} ms | "
            f"{r['rss_over_idle_mib']:.0f} MiB {'✅' if r['rss_over_idle_mib'] <= TARGET_RSS_MIB else '❌'} "
            f"| {r['cached_s'] * 1000:.1f} ms | {r['small_download_s'] * 1000:.1f} ms "
            f"| {r['small_asset_url_s'] * 1000:.1f} ms |")
    return out
