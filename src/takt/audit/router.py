"""`GET /audit-log`: instance admins read everything, project admins their project."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from takt.audit import repository as repo
from takt.audit.schemas import AuditEntryRead
from takt.auth.deps import CurrentPrincipal
from takt.core.audit import AuditEntry
from takt.core.deps import CodecDep, CursorQuery, LimitQuery, SessionDep
from takt.core.openapi import problems
from takt.core.pagination import Page, SortKey, paginate
from takt.projects import repository as projects_repo
from takt.projects import service as projects

router = APIRouter(tags=["audit"])


@router.get("/audit-log", responses=problems(400, 401, 403, 404))
async def list_audit_log(
    principal: CurrentPrincipal,
    session: SessionDep,
    codec: CodecDep,
    project: Annotated[
        str | None,
        Query(
            max_length=10, description="A project key; required unless you're an instance admin."
        ),
    ] = None,
    action: Annotated[str | None, Query(max_length=64, description="Only this action.")] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[AuditEntryRead]:
    """Security-relevant actions, newest first. Without `project`: the whole log for instance
    admins; for an instance admin's project-limited token, the entries of its projects."""
    project_id = None
    within = None
    if project is not None:
        access = await projects.access(session, principal, project, include_deleted=True)
        access.require_admin("Reading the audit log")
        project_id = access.project.id
    elif principal.is_limited and principal.user.is_admin and principal.has_scope("admin"):
        # Instance-wide, narrowed to the token's projects (it is their admin through them).
        within = projects_repo.visible_project_ids(principal, include_deleted=True)
    else:
        principal.require_instance_admin("Reading the whole audit log (or pass `project=KEY`)")
    rows, next_cursor = await paginate(
        session,
        repo.entries(project_id=project_id, action=action, within_projects=within),
        keys=[SortKey(AuditEntry.occurred_at, descending=True), SortKey(AuditEntry.id, True)],
        key_of=lambda e: (e.occurred_at, e.id),
        codec=codec,
        sort_name="-occurred_at",
        limit=limit,
        cursor=cursor,
    )
    return Page[AuditEntryRead](
        data=[AuditEntryRead.model_validate(e, from_attributes=True) for e in rows],
        next_cursor=next_cursor,
    )
