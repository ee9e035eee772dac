"""Audit entries to the API's response shape."""

from __future__ import annotations

from takt.audit.schemas import AuditEntryRead
from takt.core.audit import AuditEntry


def entry_read(entry: AuditEntry) -> AuditEntryRead:
    return AuditEntryRead(
        id=entry.id,
        occurred_at=entry.occurred_at,
        action=entry.action,
        actor_id=entry.actor_id,
        actor_username=entry.actor_username,
        project_id=entry.project_id,
        target_type=entry.target_type,
        target_id=entry.target_id,
        client_address=entry.client_address,
        request_id=entry.request_id,
        details=entry.details,
    )
