"""SDK calls the CLI needs that ``Base`` does not have yet (kept apart from ``sync.py``).

- ``delete_asset(base, path)``: ``DELETE /api/v2.1/dtable/app-asset/?path=`` with the API token,
  for a path relative to the base's asset folder (``files/2026-12/x.pdf``,
  ``custom/Main/x.pdf``). Idempotent on the wire (a repeat answers 404), so retried like a read.
- ``custom_asset_path(path)``: a custom-folder path (``/Main/x.pdf``) as that asset path.
"""

from __future__ import annotations

from typing import Any

from atoll.client import _requests as rq
from atoll.client._transport import DEFAULT, TimeoutArg
from atoll.client.sync import Base
from atoll.wire import endpoints as ep
from atoll.wire.links import CUSTOM_DIR


def custom_asset_path(path: str) -> str:
    """``/Main/x.pdf`` -> ``custom/Main/x.pdf`` (the asset path of a custom-folder file)."""
    return f"{CUSTOM_DIR.strip('/')}/{path.strip('/')}"


def delete_asset(base: Base, path: str, *, timeout: TimeoutArg = DEFAULT) -> Any:
    """Delete one asset of the base by its path; ``{"success": true}``."""
    spec = rq.RequestSpec("DELETE", base.server_url + ep.APP_ASSET, "api_token", [("path", path)])
    return base._run(base._web(spec, timeout))
