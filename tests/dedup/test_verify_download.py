"""A download of a blob whose bytes no longer match its SHA-256 fails loudly: small blobs with a
502 before any byte (verify_downloads=small, the default), larger ones (=all) with a transfer
cut short of its Content-Length, never a clean wrong file."""

from __future__ import annotations

import logging
from pathlib import Path

import anyio
import httpx
import pytest
from sqlalchemy import select

from atoll.db import schema
from atoll.errors import CorruptBlob
from atoll.services.blob_verify import CORRUPT_MESSAGE
from atoll.services.context import Context
from tests.dedup.conftest import Env, MakeEnv, asset_keys
from tests.live_server import LiveServer

GOOD = b"0123456789abcdef" * 64  # 1 KiB


def _corrupt(env: Env, name: str, data: bytes) -> None:
    key = asset_keys(env)[(env.uuid, f"/files/2026-11/{name}")]

    async def write() -> None:
        writer = await env.ctx.blobs.create(key)
        await writer.write(data)
        await writer.commit()

    anyio.run(write)


def _link(env: Env, name: str) -> str:
    resp = env.download_link(f"files/2026-11/{name}")
    assert resp.status_code == 200  # type: ignore[attr-defined]
    return str(resp.json()["download_link"])  # type: ignore[attr-defined]


@pytest.mark.parametrize("damage", ["flip", "truncate", "extend"])
def test_corrupt_small_blob_is_a_502_not_wrong_bytes(
    env: Env, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    env.upload("a.bin", GOOD)
    link = _link(env, "a.bin")
    assert env.client.get(link).content == GOOD
    bad = {"flip": b"1" + GOOD[1:], "truncate": GOOD[:-10], "extend": GOOD + b"x"}[damage]
    _corrupt(env, "a.bin", bad)
    with caplog.at_level(logging.ERROR, logger="atoll.integrity"):
        resp = env.client.get(link)
        ranged = env.client.get(link, headers={"Range": "bytes=0-9"})
    assert resp.status_code == 502 and ranged.status_code == 502
    assert CORRUPT_MESSAGE in resp.text and GOOD[:64] not in resp.content
    assert any("corrupt blob" in r.message for r in caplog.records)


def test_verified_small_download_serves_ranges_and_head(env: Env) -> None:
    env.upload("a.bin", GOOD)
    link = _link(env, "a.bin")
    part = env.client.get(link, headers={"Range": "bytes=16-31"})
    assert part.status_code == 206 and part.content == GOOD[16:32]
    assert part.headers["content-range"] == f"bytes 16-31/{len(GOOD)}"
    assert env.client.get(link, headers={"Range": "bytes=5000-"}).status_code == 416
    head = env.client.head(link)
    assert head.status_code == 200 and head.headers["content-length"] == str(len(GOOD))


def test_verify_off_serves_what_is_stored(make_env: MakeEnv) -> None:
    env = make_env(verify_downloads="off")
    env.upload("a.bin", GOOD)
    _corrupt(env, "a.bin", b"1" + GOOD[1:])
    resp = env.client.get(_link(env, "a.bin"))
    assert resp.status_code == 200 and resp.content == b"1" + GOOD[1:]  # the operator's choice


def test_big_blob_over_the_small_limit_is_not_read_first_by_default(make_env: MakeEnv) -> None:
    env = make_env(verify_small_bytes=100)
    env.upload("a.bin", GOOD)
    _corrupt(env, "a.bin", b"1" + GOOD[1:])
    assert env.client.get(_link(env, "a.bin")).status_code == 200  # small mode: above the limit, unchecked


def test_all_mode_cuts_a_large_corrupt_stream(make_env: MakeEnv) -> None:
    big = bytes(range(256)) * 1024  # 256 KiB in 16 KiB chunks
    env = make_env(verify_downloads="all", verify_small_bytes=1024, chunk_bytes=16 * 1024)
    env.upload("big.bin", big)
    link = _link(env, "big.bin")
    ok = env.client.get(link)
    assert ok.status_code == 200 and ok.content == big
    _corrupt(env, "big.bin", big[:-1] + b"\x00")  # the very last byte differs
    _assert_aborted(env, link)
    _corrupt(env, "big.bin", big[: 100 * 1024])  # short: the length check fails at the end
    _assert_aborted(env, link)


def _assert_aborted(env: Env, link: str) -> None:
    """The app raised after the response started (a server then drops the connection)."""
    with pytest.raises(RuntimeError, match="response already started") as raised:
        env.client.get(link)
    assert isinstance(raised.value.__cause__, CorruptBlob)


def test_live_server_client_sees_a_broken_transfer(tmp_path: Path) -> None:
    big = bytes(range(256)) * 4096  # 1 MiB in 64 KiB chunks
    env = {"ATOLL_VERIFY_DOWNLOADS": "all", "ATOLL_VERIFY_SMALL_BYTES": "1024",
           "ATOLL_CHUNK_BYTES": str(64 * 1024)}
    with LiveServer(tmp_path / "data", env=env) as server, httpx.Client(base_url=server.url) as http:
        auth = {"Authorization": f"Token {server.create_token('Demo')}"}
        link = http.get("/api/v2.1/dtable/app-upload-link/", headers=auth).json()
        up = http.post(link["upload_link"] + "?ret-json=1", files={"file": ("big.bin", big)},
                       data={"parent_dir": link["parent_path"], "relative_path": "files/x"})
        assert up.status_code == 200, up.text
        down = http.get("/api/v2.1/dtable/app-download-link/", params={"path": "files/x/big.bin"},
                        headers=auth).json()["download_link"]
        assert http.get(down).content == big
        ctx = Context.open(server.settings)
        try:
            with ctx.engine.connect() as conn:
                key = conn.execute(select(schema.assets.c.blob_key)).scalar_one()
            anyio.run(_overwrite, ctx, key, big[:-1] + b"\x00")
        finally:
            anyio.run(ctx.blobs.aclose)
            ctx.engine.dispose()
        with pytest.raises(httpx.RemoteProtocolError):  # fewer bytes than Content-Length
            http.get(down)


async def _overwrite(ctx: Context, key: str, data: bytes) -> None:
    writer = await ctx.blobs.create(key)
    await writer.write(data)
    await writer.commit()
