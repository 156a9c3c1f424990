"""Notifications to a base's live listeners (``ui-toasts``): the hook the toast endpoint calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from atoll.services import events
from atoll.services.context import Context


async def publish_toast(ctx: Context, dtable_uuid: str, toast: Mapping[str, Any]) -> None:
    """Send ``{to_user, toast_type, detail}`` to the base's socket.io listeners, on every server
    process, as ``new-notification`` (docs/live-updates.md)."""
    await events.publish_toast(ctx, dtable_uuid, toast)
