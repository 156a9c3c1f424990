"""The poller survives a PostgreSQL restart (``pg_ctl stop -m immediate``, then start): the
listener stays connected and gets the changes made once the database is back."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests import services
from tests.backends import server_env
from tests.live_server import LiveServer
from tests.live_updates._live import Listener, LiveBase

BACK_WITHIN_S = 10.0
#: After the database is back: the poller's retry wait, a poll, and the test's own slack.
DELIVERED_WITHIN_S = 3.0


def test_events_flow_again_after_a_postgres_restart(tmp_path: Path) -> None:
    pg = services.postgres()
    env = {**server_env(), "ATOLL_DB_URL": pg.new_url()}
    with LiveServer(tmp_path / "data", env=env) as server:
        base = LiveBase.make(server, "Restart")
        listener = Listener(server)
        try:
            assert listener.join(base.dtable_uuid, base.access_token)["success"]
            try:
                pg.stop("immediate")
                time.sleep(2.5)  # the poller fails a few times meanwhile
            finally:
                pg.pg_ctl("start")
            back = time.monotonic()
            while True:
                r = httpx.post(base.url("rows/"), json={"table_name": "T", "rows": [{"Name": "back"}]},
                               headers=base.headers, timeout=10)
                if r.status_code == 200:
                    break
                assert r.status_code == 503, r.text
                assert time.monotonic() - back < BACK_WITHIN_S
                time.sleep(0.1)
            done = time.time()
            _, op, _, at = listener.next(timeout=10)
            assert op["op_type"] == "append_rows" and op["rows_data"][0]["0000"] == "back"
            assert at - done < DELIVERED_WITHIN_S, at - done
        finally:
            listener.close()
            if not pg.started:
                pg.pg_ctl("start")
    assert "polling events failed" in server.log_path.read_text()
