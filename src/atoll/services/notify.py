"""Toasts for the people looking at a base (``send_toast_notification``).

``send_toast`` validates a toast and hands it to ``publish_toast``, which sends it to the base's
socket.io listeners on every server process as ``new-notification`` (docs/live-updates.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from atoll.errors import InvalidInput
from atoll.models import Principal
from atoll.services import events
from atoll.services.context import Context
from atoll.wire.misc import TOAST_TYPES

#: Longest ``to_user`` (an email or a user id).
MAX_TOAST_USER_CHARS = 255
#: Longest toast message.
MAX_TOAST_MSG_CHARS = 10_000


@dataclass(frozen=True)
class Toast:
    to_user: str
    toast_type: str
    msg: str
    from_app: str


async def publish_toast(ctx: Context, dtable_uuid: str, toast: Toast) -> None:
    """Deliver ``toast`` to the live listeners of base ``dtable_uuid`` (every process)."""
    await events.publish_toast(ctx, dtable_uuid, toast)


def parse_toast(principal: Principal, args: dict[str, Any]) -> Toast:
    """``{to_user, toast_type, detail: {msg}}`` -> a Toast; 400 naming the bad field."""
    to_user = args.get("to_user")
    if not isinstance(to_user, str) or not to_user.strip():
        raise InvalidInput("to_user invalid: expected the user to notify.")
    if len(to_user) > MAX_TOAST_USER_CHARS:
        raise InvalidInput(f"to_user is longer than {MAX_TOAST_USER_CHARS} characters.")
    toast_type = args.get("toast_type", "success")
    if toast_type not in TOAST_TYPES:
        raise InvalidInput(f"toast_type invalid: expected one of {', '.join(TOAST_TYPES)}.")
    detail = args.get("detail")
    if not isinstance(detail, dict) or not isinstance(detail.get("msg"), str):
        raise InvalidInput("detail invalid: expected {\"msg\": <text>}.")
    msg: str = detail["msg"]
    if len(msg) > MAX_TOAST_MSG_CHARS:
        raise InvalidInput(f"detail.msg is longer than {MAX_TOAST_MSG_CHARS} characters.")
    return Toast(to_user=to_user, toast_type=str(toast_type), msg=msg, from_app=principal.app_name)


async def send_toast(ctx: Context, principal: Principal, args: dict[str, Any]) -> Toast:
    """Validate and publish a toast. Read-only tokens may send toasts (nothing is written)."""
    toast = parse_toast(principal, args)
    await publish_toast(ctx, principal.dtable.uuid, toast)
    return toast
