"""Shared helpers for the scenario scripts (run by a client venv's python, not by pytest).

A scenario is a plain script, written the way a user would write it against the official
client::

    from seatable_api import Base
    base = Base(api_token, server_url)
    base.auth()

It runs a batch of named checks and prints **one JSON object** on the last stdout line:
``{"<check>": <value>, ...}``. A check that raised gives
``{"__error__": true, "type": ..., "message": ..., "status": ..., "traceback": ...}``, so one
broken endpoint does not hide the results of the others.

Inputs: ``argv[1]`` server_url, ``argv[2]`` api_token (or ``SEATABLE_SERVER_URL`` /
``SEATABLE_API_TOKEN``), ``COMPAT_WORKDIR`` (scratch dir), ``COMPAT_CLIENT`` (``seatable-api``
by default; ``atoll`` runs the same script through our SDK ``atoll.Base``).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import sys
import tempfile
import traceback
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

SERVER_URL = sys.argv[1] if len(sys.argv) > 1 else os.environ["SEATABLE_SERVER_URL"]
API_TOKEN = sys.argv[2] if len(sys.argv) > 2 else os.environ["SEATABLE_API_TOKEN"]
WORKDIR = Path(os.environ.get("COMPAT_WORKDIR") or tempfile.mkdtemp(prefix="compat-"))
WORKDIR.mkdir(parents=True, exist_ok=True)
IMPL = os.environ.get("COMPAT_CLIENT", "seatable-api")
#: What the client computes for system uploads (2.6.11 computes it itself; 4.0.0 gets it from
#: the server, which uses the same formula).
MONTH = str(datetime.today())[:7]


def load_base_class() -> tuple[Any, str]:
    """(Base class, client version). Our SDK claims the behaviour of seatable-api 4.0.0."""
    if IMPL == "atoll":
        from atoll import Base  # type: ignore[import-not-found]

        return Base, "atoll"
    import importlib.metadata

    from seatable_api import Base  # type: ignore[import-not-found]

    return Base, importlib.metadata.version("seatable-api")


def is_legacy(version: str) -> bool:
    """True for clients that know nothing of the api-gateway (2.6.x)."""
    return version.startswith("2.")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str | Path) -> str:
    return sha256(Path(path).read_bytes())


def content_for(name: str, size: int = 0) -> bytes:
    """Deterministic, name-dependent bytes (not valid text on purpose: includes NUL and 0xff)."""
    seed = hashlib.sha256(name.encode()).digest()
    body = (b"compat:" + name.encode() + b"\x00\xff\r\n" + seed) * 4
    if size:
        body = (body * (size // len(body) + 1))[:size]
    return body


def png_bytes(width: int = 1, height: int = 1, rgb: tuple[int, int, int] = (255, 0, 0)) -> bytes:
    """A valid PNG image, built by hand (no Pillow in the client venv)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def write_local(name: str, data: bytes) -> str:
    """Write ``data`` to a fresh local file named ``name``; return its path."""
    folder = Path(tempfile.mkdtemp(dir=WORKDIR, prefix="local-"))
    path = folder / name
    path.write_bytes(data)
    return str(path)


def error_info(exc: BaseException) -> dict[str, Any]:
    args = getattr(exc, "args", ())
    status = args[0] if args and isinstance(args[0], int) else None
    if status is None:  # httpx-style or our SDK's errors
        status = getattr(exc, "status_code", None) or getattr(
            getattr(exc, "response", None), "status_code", None
        )
    return {
        "__error__": True,
        "type": type(exc).__name__,
        "mro": [c.__name__ for c in type(exc).__mro__],
        "message": str(exc)[:2000],
        "status": status,
        "traceback": traceback.format_exc()[-6000:],
    }


class Checks:
    def __init__(self) -> None:
        self.results: dict[str, Any] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[dict[str, Any]]:
        """``with ck('name') as r: r['x'] = ...`` -- records ``r``, or the error it raised."""
        record: dict[str, Any] = {}
        self.results[name] = record
        try:
            yield record
        except Exception as exc:  # every failure is reported, not raised
            err = error_info(exc)
            err["partial"] = dict(record)
            self.results[name] = err

    def expect_error(self, fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Call ``fn``; describe the exception it raised, or what it returned if it did not."""
        try:
            value = fn(*args, **kwargs)
        except Exception as exc:
            info = error_info(exc)
            info.pop("__error__")
            info["raised"] = True
            return info
        return {"raised": False, "returned": value}

    def ok(self, name: str) -> bool:
        value = self.results.get(name)
        return not (isinstance(value, dict) and value.get("__error__"))

    def emit(self) -> None:
        sys.stdout.flush()
        print()
        print(json.dumps(self.results, default=repr, ensure_ascii=True))
        sys.stdout.flush()


def auth(ck: Checks, Base: Any, token: str = API_TOKEN, name: str = "auth") -> Any:
    """Authenticate as the seed does; record what the auth response gave the client."""
    base = Base(token, SERVER_URL)
    with ck(name) as r:
        base.auth()
        r["workspace_id"] = base.workspace_id
        r["dtable_uuid"] = base.dtable_uuid
        r["dtable_name"] = getattr(base, "dtable_name", None)
        r["use_api_gateway"] = getattr(base, "use_api_gateway", None)
        r["dtable_server_url"] = getattr(base, "dtable_server_url", None)
        r["dtable_db_url"] = getattr(base, "dtable_db_url", None)
    if not ck.ok(name):
        ck.emit()
        sys.exit(0)
    return base


def asset_path(base: Any, url: str) -> str:
    """The part of an asset URL after the dtable uuid, unquoted (what download_file sends)."""
    from urllib.parse import unquote
    from uuid import UUID

    return unquote(url.split(str(UUID(base.dtable_uuid)))[-1].strip("/"))


def http_get(url: str) -> tuple[int, bytes, dict[str, str]]:
    import requests

    resp = requests.get(url, timeout=30)
    return resp.status_code, resp.content, dict(resp.headers)


def begin() -> tuple[Any, str, Checks]:
    """The prelude of every scenario: the client's Base class, its version, and the results."""
    base_class, version = load_base_class()
    ck = Checks()
    ck.results["client"] = {"version": version, "server_url": SERVER_URL, "month": MONTH}
    return base_class, version, ck
