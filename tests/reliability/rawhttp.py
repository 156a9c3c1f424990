"""Raw-socket HTTP for connection-limit tests: paced heads and bodies, answers read by hand."""

from __future__ import annotations

import http.client
import select
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from tests.live_server import LiveServer

BOUNDARY = "atoll-raw-boundary"


def connect(server: LiveServer, timeout: float = 30) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    return sock


def read_answer(sock: socket.socket) -> http.client.HTTPResponse:
    """The next response on ``sock`` (status, headers, body read)."""
    resp = http.client.HTTPResponse(sock)
    resp.begin()
    resp.read()
    return resp


def answer_or_none(sock: socket.socket) -> int | None:
    """The status the server sent before closing, or None if it only closed (or reset)."""
    try:
        return read_answer(sock).status
    except (OSError, http.client.HTTPException):
        return None


def closed_within(sock: socket.socket, timeout: float) -> bool:
    """True once the server closes ``sock`` (EOF or reset) within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], 0.2)
        if ready:
            try:
                if not sock.recv(65536):
                    return True
            except OSError:
                return True
    return False


def send_until_refused(sock: socket.socket, data: bytes, piece: int = 64 * 1024) -> int:
    """Send ``data``; stop when the server closes. Returns the bytes it took."""
    sent = 0
    try:
        while sent < len(data):
            sent += sock.send(data[sent:sent + piece])
    except OSError:
        pass
    return sent


@dataclass
class UploadRequest:
    """A multipart upload to a fresh link, split so the file bytes can be paced."""

    head: bytes  # request head and the multipart fields up to the file's bytes
    tail: bytes  # the closing boundary

    @classmethod
    def make(cls, server: LiveServer, token: str, name: str, size: int, folder: str) -> UploadRequest:
        link = httpx.get(server.url + "/api/v2.1/dtable/app-upload-link/",
                         headers={"Authorization": f"Token {token}"}, timeout=30).json()
        url = urlsplit(link["upload_link"])
        fields = "".join(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in (("parent_dir", link["parent_path"]), ("relative_path", folder))
        )
        part = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n")
        tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        body_head = (fields + part).encode()
        length = len(body_head) + size + len(tail)
        head = (f"POST {url.path}?ret-json=1 HTTP/1.1\r\nHost: {url.netloc}\r\n"
                f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
                f"Content-Length: {length}\r\n\r\n").encode()
        return cls(head=head + body_head, tail=tail)


def paced_send(sock: socket.socket, data: bytes, *, rate: float, piece: int) -> float:
    """Send ``data`` at ``rate`` bytes/s in ``piece``-byte steps; return the seconds it took."""
    start = time.monotonic()
    for offset in range(0, len(data), piece):
        due = start + offset / rate
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        sock.sendall(data[offset:offset + piece])
    return time.monotonic() - start


def vm_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")
