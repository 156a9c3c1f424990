"""Resumable (tus) uploads and Range-resumed downloads against the in-process fake server:
the offsets, retries, restarts, patience and hashing logic, request by request."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

import atoll
from atoll.client.sync import Base
from tests.client.fake_tus import TUS, UPLOADS, FakeTus
from tests.client.fakes import API_TOKEN, SERVER, UUID, FakeSeaTable

SIZE = 3 * 256 * 1024 + 123  # a few chunks and a bit


class Clock:
    """Fake time: sleeping advances it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s


@pytest.fixture
def fake() -> FakeSeaTable:
    return FakeSeaTable()


@pytest.fixture
def tus(fake: FakeSeaTable) -> FakeTus:
    return FakeTus(fake)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def data() -> bytes:
    return os.urandom(SIZE)


@pytest.fixture
def local(tmp_path: Path, data: bytes) -> Path:
    p = tmp_path / "big.bin"
    p.write_bytes(data)
    return p


def make(fake: FakeSeaTable, clock: Clock, store: Path | None, **kw: Any) -> Base:
    b = atoll.Base(API_TOKEN, SERVER, http=httpx.Client(transport=fake), resume_store=store,
                   resumable_threshold=1024 * 1024 // 2, **kw)
    b._transport.sleep = clock.sleep
    b._transport.clock = lambda: clock.now
    return b


@pytest.fixture
def base(fake: FakeSeaTable, clock: Clock, tmp_path: Path) -> Base:
    return make(fake, clock, tmp_path / "store")


def methods(fake: FakeSeaTable) -> list[str]:
    return [s.method for s in fake.seen if s.path.startswith((TUS, UPLOADS))]


def test_tus_round_trip(fake: FakeSeaTable, tus: FakeTus, base: Base, local: Path, data: bytes,
                        tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    cell = base.upload_local_file(local, progress=lambda d, t: seen.append((d, t)))
    assert cell == {"type": "file", "size": SIZE, "name": "big.bin",
                    "url": f"{SERVER}/workspace/7/asset/{UUID}/files/2025-08/big.bin"}
    assert fake.files["files/2025-08/big.bin"] == data
    assert methods(fake) == ["POST", "PATCH"]
    (post,) = [s for s in fake.seen if s.method == "POST" and s.path.startswith(TUS)]
    assert post.headers["upload-length"] == str(SIZE)
    patch = next(s for s in fake.seen if s.method == "PATCH")
    assert patch.headers["upload-offset"] == "0" and patch.headers["content-length"] == str(SIZE)
    assert "upload-checksum" not in patch.headers  # a cut keeps what arrived
    assert seen[0] == (0, SIZE) and seen[-1] == (SIZE, SIZE)
    assert list((tmp_path / "store").iterdir()) == []  # the entry is gone once complete


def test_threshold_and_resumable_switch(fake: FakeSeaTable, tus: FakeTus, base: Base,
                                        tmp_path: Path) -> None:
    small = tmp_path / "small.txt"
    small.write_bytes(b"tiny")
    base.upload_local_file(small)
    assert methods(fake) == [] and fake.uploads == ["files/2025-08/small.txt"]
    base.upload_local_file(small, resumable=True)
    assert methods(fake) == ["POST", "PATCH"]
    fake.seen.clear()
    big = tmp_path / "big"
    big.write_bytes(bytes(SIZE))
    base.upload_local_file(big, resumable=False)
    assert methods(fake) == [] and fake.uploads[-1] == "files/2025-08/big"


def test_cut_mid_patch_resumes_from_server_offset(
    fake: FakeSeaTable, tus: FakeTus, base: Base, local: Path, data: bytes, clock: Clock
) -> None:
    tus.cuts = [300_000, 5]
    seen: list[int] = []
    cell = base.upload_local_file(local, progress=lambda d, t: seen.append(d))
    assert cell["size"] == SIZE and fake.files["files/2025-08/big.bin"] == data
    assert methods(fake) == ["POST", "PATCH", "HEAD", "PATCH", "HEAD", "PATCH"]
    offsets = [s.headers["upload-offset"] for s in fake.seen if s.method == "PATCH"]
    assert offsets == ["0", "300000", "300005"]
    assert len(clock.sleeps) == 2 and all(0.25 <= s <= 0.5 for s in clock.sleeps)
    assert 300_000 in seen and seen[-1] == SIZE


def test_conflict_locked_and_5xx_are_waited_out(
    fake: FakeSeaTable, tus: FakeTus, base: Base, local: Path, data: bytes, clock: Clock
) -> None:
    tus.statuses = [("PATCH", 423), ("PATCH", 503), ("HEAD", 502)]
    tus.refusals = ["HEAD"]
    tus.late = [5000]
    base.upload_local_file(local)
    assert fake.files["files/2025-08/big.bin"] == data
    # 423: wait, HEAD refused, wait, HEAD 502, wait, HEAD; 503: wait, HEAD; 409: HEAD at once
    assert methods(fake) == ["POST", "PATCH", "HEAD", "HEAD", "HEAD", "PATCH", "HEAD", "PATCH",
                             "HEAD", "PATCH"]
    assert len(clock.sleeps) == 4
    assert clock.sleeps[0] < clock.sleeps[2] < clock.sleeps[3] <= 4  # backoff grows
    offsets = [s.headers["upload-offset"] for s in fake.seen if s.method == "PATCH"]
    assert offsets == ["0", "0", "0", "5000"]


def test_conflict_at_the_right_offset_is_an_error(fake: FakeSeaTable, tus: FakeTus, base: Base,
                                                  local: Path) -> None:
    tus.statuses = [("PATCH", 409)]  # e.g. the row to attach to was deleted
    with pytest.raises(atoll.AtollHTTPError) as info:
        base.upload_local_file(local)
    assert info.value.status == 409 and methods(fake) == ["POST", "PATCH", "HEAD"]


def test_no_progress_for_patience_gives_up(
    fake: FakeSeaTable, tus: FakeTus, clock: Clock, local: Path, tmp_path: Path
) -> None:
    b = make(fake, clock, tmp_path / "store", resume_patience_s=60)
    tus.statuses = [("PATCH", 503)] + [("HEAD", 503)] * 100
    with pytest.raises(atoll.TransferError, match=r"no progress for \d+ s .*HTTP 503"):
        b.upload_local_file(local)
    assert 60 <= clock.now < 80 and max(clock.sleeps) <= 10
    assert len(list((tmp_path / "store").iterdir())) == 1  # kept, for the next run


def test_progress_restarts_the_patience(
    fake: FakeSeaTable, tus: FakeTus, clock: Clock, local: Path, data: bytes, tmp_path: Path
) -> None:
    b = make(fake, clock, tmp_path / "store", resume_patience_s=20)
    tus.cuts = [10, 10, 10, 10, 10, 10]  # each cut still moves the offset forward
    tus.statuses = [("HEAD", 503)] * 3
    b.upload_local_file(local)
    assert fake.files["files/2025-08/big.bin"] == data


def test_gone_upload_restarts_once(fake: FakeSeaTable, tus: FakeTus, base: Base, local: Path,
                                   data: bytes) -> None:
    tus.cuts = [1000]
    tus.statuses = [("HEAD", 404)]
    base.upload_local_file(local)
    assert fake.files["files/2025-08/big.bin"] == data and tus.created == 2
    tus.statuses = [("PATCH", 410), ("PATCH", 410)]
    with pytest.raises(atoll.AtollHTTPError) as info:
        base.upload_local_file(local)
    assert info.value.status == 410 and tus.created == 4


def test_gone_attached_upload_raises(fake: FakeSeaTable, tus: FakeTus, base: Base,
                                     local: Path) -> None:
    tus.statuses = [("PATCH", 404)]
    with pytest.raises(atoll.NotFoundError):
        base.upload_local_file(local, table="Table1", column="Files")
    assert tus.created == 1


def test_sha256_mismatch_is_integrity_error(tus: FakeTus, base: Base, local: Path) -> None:
    tus.corrupt = True
    with pytest.raises(atoll.IntegrityError, match="SHA-256") as info:
        base.upload_local_file(local)
    assert isinstance(info.value, atoll.AtollHTTPError)


def interrupt(fake: FakeSeaTable, tus: FakeTus, clock: Clock, store: Path, local: Path, cut: int,
              **kw: Any) -> Base:
    """An upload of ``local`` cut after ``cut`` bytes, given up at once (as a Ctrl-C would
    leave it); the Base, which has no patience."""
    b = make(fake, clock, store, resume_patience_s=0)
    tus.cuts = [cut]
    with pytest.raises(atoll.TransferError, match="no progress for 0 s"):
        b.upload_local_file(local, **kw)
    return b


def test_resume_across_bases_through_the_store(
    fake: FakeSeaTable, tus: FakeTus, clock: Clock, local: Path, data: bytes, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    interrupt(fake, tus, clock, store, local, 400_000, replace=True)
    (entry,) = store.iterdir()
    assert entry.stat().st_mode & 0o777 == 0o600
    fake.seen.clear()
    second = make(fake, clock, store)
    seen: list[int] = []
    cell = second.upload_local_file(local, replace=True, progress=lambda d, t: seen.append(d))
    assert cell["size"] == SIZE and fake.files["files/2025-08/big.bin"] == data
    assert methods(fake) == ["HEAD", "PATCH"] and tus.created == 1
    assert next(s for s in fake.seen if s.method == "PATCH").headers["upload-offset"] == "400000"
    assert seen[0] == 400_000
    assert list(store.iterdir()) == []


def test_store_is_keyed_by_the_upload(
    fake: FakeSeaTable, tus: FakeTus, clock: Clock, local: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    b = interrupt(fake, tus, clock, store, local, 1000)
    b.upload_local_file(local, name="other.bin")  # another target: a new upload
    assert tus.created == 2 and len(list(store.iterdir())) == 1
    os.utime(local, ns=(1, 1))  # the file changed: a new upload too
    b.upload_local_file(local)
    assert tus.created == 3 and len(list(store.iterdir())) == 1


def test_stale_stored_url_starts_afresh(
    fake: FakeSeaTable, tus: FakeTus, clock: Clock, local: Path, data: bytes, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    b = interrupt(fake, tus, clock, store, local, 1000)
    tus.uploads.clear()  # expired on the server
    b.upload_local_file(local)
    assert fake.files["files/2025-08/big.bin"] == data and tus.created == 2
    assert list(store.iterdir()) == []


def test_no_store(fake: FakeSeaTable, tus: FakeTus, clock: Clock, local: Path) -> None:
    b = make(fake, clock, None)
    assert b.resume_store is None
    b.upload_local_file(local)
    assert tus.created == 1


def test_upload_and_attach_metadata(fake: FakeSeaTable, tus: FakeTus, base: Base,
                                    tmp_path: Path) -> None:
    small = tmp_path / "a.png"
    small.write_bytes(b"png")
    cell = base.upload_local_file(small, file_type="image", table="Table1", row_id="r1",
                                  column="Pics")
    assert methods(fake) == ["POST", "PATCH"]  # attached: tus even when small
    assert tus.uploads["u1"].metadata == {
        "filename": "a.png", "file_type": "image", "relative_path": "images/2025-08",
        "parent_dir": f"/asset/{UUID}", "table": "Table1", "column": "Pics", "row_id": "r1",
    }
    assert cell["row_id"] == "r1" and cell["table_id"] == "0000" and cell["type"] == "image"
    cell = base.upload_local_file(small, table="Table1", column="Files")
    assert "row_id" not in tus.uploads["u2"].metadata and cell["row_id"] == "new-row"


def test_custom_folder_tus_and_attach(fake: FakeSeaTable, tus: FakeTus, base: Base,
                                      tmp_path: Path) -> None:
    p = tmp_path / "sky.png"
    p.write_bytes(b"x" * 10)
    fake.custom["Main/sky.png"] = b"x" * 10  # what the fake's custom info answers from
    cell = base.upload_local_file_to_custom_folder(p, "/Main", table="T", column="F")
    assert tus.uploads["u1"].metadata == {
        "filename": "sky.png", "file_type": "file", "relative_path": "Main",
        "parent_dir": f"/asset/{UUID}/custom", "table": "T", "column": "F",
    }
    assert cell["url"].startswith("custom-asset://") and cell["row_id"] == "new-row"


def test_attach_argument_errors(base: Base, local: Path) -> None:
    with pytest.raises(ValueError, match="resumable"):
        base.upload_local_file(local, table="T", column="F", resumable=False)
    with pytest.raises(ValueError, match="row_id"):
        base.upload_local_file(local, row_id="r1")
    with pytest.raises(ValueError, match="both"):
        base.upload_local_file(local, table="T")


def test_server_without_tus(fake: FakeSeaTable, tus: FakeTus, base: Base, local: Path) -> None:
    tus.offer_tus = False
    base.upload_local_file(local)  # large, but the server cannot: multipart
    assert fake.uploads == ["files/2025-08/big.bin"]
    with pytest.raises(atoll.AtollHTTPError, match="tus_link"):
        base.upload_local_file(local, resumable=True)
    with pytest.raises(atoll.AtollHTTPError, match="tus_link"):
        base.upload_local_file(local, table="T", column="F")


# -- downloads --------------------------------------------------------------------------------

URL = f"/workspace/7/asset/{UUID}/files/2025-08/big.bin"


def test_download_resumes_with_range(fake: FakeSeaTable, tus: FakeTus, base: Base, data: bytes,
                                     tmp_path: Path, clock: Clock) -> None:
    fake.files["files/2025-08/big.bin"] = data
    tus.download_cuts = [100_000, 1]
    seen: list[int] = []
    out = base.download_file(URL, tmp_path / "out", progress=lambda d, t: seen.append(d))
    assert out.read_bytes() == data and len(clock.sleeps) == 2
    gets = [s for s in fake.seen if s.path.startswith("/seafhttp/files/")]
    assert [s.headers.get("range") for s in gets] == [None, "bytes=100000-", "bytes=100001-"]
    assert gets[1].headers["if-range"].startswith('"')
    assert seen[0] == 0 and 100_000 in seen and seen[-1] == SIZE
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temp file left


def test_download_keeps_resuming_while_it_progresses(
    fake: FakeSeaTable, tus: FakeTus, base: Base, data: bytes, tmp_path: Path
) -> None:
    fake.files["files/2025-08/big.bin"] = data
    tus.download_cuts = [1000] * 8  # more cuts than retries, each one further
    assert base.download_file(URL, tmp_path / "o").read_bytes() == data


def test_download_200_instead_of_206_starts_over(
    fake: FakeSeaTable, tus: FakeTus, base: Base, data: bytes, tmp_path: Path
) -> None:
    fake.files["files/2025-08/big.bin"] = data
    tus.download_cuts = [100_000]
    tus.ignore_range = True
    seen: list[int] = []
    out = base.download_file(URL, tmp_path / "out", progress=lambda d, t: seen.append(d))
    assert out.read_bytes() == data
    assert seen.count(0) == 2  # started over


def test_download_into_file_object(fake: FakeSeaTable, tus: FakeTus, base: Base, data: bytes,
                                   tmp_path: Path) -> None:
    fake.files["files/2025-08/big.bin"] = data
    tus.download_cuts = [7]
    buf = io.BytesIO(b"head:")
    buf.seek(5)
    written = base.download_file(URL, buf)
    assert buf.getvalue() == b"head:" + data and written == Path("big.bin")
    tus.download_cuts = [7]
    tus.ignore_range = True
    with (tmp_path / "f").open("wb") as f:
        assert base.download_file(URL, f) == tmp_path / "f"
    assert hashlib.sha256((tmp_path / "f").read_bytes()).digest() == hashlib.sha256(data).digest()
    with pytest.raises(TypeError, match="binary"), (tmp_path / "t").open("w") as t:
        base.download_file(URL, t)  # type: ignore[arg-type]
