"""``atoll.AsyncBase`` end to end against a live server behind the fault proxy: rows, a tus
upload cut twice mid-PATCH, a Ctrl-C'd upload resumed by another ``AsyncBase`` through the
resume store, upload-and-attach, and a download cut mid-body."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

import atoll
from tests.client.live_files import MiB, random_file, sha256_of
from tests.faultproxy import Fault, FaultProxy
from tests.live_server import LiveServer


def test_async_base_end_to_end(proxied: tuple[LiveServer, FaultProxy, str], tmp_path: Path) -> None:
    srv, proxy, token = proxied
    local = tmp_path / "a.bin"
    digest = random_file(local, 10 * MiB)
    store = tmp_path / "store"

    async def scenario() -> None:
        async with atoll.AsyncBase(token, srv.url, resume_store=store) as b:
            await b.auth()
            await b.add_table("Inbox", columns=[{"column_name": "Files", "column_type": "file"}])
            row = await b.append_row("Inbox", {})
            proxy.faults[:] = [Fault("cut", method="PATCH", cut_after=3 * MiB, times=2)]
            cell = await b.upload_local_file(local, table="Inbox", row_id=row["_id"], column="Files")
            assert proxy.faults[0].hits == 2 and cell["row_id"] == row["_id"]
            assert (await b.get_row("Inbox", row["_id"]))["Files"][0]["url"] == cell["url"]

            proxy.faults[:] = [Fault("cut_reply", method="GET", target_contains="/seafhttp/files/",
                                     cut_after=2 * MiB)]
            out = await b.download_file(cell["url"], tmp_path / "back.bin")
            assert sha256_of(out) == digest and proxy.faults[0].hits == 1
            proxy.faults.clear()

            def interrupt(done: int, total: int | None) -> None:
                if done >= 5 * MiB:
                    raise KeyboardInterrupt

            with pytest.raises(KeyboardInterrupt):
                await b.upload_local_file(local, name="again.bin", progress=interrupt)
        assert len(list(store.iterdir())) == 1

        proxy.requests.clear()
        async with atoll.AsyncBase(token, srv.url, resume_store=store) as again:
            seen: list[int] = []
            cell = await again.upload_local_file(local, name="again.bin",
                                                 progress=lambda d, t: seen.append(d))
            assert "POST" not in [m for m, target in proxy.requests if "/seafhttp/tus" in target]
            assert seen[0] >= MiB and cell["name"] == "again.bin"
        assert list(store.iterdir()) == []

    anyio.run(scenario)
