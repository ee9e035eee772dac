"""Clock helpers: every timestamp Takt stores is timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def isoformat_z(value: datetime) -> str:
    """RFC 3339 with a `Z`, as the API contract wants."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
