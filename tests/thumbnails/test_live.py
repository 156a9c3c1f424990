"""Against real ``atoll serve`` processes: the SDK's ``get_thumbnail``, ``atoll thumbnail``, and
two processes sharing one cache."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import func, select

from atoll.cli import main
from atoll.client import Base, NotFoundError
from atoll.db import schema
from atoll.db.engine import make_engine
from tests.client.cli_env import isolate
from tests.live_server import LiveServer, two_processes
from tests.thumbnails import images


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("thumbs") / "data") as srv:
        yield srv


@pytest.fixture(scope="module")
def token(server: LiveServer) -> str:
    return server.create_token("Thumbs")


def _size(source: Path | io.BytesIO) -> tuple[int, int]:
    with Image.open(source) as im:
        return im.size


def _upload(base: Base, name: str, content: bytes) -> str:
    cell = base.upload_bytes_file(name, content, file_type="image")
    return str(cell["url"])


def test_sdk_get_thumbnail(server: LiveServer, token: str, tmp_path: Path) -> None:
    with Base(token, server.url) as base:
        url = _upload(base, "photo.jpg", images.exif_rotated_jpeg((800, 400)))
        written = base.get_thumbnail(url, tmp_path / "t.jpg", size=128)
        assert written == tmp_path / "t.jpg"
        assert _size(written) == (64, 128)  # EXIF rotation applied
        path = url.split(str(base.dtable_uuid))[-1].strip("/")
        into = base.get_thumbnail(path, str(tmp_path) + "/", size=64)
        assert into == tmp_path / "thumb64-photo.jpg" and _size(into) == (32, 64)
        buf = io.BytesIO()
        base.get_thumbnail(url, buf)
        assert _size(io.BytesIO(buf.getvalue())) == (128, 256)
        with pytest.raises(NotFoundError):
            base.get_thumbnail("images/none.jpg", tmp_path / "x.jpg")
        assert not (tmp_path / "x.jpg").exists()


def test_cli_thumbnail(server: LiveServer, token: str, tmp_path: Path) -> None:
    with Base(token, server.url) as base:
        url = _upload(base, "doc.pdf", images.pdf_bytes((600, 800)))
        _upload(base, "notes.txt.png", b"plain text, not a png")
    env = {"ATOLL_SERVER": server.url, "ATOLL_TOKEN": token}
    out = tmp_path / "doc.jpg"
    r = CliRunner(env=env).invoke(main, ["thumbnail", url, "--size", "128", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == {"path": str(out), "size": out.stat().st_size}
    assert _size(out) == (96, 128)
    r = CliRunner(env=env).invoke(main, ["thumbnail", "images/" + url.split("/images/")[1].rsplit("/", 1)[0]
                                         + "/notes.txt.png", "-o", str(tmp_path)])
    assert r.exit_code != 0
    assert "Not an image" in r.output
    r = CliRunner(env=env).invoke(main, ["thumbnail", url, "--size", "77", "-o", str(tmp_path)])
    assert r.exit_code != 0 and "size must be one of" in r.output


def test_two_processes_share_the_cache(tmp_path: Path) -> None:
    with two_processes(tmp_path / "data") as (first, second):
        token = first.create_token("Shared")
        with Base(token, first.url) as base:
            url = _upload(base, "p.png", images.image_bytes("PNG", (900, 600)))
        path = url.split("/workspace/", 1)[1]
        thumb = "/thumbnail/workspace/" + path + "?size=256"
        auth = {"Authorization": f"Token {token}"}
        a = httpx.get(first.url + thumb, headers=auth)
        assert a.status_code == 200
        b = httpx.get(second.url + thumb, headers=auth)
        assert b.status_code == 200 and b.content == a.content and b.headers["etag"] == a.headers["etag"]
        assert httpx.get(second.url + thumb, headers={**auth, "If-None-Match": a.headers["etag"]}
                         ).status_code == 304
        engine = make_engine(first.settings.db_url)
        try:
            with engine.connect() as conn:
                assert conn.execute(select(func.count()).select_from(schema.thumbnails)).scalar_one() == 1
        finally:
            engine.dispose()
