"""``atoll.AsyncBase`` against the in-process fake: the same methods as ``Base`` (names,
signatures, docs), as coroutines, with the same requests, retries, resume and errors."""

from __future__ import annotations

import inspect
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx
import pytest

import atoll
from tests.client.fake_tus import UPLOADS, AsyncFake, FakeTus
from tests.client.fakes import API_TOKEN, SERVER, UUID, FakeSeaTable

T = TypeVar("T")


def run(fn: Callable[[], Awaitable[T]]) -> T:
    return anyio.run(fn)


def make(fake: FakeSeaTable, tmp_path: Path, **kw: Any) -> tuple[atoll.AsyncBase, list[float]]:
    b = atoll.AsyncBase(API_TOKEN, SERVER, http=httpx.AsyncClient(transport=AsyncFake(fake)),
                        resume_store=tmp_path / "store", **kw)
    sleeps: list[float] = []

    async def sleep(s: float) -> None:
        sleeps.append(s)

    b._transport.sleep = sleep
    return b, sleeps


def public(cls: type) -> set[str]:
    return {n for n in dir(cls) if not n.startswith("_")}


def test_same_methods_and_signatures_as_base() -> None:
    sync_names = public(atoll.Base) - {"close"}
    assert public(atoll.AsyncBase) - {"close", "aclose"} == sync_names
    b = atoll.Base(API_TOKEN, SERVER)
    a = atoll.AsyncBase(API_TOKEN, SERVER)
    try:
        methods = [n for n in sync_names if callable(getattr(b, n))]
        assert len(methods) >= 30
        for name in methods:
            sync_m, async_m = getattr(b, name), getattr(a, name)
            assert inspect.iscoroutinefunction(async_m), name
            assert not inspect.iscoroutinefunction(sync_m), name
            assert inspect.signature(async_m) == inspect.signature(sync_m), name
            assert async_m.__doc__ == sync_m.__doc__ and async_m.__name__ == name
        sig = inspect.signature(b.upload_local_file)
        assert list(sig.parameters)[:5] == ["file_path", "name", "relative_path", "file_type",
                                            "replace"]
        assert {"table", "row_id", "column", "resumable", "progress", "timeout"} <= {
            p.name for p in sig.parameters.values() if p.kind is p.KEYWORD_ONLY
        }
    finally:
        b.close()
        run(a.aclose)


def test_rows_auth_and_reauth(tmp_path: Path) -> None:
    fake = FakeSeaTable()
    b, _ = make(fake, tmp_path)

    async def go() -> None:
        async with b:
            assert await b.list_rows("Table1") == [{"_id": "r1", "Name": "a"}]
            assert b.is_authed and b.dtable_uuid == UUID and str(b) == "<SeaTable Base [ Demo ]>"
            assert (await b.append_row("Table1", {"Name": "x"}))["_id"] == "r2"
            fake.jwt = "jwt-2"
            assert await b.get_row("Table1", "r1") == {"_id": "r1", "Name": "a"}
            assert b.jwt_token == "jwt-2"
            assert await b.get_table_by_name("Table1") is not None
            with pytest.raises(atoll.NotFoundError, match="row _id not exits"):
                await b.get_row("Table1", "missing")

    run(go)


def test_retries_sleep_asynchronously(tmp_path: Path) -> None:
    fake = FakeSeaTable()
    state = {"left": 2}

    def flaky(s: Any) -> httpx.Response | None:
        if "rows" in s.path and state["left"]:
            state["left"] -= 1
            return httpx.Response(503)
        return None

    fake.hooks.append(flaky)
    b, sleeps = make(fake, tmp_path)

    async def go() -> None:
        async with b:
            await b.list_rows("Table1")

    run(go)
    assert len(sleeps) == 2


def test_uploads_and_downloads(tmp_path: Path) -> None:
    fake = FakeSeaTable()
    tus = FakeTus(fake)
    b, sleeps = make(fake, tmp_path, resumable_threshold=1000)
    data = os.urandom(600_000)
    local = tmp_path / "big.bin"
    local.write_bytes(data)
    seen: list[int] = []

    async def go() -> None:
        async with b:
            cell = await b.upload_bytes_file("c.txt", b"hello")
            assert cell["url"] == f"{SERVER}/workspace/7/asset/{UUID}/files/2025-08/c.txt"
            tus.cuts = [250_000]
            cell = await b.upload_local_file(local, progress=lambda d, t: seen.append(d))
            assert cell["size"] == len(data) and fake.files["files/2025-08/big.bin"] == data
            cell = await b.upload_local_file(local, table="Table1", column="Files")
            assert cell["row_id"] == "new-row"
            tus.download_cuts = [123_456]
            out = await b.download_file(f"/workspace/7/asset/{UUID}/files/2025-08/big.bin",
                                        tmp_path / "dl")
            assert out.read_bytes() == data
            sky = await b.download_custom_file("/Main/sky.png", tmp_path / "s")
            assert sky.read_bytes() == b"\x89PNG..."

    run(go)
    patches = [s.headers["upload-offset"] for s in fake.seen
               if s.method == "PATCH" and s.path.startswith(UPLOADS)]
    assert patches == ["0", "250000", "0"]
    assert 250_000 in seen and seen[-1] == len(data) and len(sleeps) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.bin", "dl", "s", "store"]
    assert list((tmp_path / "store").iterdir()) == []


def test_cancelled_download_leaves_no_temp_file(tmp_path: Path) -> None:
    fake = FakeSeaTable()
    fake.files["files/2025-08/big.bin"] = bytes(2_000_000)
    b, _ = make(fake, tmp_path / "x")

    async def go() -> None:
        async with b:
            with anyio.move_on_after(10) as scope:
                def stop(done: int, total: int | None) -> None:
                    if done > 300_000:
                        scope.cancel()

                await b.download_file(f"/workspace/7/asset/{UUID}/files/2025-08/big.bin",
                                      tmp_path / "dl", progress=stop)
            assert scope.cancelled_caught

    run(go)
    assert list(tmp_path.iterdir()) == []


def test_own_client_closed_given_one_kept(tmp_path: Path) -> None:
    async def go() -> None:
        given = httpx.AsyncClient()
        async with atoll.AsyncBase(API_TOKEN, SERVER, http=given):
            pass
        assert not given.is_closed
        await given.aclose()
        own = atoll.AsyncBase(API_TOKEN, SERVER)
        await own.close()
        assert own._transport.http.is_closed

    run(go)
