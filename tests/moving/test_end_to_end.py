"""A deployment moved the documented way: SQLite + folder -> PostgreSQL + S3 -> SQLite + folder,
with files uploaded through the app, and the same tokens and links working after each move."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from click.testing import CliRunner
from starlette.testclient import TestClient

from atoll.cli import main
from atoll.config import Settings
from atoll.db.group import JOB_RETRIES
from atoll.services.access import create_api_token
from atoll.services.context import Context
from tests.conftest import MakeApp
from tests.services import moto, postgres

PUBLIC_URL = "http://testserver"
#: More files than the upload path's commit retries, so an id sequence left behind (new ids colliding
#: with copied ones) fails the upload after the move instead of being retried past.
FILES = {
    "a.txt": b"hello", "empty.bin": b"", "big.bin": os.urandom(3 * 1024 * 1024 + 7),
    **{f"small{i}.txt": f"small file {i}".encode() for i in range(JOB_RETRIES + 2)},
}


@contextmanager
def server(make_app: MakeApp, settings: Settings) -> Iterator[tuple[TestClient, Context]]:
    """The app on ``settings``, stopped when the block ends (before the next move)."""
    with make_app(settings=settings, base_url=PUBLIC_URL) as app:
        yield app.client, app.ctx


def upload(client: TestClient, token: str, name: str, data: bytes) -> None:
    link = client.get("/api/v2.1/dtable/app-upload-link/", headers={"Authorization": f"Token {token}"})
    body = link.json()
    r = client.post(body["upload_link"] + "?ret-json=1", files={"file": (name, data)},
                    data={"parent_dir": body["parent_path"], "relative_path": "files/2026-11"})
    assert r.status_code == 200, r.text


def download_link(client: TestClient, token: str, name: str) -> str:
    r = client.get("/api/v2.1/dtable/app-download-link/", params={"path": f"files/2026-11/{name}"},
                   headers={"Authorization": f"Token {token}"})
    assert r.status_code == 200, r.text
    return str(r.json()["download_link"])


def fetch(client: TestClient, token: str, name: str) -> bytes:
    r = client.get(download_link(client, token, name))
    assert r.status_code == 200
    return r.content


def move(settings: Settings, db_to: str, storage_to: str, env: dict[str, str]) -> None:
    base = ["--data-dir", str(settings.data_dir), "--db-url", settings.db_url, "--storage", settings.storage]
    for argv in (["db", "migrate", *base, "--to", db_to, "--verify"],
                 ["storage", "migrate", *base, "--to", storage_to, "--verify"]):
        out = CliRunner().invoke(main, argv, env=env)
        assert out.exit_code == 0, out.output


def test_move_to_postgres_s3_and_back(tmp_path: Path, make_app: MakeApp) -> None:
    env = moto().env
    local = Settings.load(environ={}, data_dir=tmp_path / "one", public_url=PUBLIC_URL)
    with server(make_app, local) as (client, ctx):
        token = create_api_token(ctx.engine, base="Projects").token
        for name, data in FILES.items():
            upload(client, token, name, data)
        old_link = download_link(client, token, "a.txt")

    scaled = Settings.load(environ=env, data_dir=tmp_path / "unused", public_url=PUBLIC_URL,
                           db_url=postgres().new_url(), storage=moto().new_storage_url())
    move(local, scaled.db_url, scaled.storage, env)
    with server(make_app, scaled) as (client, _):
        for name, data in FILES.items():
            assert fetch(client, token, name) == data
        assert client.get(old_link).content == b"hello"  # the signing secret moved too
        upload(client, token, "new.txt", b"written on PostgreSQL + S3")  # fresh ids: sequences reset
        assert fetch(client, token, "new.txt") == b"written on PostgreSQL + S3"

    back = Settings.load(environ={}, data_dir=tmp_path / "two", public_url=PUBLIC_URL)
    move(scaled, back.db_url, back.storage, env)
    with server(make_app, back) as (client, _):
        for name, data in {**FILES, "new.txt": b"written on PostgreSQL + S3"}.items():
            assert fetch(client, token, name) == data
        upload(client, token, "b.txt", b"back home")
        assert fetch(client, token, "b.txt") == b"back home"
