"""Who may read which part of the audit log, and its pages."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from takt.audit import repository as repo
from takt.audit.schemas import AuditFilters
from takt.auth.principal import Principal
from takt.core.audit import AuditEntry
from takt.core.pagination import PageRequest, SortKey
from takt.projects import repository as projects_repo
from takt.projects import service as projects


async def list_entries(
    session: AsyncSession, principal: Principal, *, filters: AuditFilters, page: PageRequest
) -> tuple[list[AuditEntry], str | None]:
    """One page of entries, newest first. A project's entries are for its admins; the whole
    log is for instance admins (with a project-limited token: the entries of its projects)."""
    project_id = None
    within = None
    if filters.project is not None:
        access = await projects.access(session, principal, filters.project, include_deleted=True)
        access.require_admin("Reading the audit log")
        project_id = access.project.id
    elif principal.is_limited and principal.user.is_admin and principal.has_scope("admin"):
        # Instance-wide, narrowed to the token's projects (it is their admin through them).
        within = projects_repo.visible_project_ids(principal, include_deleted=True)
    else:
        principal.require_instance_admin("Reading the whole audit log (or pass `project=KEY`)")
    return await page.fetch(
        session,
        repo.entries(project_id=project_id, action=filters.action, within_projects=within),
        keys=[SortKey(AuditEntry.occurred_at, descending=True), SortKey(AuditEntry.id, True)],
        key_of=lambda e: (e.occurred_at, e.id),
        sort_name="-occurred_at",
    )
