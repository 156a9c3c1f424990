"""Engine.IO 3 long-polling (seatable-api 2.x) spoken by hand: handshake, ping, join-room with
a good and a wrong token, events of the joined base only, bad requests refused."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from atoll.server.live_eio3 import MAX_POST_BYTES, decode_payload, encode_payload
from tests.live_server import LiveServer
from tests.live_updates._live import SETTLE_S, WITHIN_S, LiveBase


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("eio3") / "data") as live:
        yield live


class Eio3Client:
    def __init__(self, server: LiveServer) -> None:
        self.url = server.url + "/socket.io/"
        r = httpx.get(self.url, params={"EIO": "3", "transport": "polling"})
        assert r.status_code == 200, r.text
        packets = decode_payload(r.content)
        assert packets[0][0] == "0" and packets[1] == "40"  # open, then socket.io connect
        self.handshake = json.loads(packets[0][1:])
        self.params = {"EIO": "3", "transport": "polling", "sid": self.handshake["sid"]}

    def post(self, *packets: str) -> httpx.Response:
        return httpx.post(self.url, params=self.params, content=encode_payload(list(packets)))

    def get(self) -> list[str]:
        r = httpx.get(self.url, params=self.params, timeout=40)
        assert r.status_code == 200, r.text
        return decode_payload(r.content)

    def join(self, *args: object) -> dict[str, object]:
        assert self.post("421" + json.dumps(["join-room", *args])).status_code == 200
        [ack] = self.get()
        assert ack.startswith("431")
        result: dict[str, object] = json.loads(ack[3:])[0]
        return result


def test_payload_framing_round_trips() -> None:
    packets = ["0{}", "42[\"é\"]", "x" * 300]
    assert decode_payload(encode_payload(packets)) == packets
    assert decode_payload(b"2:40" + "3:42é".encode()) == ["40", "42é"]  # text framing too


def test_handshake_ping_and_events_of_the_joined_base_only(server: LiveServer) -> None:
    base, other = LiveBase.make(server, "Eio3"), LiveBase.make(server, "Eio3 other")
    client = Eio3Client(server)
    assert client.handshake["upgrades"] == [] and client.handshake["pingInterval"] > 0
    client.post("2probe")
    assert client.get() == ["3probe"]
    assert client.join(base.dtable_uuid, other.access_token)["success"] is False
    assert client.join(base.dtable_uuid, "forged")["success"] is False
    assert client.join(base.dtable_uuid, base.access_token) == {"success": True}
    time.sleep(SETTLE_S)
    other.send("POST", "rows/", {"table_name": "T", "rows": [{"Name": "not yours"}]})
    t = time.time()
    base.send("POST", "rows/", {"table_name": "T", "rows": [{"Name": "yours"}]})
    packets = client.get()
    assert time.time() - t < WITHIN_S
    events = [json.loads(p[2:]) for p in packets if p.startswith("42")]
    ops = [json.loads(data) for name, data, _ in events if name == "update-dtable"]
    assert [op["rows_data"][0]["0000"] for op in ops if op["op_type"] == "append_rows"] == ["yours"]
    client.post("1")  # close
    r = httpx.get(client.url, params=client.params)
    assert r.status_code == 400


def test_bad_requests_are_refused(server: LiveServer) -> None:
    url = server.url + "/socket.io/"
    assert httpx.get(url, params={"EIO": "3", "transport": "websocket"}).status_code == 400
    assert httpx.get(url, params={"EIO": "3", "transport": "polling", "sid": "nope"}).status_code == 400
    client = Eio3Client(server)
    assert httpx.post(url, params=client.params, content=b"\x00" * (MAX_POST_BYTES + 1)).status_code == 413
    assert client.post("42" + json.dumps({"not": "a list"})).status_code == 200  # ignored
    assert httpx.post(url, params=client.params, content=b"9:oops").status_code == 400
