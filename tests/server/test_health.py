"""/api/health (liveness, no I/O) and /api/ready (database and blob store, each with a timeout)."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import anyio
import pytest
from sqlalchemy import create_engine
from starlette.testclient import TestClient

from atoll.config import Settings
from atoll.errors import StorageUnavailable
from atoll.server.endpoints import health
from atoll.services.context import Context
from tests.conftest import MakeApp
from tests.live_server import free_port

PATHS = ["/api/health", "/api/health/"]
READY = ["/api/ready", "/api/ready/"]
CREDENTIAL = "hunter2-s3cr3t"


class Tripwire:
    """Stands in for the engine or the blob store and records every use."""

    def __init__(self) -> None:
        self.touched: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.touched.append(name)
        raise AssertionError(f"I/O object touched: {name}")


class CheckedStore:
    """The real local store plus a ``check()`` that does what the test says."""

    def __init__(self, inner: Any, check: Any) -> None:
        self._inner = inner
        self._check = check
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def check(self) -> None:
        self.calls += 1
        await self._check()


class ClientFor(Protocol):
    def __call__(self, **changes: Any) -> TestClient: ...


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    return Context.open(Settings(data_dir=tmp_path / "data"))


@pytest.fixture
def client_for(ctx: Context, make_app: MakeApp) -> ClientFor:
    """An unstarted client (``with`` starts it) on ``ctx`` with ``changes``: stand-ins for the
    engine or the store."""

    def make(**changes: Any) -> TestClient:
        context = dataclasses.replace(ctx, **changes)
        return make_app(context=context, raise_server_exceptions=False, started=False).client

    return make


@pytest.fixture
def tripwired(client_for: ClientFor) -> Iterator[tuple[TestClient, Tripwire, Tripwire]]:
    engine, blobs = Tripwire(), Tripwire()
    yield client_for(engine=engine, blobs=blobs), engine, blobs  # no lifespan: no start-up sweep


@pytest.mark.parametrize("path", PATHS)
def test_health_answers_without_touching_database_or_storage(
    tripwired: tuple[TestClient, Tripwire, Tripwire], path: str
) -> None:
    client, engine, blobs = tripwired
    resp = client.get(path)
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok"}
    assert resp.headers["cache-control"] == "no-store"
    head = client.head(path)
    assert head.status_code == 200 and head.content == b""
    assert engine.touched == [] and blobs.touched == []


def test_tripwire_would_catch_io(tripwired: tuple[TestClient, Tripwire, Tripwire]) -> None:
    """The same setup makes readiness fail, so the health test above can fail too."""
    client, engine, _blobs = tripwired
    resp = client.get("/api/ready")
    assert resp.status_code == 503
    assert engine.touched


@pytest.mark.parametrize("path", READY)
def test_ready_when_database_and_storage_answer(client_for: ClientFor, ctx: Context, path: str) -> None:
    async def fine() -> None:
        return None

    store = CheckedStore(ctx.blobs, fine)
    with client_for(blobs=store) as client:
        resp = client.get(path)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert {k: body[k] for k in ("status", "checks")} == {
            "status": "ready", "checks": {"database": "ok", "storage": "ok"}}
        assert body["space"]["status"] == "ok"
        assert body["space"]["min_free_bytes"] == ctx.settings.min_free_bytes
        assert body["space"]["free_bytes"] is None or body["space"]["free_bytes"] > 0
        assert resp.headers["cache-control"] == "no-store"
        assert client.head(path).status_code == 200
    assert store.calls == 2


def test_ready_without_a_check_method_counts_storage_as_ok(client_for: ClientFor) -> None:
    """Stores from before the check() contract (getattr guard)."""
    with client_for() as client:
        resp = client.get("/api/ready")
    assert resp.status_code == 200, resp.text


def test_ready_503_when_database_is_unreachable(client_for: ClientFor) -> None:
    url = f"postgresql+psycopg://atoll:{CREDENTIAL}@127.0.0.1:{free_port()}/atoll?connect_timeout=1"
    engine = create_engine(url, pool_pre_ping=True)
    client = client_for(engine=engine)
    resp = client.get("/api/ready")
    assert resp.status_code == 503
    body = resp.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["storage"] == "ok"
    assert body["checks"]["database"].startswith("failed: ")
    assert resp.headers["cache-control"] == "no-store"
    assert CREDENTIAL not in resp.text and "127.0.0.1" not in resp.text and "Traceback" not in resp.text
    assert client.get("/api/health").status_code == 200  # liveness does not care


def test_ready_503_when_database_was_disposed_and_raises(client_for: ClientFor) -> None:
    class Raising:
        def connect(self) -> Any:
            raise RuntimeError(f"connection to postgresql://u:{CREDENTIAL}@db failed")

    resp = client_for(engine=Raising()).get("/api/ready/")
    assert resp.status_code == 503
    assert resp.json()["checks"] == {"database": "failed: RuntimeError", "storage": "ok"}
    assert CREDENTIAL not in resp.text


def test_ready_503_when_storage_check_raises(client_for: ClientFor, ctx: Context) -> None:
    async def down() -> None:
        raise StorageUnavailable(f"s3://AKIA:{CREDENTIAL}@bucket unreachable")

    resp = client_for(blobs=CheckedStore(ctx.blobs, down)).get("/api/ready")
    assert resp.status_code == 503
    assert {k: v for k, v in resp.json().items() if k != "space"} == {
        "status": "unavailable",
        "checks": {"database": "ok", "storage": "failed: StorageUnavailable"},
    }
    assert CREDENTIAL not in resp.text


def test_ready_times_out_a_hanging_storage_check(
    client_for: ClientFor, ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "CHECK_TIMEOUT_S", 0.2)

    async def hang() -> None:
        await anyio.sleep(30)

    started = time.monotonic()
    resp = client_for(blobs=CheckedStore(ctx.blobs, hang)).get("/api/ready")
    assert time.monotonic() - started < 5
    assert resp.status_code == 503
    assert resp.json()["checks"] == {"database": "ok", "storage": "timed out after 0.2 s"}


def test_ready_times_out_a_hanging_database_without_waiting_for_it(
    client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The blocking query runs in an abandonable worker thread, so the timeout really fires."""
    monkeypatch.setattr(health, "CHECK_TIMEOUT_S", 0.2)
    release = threading.Event()
    entered: list[int] = []

    def hang(engine: object) -> None:
        entered.append(threading.get_ident())
        release.wait(20)

    monkeypatch.setattr(health, "ping_database", hang)
    client = client_for()
    try:
        started = time.monotonic()
        first = client.get("/api/ready")
        elapsed = time.monotonic() - started
        second = client.get("/api/ready")
        # Further probes start no thread while the hung ones hold every slot.
        third = client.get("/api/ready")
        assert len(entered) == health.DB_CHECK_THREADS
    finally:
        release.set()
    assert elapsed < 5
    for resp in (first, second):
        assert resp.status_code == 503
        assert resp.json()["checks"] == {"database": "timed out after 0.2 s", "storage": "ok"}
    assert third.status_code == 503
    assert third.json()["checks"]["database"] == health.STILL_RUNNING
    # Once the hung queries return, their slots are free again.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and client.get("/api/ready").status_code != 200:
        time.sleep(0.05)
    assert client.get("/api/ready").status_code == 200
