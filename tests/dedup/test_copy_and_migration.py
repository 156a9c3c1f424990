"""copy_base adds references instead of copying bytes; schema step 9 builds the blob rows of an
existing installation (grouping files that already share content)."""

from __future__ import annotations

from pathlib import Path

import anyio
from sqlalchemy import delete, insert, select

from atoll.db import schema
from atoll.db.engine import make_engine
from atoll.db.migrations import LATEST, migrate
from atoll.db.users import User
from atoll.services import fsck as fsck_service
from atoll.services import trash
from tests.accounts.test_copy_base import (
    PDF,
    PNG,
    Base,
    alice,
    app,
    build_source,
    copy,
    token,
)
from tests.backends import make_settings
from tests.conftest import App

__all__ = ["alice", "app", "token"]


def _rows(app: App) -> dict[str, int]:
    with app.ctx.engine.connect() as conn:
        return dict(conn.execute(select(schema.blobs.c.sha256, schema.blobs.c.refs)).all())


def _stored(app: App) -> set[str]:
    async def listing() -> set[str]:
        return {s.key async for s in app.ctx.blobs.list()}

    return anyio.run(listing)


def test_copy_base_adds_references_not_bytes(app: App, alice: User, token: str) -> None:
    personal = alice.personal_workspace_id
    assert personal is not None
    src = build_source(app, token, personal)
    before_rows, before_bytes = _rows(app), _stored(app)
    assert sorted(before_rows.values()) == [1, 1, 1]
    assert copy(app.client, token, personal, "Src", personal).status_code == 200
    assert copy(app.client, token, personal, "Src", personal).status_code == 200
    assert _rows(app) == {sha: 3 for sha in before_rows}  # three holders of each blob
    assert _stored(app) == before_bytes  # no byte copied
    report = anyio.run(lambda: fsck_service.fsck(app.ctx, verify_hashes=True))
    assert report.ok and report.assets == 9 and report.blobs == 3
    # deleting the source's files leaves the copies' bytes
    for path in ("/files/2026-11/report.pdf", "/images/2026-11/face.png"):
        resp = app.client.delete("/api/v2.1/dtable/app-asset/", params={"path": path}, headers=src.auth())
        assert resp.status_code == 200
    assert sorted(_rows(app).values()) == [3, 3, 3]  # in the trash: still held
    report = anyio.run(lambda: fsck_service.fsck(app.ctx, verify_hashes=True))
    assert report.ok, report  # the trash's references count
    # the source's rows no longer use them: the trash's purge drops one reference each
    ids = [r["_id"] for r in src.rows("People")]
    src.api.ok("DELETE", "/rows/", family="gw", json={"table_name": "People", "row_ids": ids})
    assert len(anyio.run(lambda: trash.purge(app.ctx, retention_s=0)).purged) == 2
    assert sorted(_rows(app).values()) == [2, 2, 3]
    dst = Base(app.client, token, personal, "Src (1)")
    ann = dst.rows("People")[0]
    assert dst.bytes_at(ann["Doc"][0]["url"]) == PDF and dst.bytes_at(ann["Pic"][0]) == PNG


def test_step_9_backfills_and_groups_existing_duplicates(tmp_path: Path) -> None:
    engine = make_engine(make_settings(tmp_path).db_url)  # the active backend's database
    try:
        migrate(engine)
        a = schema.assets
        with engine.begin() as conn:
            conn.execute(insert(schema.workspaces).values(id=1, name="W"))
            conn.execute(insert(schema.dtables).values(uuid=_UUID, workspace_id=1, name="B", created_at="t"))
            for n, (key, sha) in enumerate([("b" * 32, "1" * 64), ("a" * 32, "1" * 64), ("c" * 32, "2" * 64),
                                            ("c" * 32, "2" * 64)]):
                conn.execute(insert(a).values(dtable_uuid=_UUID, dir_path="/f", name=f"n{n}", blob_key=key,
                                              size=10, sha256=sha, mtime="t", uuid=f"u{n}"))
            conn.execute(delete(schema.blobs))
            conn.execute(delete(schema.schema_version).where(schema.schema_version.c.version >= 9))
        assert migrate(engine)[1] == LATEST
        with engine.connect() as conn:
            blobs = conn.execute(select(schema.blobs.c.key, schema.blobs.c.sha256, schema.blobs.c.refs)
                                 .order_by(schema.blobs.c.key)).all()
            keys = dict(conn.execute(select(a.c.name, a.c.blob_key)).all())
        assert [tuple(r) for r in blobs] == [("a" * 32, "1" * 64, 2), ("c" * 32, "2" * 64, 2)]
        assert keys == {"n0": "a" * 32, "n1": "a" * 32, "n2": "c" * 32, "n3": "c" * 32}
    finally:
        engine.dispose()


_UUID = "00000000-0000-4000-8000-000000000001"

