"""Damaged, tampered and hostile archives are refused with a clear message, and leave nothing
behind: no base, no rows, no asset records, no blobs (also those stored before the problem)."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from atoll.services.archive_io.layout import SHA_PAX
from atoll.services.archive_io.tarstream import TarStream
from tests.conftest import App, MakeApp
from tests.export.conftest import OLD_URL, blobs, counts, export, make_source, run_cli, sha

Edit = Callable[[tarfile.TarInfo, bytes], list[tuple[tarfile.TarInfo, bytes]]]


@pytest.fixture
def made(tmp_path: Path, make_app: MakeApp) -> tuple[App, Path]:
    app = make_app(public_url=OLD_URL)
    export(make_source(app), tmp_path / "good.tar")
    return app, tmp_path / "good.tar"


def _members(path: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(path) as tar:
        return [(m, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]


def _write(members: list[tuple[tarfile.TarInfo, bytes]], path: Path) -> Path:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return path


def _refused(app: App, archive: Path, *needles: str) -> str:
    before, files = counts(app.ctx), blobs(app)
    out = run_cli(["import", str(archive), "--as", "Hostile"], app.ctx.settings)
    assert out.exit_code != 0, out.output
    assert "nothing was imported" in out.output.lower()
    for needle in needles:
        assert needle in out.output, out.output
    assert counts(app.ctx) == before and blobs(app) == files  # nothing left behind
    return out.output


def test_tampered_blob_is_detected_after_earlier_blobs_were_stored(
    made: tuple[App, Path], tmp_path: Path
) -> None:
    app, good = made
    raw = bytearray(good.read_bytes())
    with tarfile.open(good) as tar:
        last_blob = [m for m in tar.getmembers() if m.name.startswith("blobs/") and m.size > 1000][-1]
    raw[last_blob.offset_data + 500] ^= 0x01  # one bit flipped, headers intact
    bad = tmp_path / "flipped.tar"
    bad.write_bytes(bytes(raw))
    _refused(app, bad, "SHA-256 mismatch")


def test_tampered_document_is_detected(made: tuple[App, Path], tmp_path: Path) -> None:
    app, good = made
    raw = bytearray(good.read_bytes())
    with tarfile.open(good) as tar:
        rows = tar.getmember("rows/000001.jsonl")
    raw[rows.offset_data + 10] ^= 0x02
    bad = tmp_path / "rows.tar"
    bad.write_bytes(bytes(raw))
    _refused(app, bad, "rows/000001.jsonl: SHA-256 mismatch")


def test_consistent_forgery_is_caught_by_the_record_and_manifest(
    made: tuple[App, Path], tmp_path: Path
) -> None:
    """A blob replaced along with its PAX checksum still differs from its asset record; a
    member removed with every checksum intact still differs from the manifest."""
    app, good = made
    members = _members(good)
    forged = []
    for info, data in members:
        if info.name.startswith("blobs/") and info.size == 5:  # small.txt
            data = b"HELLO"
            info.pax_headers = {SHA_PAX: sha(data)}
        forged.append((info, data))
    _refused(app, _write(forged, tmp_path / "forged.tar"), "differ from its asset record")
    dropped = [(i, d) for i, d in _members(good) if i.name != "links/000001.jsonl"]
    _refused(app, _write(dropped, tmp_path / "dropped.tar"), "the manifest does not match")


@pytest.mark.parametrize("where", ["inside a blob", "before the manifest", "inside the header"])
def test_truncated_archive(made: tuple[App, Path], tmp_path: Path, where: str) -> None:
    app, good = made
    raw = good.read_bytes()
    with tarfile.open(good) as tar:
        members = tar.getmembers()
    big = next(m for m in members if m.name.startswith("blobs/") and m.size > 100_000)
    manifest = members[-1]
    cut = {
        "inside a blob": big.offset_data + big.size // 2,
        "before the manifest": manifest.offset,
        "inside the header": 300,
    }[where]
    bad = tmp_path / "cut.tar"
    bad.write_bytes(raw[:cut])
    _refused(app, bad)


def _hostile(good: Path, tmp_path: Path, extra: tarfile.TarInfo, data: bytes = b"") -> Path:
    """base.json of a real archive, then ``extra``."""
    members = _members(good)[:1]
    extra.pax_headers = {SHA_PAX: sha(data)}
    return _write([*members, (extra, data)], tmp_path / "hostile.tar")


@pytest.mark.parametrize(
    "name", ["../escape.txt", "/etc/passwd", "blobs/../../x", "assets/../../x.jsonl", "rows/x.jsonl"]
)
def test_paths_outside_the_layout_are_refused(made: tuple[App, Path], tmp_path: Path, name: str) -> None:
    app, good = made
    info = tarfile.TarInfo(name)
    info.size = 4
    _refused(app, _hostile(good, tmp_path, info, b"evil"), "not part of an atoll base archive")


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.DIRTYPE])
def test_links_devices_and_folders_are_refused(made: tuple[App, Path], tmp_path: Path, kind: bytes) -> None:
    app, good = made
    info = tarfile.TarInfo("rows/000001.jsonl")
    info.type = kind
    info.linkname = "/etc/passwd"
    _refused(app, _hostile(good, tmp_path, info), "not a regular file")


def test_huge_declared_document_is_refused_before_reading(made: tuple[App, Path], tmp_path: Path) -> None:
    app, good = made
    out = io.BytesIO()
    stream = TarStream(out, 0)
    for info, data in _members(good)[:1]:
        stream.add_bytes(info.name, data)
    header = tarfile.TarInfo("rows/000001.jsonl")
    header.size = 1 << 50  # a petabyte, declared; a few bytes follow
    header.pax_headers = {SHA_PAX: "0" * 64}
    out.write(header.tobuf(tarfile.PAX_FORMAT) + b"x" * 512)
    bad = tmp_path / "huge.tar"
    bad.write_bytes(out.getvalue())
    _refused(app, bad, "declares 1125899906842624 bytes")


def test_huge_declared_asset_is_refused(made: tuple[App, Path], tmp_path: Path) -> None:
    """An asset record and blob header both claiming a petabyte: refused (no room, or the
    archive ends long before), with the assets stored before it removed."""
    app, good = made
    members = _members(good)
    out = io.BytesIO()
    stream = TarStream(out, 0)
    uuid = "0" * 8 + "-0000-4000-8000-" + "0" * 12
    record = (
        f'{{"uuid":"{uuid}","dir_path":"/files/2026-11","name":"huge.bin","size":{1 << 50},'
        f'"sha256":"{"0" * 64}","mtime":"2026-11-01T00:00:00+00:00"}}\n'
    ).encode()
    for info, data in members[:1]:
        stream.add_bytes(info.name, data)
    stream.add_bytes("assets/000001.jsonl", record)
    header = tarfile.TarInfo(f"blobs/{uuid}")
    header.size = 1 << 50
    header.pax_headers = {SHA_PAX: "0" * 64}
    out.write(header.tobuf(tarfile.PAX_FORMAT) + b"x" * 4096)
    bad = tmp_path / "huge-asset.tar"
    bad.write_bytes(out.getvalue())
    _refused(app, bad)


def test_not_an_archive(made: tuple[App, Path], tmp_path: Path) -> None:
    app, _ = made
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"hello, I am not an archive" * 100)
    _refused(app, junk, "neither an atoll base archive (tar) nor a SeaTable .dtable (zip)")
