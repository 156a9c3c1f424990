"""Time helpers shared by every layer (pure functions, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso_ms(when: datetime) -> str:
    """SeaTable's system-time form: UTC, milliseconds, ``+00:00``."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


def year_month(when: datetime | None = None) -> str:
    """``YYYY-MM`` of the server's local date, as SeaTable names upload folders."""
    return (when or datetime.now()).strftime("%Y-%m")
