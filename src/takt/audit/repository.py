"""Queries of the audit log."""

from __future__ import annotations

from sqlalchemy import Select, select

from takt.core.audit import AuditEntry


def entries(
    *,
    project_id: str | None,
    action: str | None,
    within_projects: Select[str] | None = None,
) -> Select[AuditEntry]:
    """Entries, optionally of one project or of the projects `within_projects` selects (the ids
    a project-limited token reaches; entries of no project are then left out)."""
    stmt = select(AuditEntry)
    if project_id is not None:
        stmt = stmt.where(AuditEntry.project_id == project_id)
    if within_projects is not None:
        stmt = stmt.where(AuditEntry.project_id.in_(within_projects))
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return stmt
