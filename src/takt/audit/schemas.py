"""Audit log entries as the API returns them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditFilters(BaseModel):
    """What the list is narrowed to (its query parameters): one project's entries, by key, and
    one action."""

    model_config = ConfigDict(frozen=True)

    project: str | None = None
    action: str | None = None


class AuditEntryRead(BaseModel):
    id: str
    occurred_at: datetime
    action: str = Field(description="e.g. `login.failed`, `token.created`, `member.role_changed`.")
    actor_id: str | None = Field(description="Who did it (null when unknown).")
    actor_username: str | None = Field(description="The name used (for failed logins: as typed).")
    project_id: str | None
    target_type: str | None
    target_id: str | None
    client_address: str | None = Field(description="The client's IP address.")
    request_id: str | None = Field(description="Matches the request's `X-Request-ID` and logs.")
    details: dict[str, Any]
