"""Listen to a base's live updates with the official client: ``auth(with_socket_io=True)``.

Run: <client-venv>/bin/python live_listener.py <server_url> <api_token>
Prints one JSON line per event received (``{"event", "data", "index", "t"}``) until killed.
"""

from __future__ import annotations

import json
import sys
import time

from seatable_api import Base
from seatable_api.constants import NEW_NOTIFICATION, UPDATE_DTABLE

server_url, api_token = sys.argv[1], sys.argv[2]


def handler(name):
    def on_event(data, index, *args):
        line = {"event": name, "data": data, "index": index, "t": time.time()}
        print(json.dumps(line), flush=True)

    return on_event


base = Base(api_token, server_url)
base.auth(with_socket_io=True)
base.socketIO.on(UPDATE_DTABLE, handler(UPDATE_DTABLE))
base.socketIO.on(NEW_NOTIFICATION, handler(NEW_NOTIFICATION))
print(json.dumps({"listening": True, "transport": base.socketIO.sio.transport()}), flush=True)
base.socketIO.wait()
