"""Notifications to a base's live listeners (``ui-toasts``): the hook the toast endpoint calls."""

from __future__ import annotations

from typing import Any

from atoll.services import events
from atoll.services.context import Context


async def publish_toast(ctx: Context, dtable_uuid: str, toast: Any) -> None:
    """Send a toast (``{to_user, toast_type, detail}``, or a ``Toast`` with ``to_user``,
    ``toast_type``, ``msg``) to the base's socket.io listeners on every server process, as
    ``new-notification`` (docs/live-updates.md)."""
    await events.publish_toast(ctx, dtable_uuid, toast)
