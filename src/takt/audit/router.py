"""`GET /audit-log`: instance admins read everything, project admins their project."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from takt.audit import service
from takt.audit.schemas import AuditEntryRead, AuditFilters
from takt.audit.views import entry_read
from takt.auth.deps import CurrentPrincipal
from takt.core.deps import PageDep, SessionDep
from takt.core.openapi import problems
from takt.core.pagination import Page

router = APIRouter(tags=["audit"])


@router.get("/audit-log", responses=problems(400, 401, 403, 404))
async def list_audit_log(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: PageDep,
    project: Annotated[
        str | None,
        Query(
            max_length=10, description="A project key; required unless you're an instance admin."
        ),
    ] = None,
    action: Annotated[str | None, Query(max_length=64, description="Only this action.")] = None,
) -> Page[AuditEntryRead]:
    """Security-relevant actions, newest first. Without `project`: the whole log for instance
    admins; for an instance admin's project-limited token, the entries of its projects."""
    rows, next_cursor = await service.list_entries(
        session, principal, filters=AuditFilters(project=project, action=action), page=page
    )
    return Page[AuditEntryRead](data=[entry_read(e) for e in rows], next_cursor=next_cursor)
