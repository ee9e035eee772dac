"""Queries of the audit log."""

from __future__ import annotations

from sqlalchemy import Select, select

from takt.audit.models import AuditEntry


def entries(*, project_id: str | None, action: str | None) -> Select[AuditEntry]:
    stmt = select(AuditEntry)
    if project_id is not None:
        stmt = stmt.where(AuditEntry.project_id == project_id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return stmt
