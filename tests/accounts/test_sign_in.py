"""Sign-in: no user enumeration (same body, comparable time) and the rate limit, counted in
the database so that a second app on the same database enforces it too."""

from __future__ import annotations

import statistics
import time

from sqlalchemy import func, select
from starlette.testclient import TestClient

from atoll.db import schema
from atoll.services import accounts
from tests.accounts.conftest import AUTH_TOKEN, PASSWORD, sign_in
from tests.conftest import MakeApp

LOGIN_FAILED = {"non_field_errors": ["Unable to login with provided credentials."]}
#: Tries per case for the timing comparison, and how far apart the medians may be.
TIMING_TRIES = 5
TIMING_RATIO = 3.0  # without the dummy hash an unknown user answers ~100x faster


def _post(client: TestClient, username: str, password: str) -> tuple[int, object, float]:
    start = time.perf_counter()
    resp = client.post(AUTH_TOKEN, data={"username": username, "password": password})
    return resp.status_code, resp.json(), time.perf_counter() - start


def test_failures_look_the_same_whoever_asks(make_app: MakeApp) -> None:
    app = make_app(login_max_failures_per_account=0, login_max_failures_per_address=0)
    alice = accounts.create_user(app.ctx.engine, "alice@example.com", PASSWORD)
    accounts.create_user(app.ctx.engine, "off@example.com", PASSWORD)
    accounts.set_active(app.ctx.engine, "off@example.com", False)
    client = app.client
    cases = {
        "wrong password": (alice.email, "wrong password!"),
        "unknown user": ("nobody@example.com", PASSWORD),
        "disabled user": ("off@example.com", PASSWORD),
        "no password": (alice.email, ""),
        "no username": ("", PASSWORD),
    }
    for username, password in cases.values():
        status, body, _ = _post(client, username, password)
        assert (status, body) == (400, LOGIN_FAILED)
    _post(client, "warm@example.com", "x")  # the dummy hash is made on first use
    medians = {}
    for name in ("wrong password", "unknown user"):
        medians[name] = statistics.median(_post(client, *cases[name])[2] for _ in range(TIMING_TRIES))
    slow, fast = max(medians.values()), min(medians.values())
    assert slow / fast < TIMING_RATIO, medians


def test_the_account_limit_engages_and_holds_across_apps(make_app: MakeApp) -> None:
    first = make_app(login_max_failures_per_account=3, login_max_failures_per_address=100)
    alice = accounts.create_user(first.ctx.engine, "alice@example.com", PASSWORD)
    for _ in range(3):
        assert _post(first.client, alice.email, "wrong password!")[0] == 400
    status, body, _ = _post(first.client, alice.email, PASSWORD)  # even the right password
    assert status == 429 and isinstance(body, dict) and "throttled" in body["detail"]
    resp = first.client.post(AUTH_TOKEN, data={"username": alice.email, "password": PASSWORD})
    assert 0 < int(resp.headers["retry-after"]) <= first.ctx.settings.login_window_s
    # a second process on the same database sees the same count
    second = make_app(settings=first.ctx.settings)
    assert second.ctx.engine is not first.ctx.engine
    assert _post(second.client, alice.email, PASSWORD)[0] == 429
    # another account from the same address is not held back by alice's limit
    accounts.create_user(first.ctx.engine, "bob@example.com", PASSWORD)
    sign_in(second.client, "bob@example.com")


def test_unknown_accounts_are_limited_alike(make_app: MakeApp) -> None:
    app = make_app(login_max_failures_per_account=2, login_max_failures_per_address=100)
    for _ in range(2):
        assert _post(app.client, "ghost@example.com", PASSWORD)[0] == 400
    assert _post(app.client, "ghost@example.com", PASSWORD)[0] == 429


def test_the_address_limit_engages(make_app: MakeApp) -> None:
    app = make_app(login_max_failures_per_account=100, login_max_failures_per_address=3)
    accounts.create_user(app.ctx.engine, "alice@example.com", PASSWORD)
    for n in range(3):
        assert _post(app.client, f"guess{n}@example.com", PASSWORD)[0] == 400
    assert _post(app.client, "alice@example.com", PASSWORD)[0] == 429


def test_a_success_clears_the_account_count_and_old_failures_age_out(make_app: MakeApp) -> None:
    window = 4  # seconds: longer than three hashes on a busy machine
    app = make_app(login_max_failures_per_account=3, login_max_failures_per_address=100,
                   login_window_s=window)
    accounts.create_user(app.ctx.engine, "alice@example.com", PASSWORD)
    for _ in range(3):
        _post(app.client, "alice@example.com", "wrong password!")
    assert _post(app.client, "alice@example.com", PASSWORD)[0] == 429
    time.sleep(window + 0.2)  # the window passes
    sign_in(app.client, "alice@example.com")
    with app.ctx.engine.connect() as conn:
        t = schema.login_attempts
        left = conn.execute(select(func.count()).where(t.c.key == "account:alice@example.com")).scalar()
    assert left == 0


def test_failures_older_than_the_window_are_pruned(make_app: MakeApp) -> None:
    app = make_app(login_max_failures_per_account=100, login_max_failures_per_address=100,
                   login_window_s=1)
    for n in range(3):
        _post(app.client, f"guess{n}@example.com", PASSWORD)
    time.sleep(1.2)
    _post(app.client, "late@example.com", PASSWORD)
    with app.ctx.engine.connect() as conn:
        keys = set(conn.execute(select(schema.login_attempts.c.key)).scalars())
    assert keys == {"account:late@example.com", "address:testclient"}
