"""What ``GET /`` says: the server, its version, where the docs are and how to connect.

Built from ``settings.public_url`` only (never the request's Host header), so a proxy or a
forged header cannot change the URLs shown. ``server/pages.py`` renders the same dict as HTML.
"""

from __future__ import annotations

from atoll.wire.shapes import FrontDoor

DESCRIPTION = (
    "atoll is a self-hostable server that speaks SeaTable's wire protocol for bases, rows, files "
    "and images. The unmodified official seatable-api Python client works against it, and so "
    "does atoll's own SDK (atoll.Base)."
)
TOKEN_COMMAND = "atoll token create --base MyBase"


def front_door_json(public_url: str, version: str) -> FrontDoor:
    url = public_url.rstrip("/")
    return {
        "name": "atoll",
        "description": DESCRIPTION,
        "version": version,
        "public_url": url,
        "docs": f"{url}/docs",
        "openapi": f"{url}/openapi.json",
        "health": f"{url}/api/health",
        "ready": f"{url}/api/ready",
        "connect": {
            "get_a_token": TOKEN_COMMAND,
            "official_client": (
                "from seatable_api import Base\n\n"
                f'base = Base(api_token, "{url}")\n'
                "base.auth()\n"
                'rows = base.list_rows("Table1")'
            ),
            "atoll_sdk": (
                "import atoll\n\n"
                f'with atoll.Base(api_token, "{url}") as base:\n'
                '    info = base.upload_local_file("a.png", file_type="image")'
            ),
        },
    }
