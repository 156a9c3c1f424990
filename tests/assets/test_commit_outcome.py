"""An upload whose metadata commit fails with the database (503) may still have committed: the
connection can drop after the server made the commit durable. Its blobs are then kept, never
deleted: a file visible without its bytes would be lost data, an orphan blob is only space that
``gc`` reclaims after its grace. (Seen under ``pg_ctl stop -m immediate`` in tests/live.)"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import anyio
import pytest

from atoll.errors import DatabaseUnavailable
from atoll.services import fsck as fsck_service
from atoll.services import maintenance
from tests.assets.conftest import Env

CONTENT = b"bytes that must not be lost " * 100


def _failing_commit(env: Env, monkeypatch: pytest.MonkeyPatch, *, landed: bool) -> None:
    """Make the next commit raise DatabaseUnavailable, after committing for real if ``landed``."""
    real = env.ctx.commit

    async def commit(job: Callable[[Any], Any], *, quick: bool = False) -> Any:
        if landed:
            await real(job, quick=quick)
        raise DatabaseUnavailable("The metadata database is unavailable; try again shortly.")

    monkeypatch.setattr(env.ctx, "commit", commit)


def test_a_commit_that_landed_keeps_its_blob(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    _failing_commit(env, monkeypatch, landed=True)
    r = env.upload("landed.bin", CONTENT)
    assert r.status_code == 503, r.text  # type: ignore[attr-defined]
    monkeypatch.undo()
    link = env.download_link("files/2026-11/landed.bin")
    assert link.status_code == 200  # type: ignore[attr-defined]
    assert env.client.get(link.json()["download_link"]).content == CONTENT  # type: ignore[attr-defined]
    report = anyio.run(fsck_service.fsck, env.ctx)
    assert report.ok and report.assets == 1 and report.orphans == [], report


def test_a_commit_that_did_not_land_leaves_an_orphan_gc_reaps(env: Env,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    _failing_commit(env, monkeypatch, landed=False)
    r = env.upload("lost.bin", CONTENT)
    assert r.status_code == 503, r.text  # type: ignore[attr-defined]
    assert "database" in r.text  # type: ignore[attr-defined]
    monkeypatch.undo()
    (blobs, unfinished), assets, _ = env.state()
    assert assets == 0 and len(blobs) == 1 and unfinished == frozenset()
    reaped = anyio.run(partial(maintenance.gc, env.ctx, grace_s=0))
    assert reaped == sorted(blobs)
    assert env.state()[0] == (frozenset(), frozenset())
