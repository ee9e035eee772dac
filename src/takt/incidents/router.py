"""Incident endpoints: a project's incidents, one incident, opening, changing and resolving."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from takt.core.concurrency import etag_for, is_not_modified, not_modified_response
from takt.core.deps import IfMatchHeader, IfNoneMatchHeader, PageDep, SessionDep
from takt.core.openapi import problems
from takt.core.pagination import Page
from takt.incidents import service, views
from takt.incidents.deps import IncidentContextDep
from takt.incidents.schemas import (
    IncidentCreate,
    IncidentFilters,
    IncidentRead,
    IncidentSeverity,
    IncidentState,
    IncidentUpdate,
)
from takt.incidents.service import ShownIncident
from takt.projects.deps import ProjectAccessDep

router = APIRouter(tags=["incidents"])


def _with_etag(response: Response, shown: ShownIncident, project_key: str) -> IncidentRead:
    response.headers["ETag"] = etag_for(shown.incident.version)
    return views.incident_read(shown, project_key)


@router.get("/projects/{project_key}/incidents", responses=problems(400, 401, 404, 422))
async def list_incidents(
    access: ProjectAccessDep,
    session: SessionDep,
    page: PageDep,
    state: Annotated[
        IncidentState | None, Query(description="Only incidents in this state.")
    ] = None,
    severity: Annotated[
        IncidentSeverity | None, Query(description="Only incidents of this severity.")
    ] = None,
    environment: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            description="Only incidents in this environment (a name, any case, or an id).",
            examples=["production"],
        ),
    ] = None,
    deployment_id: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=36,
            description="Only incidents this deployment caused or fixed.",
        ),
    ] = None,
) -> Page[IncidentRead]:
    """The project's incidents, the most recently opened first."""
    filters = IncidentFilters(
        state=state, severity=severity, environment=environment, deployment_id=deployment_id
    )
    rows, next_cursor = await service.list_incidents(session, access, filters=filters, page=page)
    key = access.project.key
    return Page[IncidentRead](
        data=[views.incident_read(shown, key) for shown in rows], next_cursor=next_cursor
    )


@router.post(
    "/projects/{project_key}/incidents",
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 422),
)
async def create_incident(
    body: IncidentCreate, access: ProjectAccessDep, session: SessionDep, response: Response
) -> IncidentRead:
    """Open an incident in an environment; linking the deployment that caused it marks that
    deployment failed."""
    shown = await service.create_incident(session, access, body)
    response.headers["Location"] = f"/api/v1/incidents/{shown.incident.id}"
    return _with_etag(response, shown, access.project.key)


@router.get(
    "/incidents/{incident_id}",
    responses={**problems(401, 404), 304: {"description": "Not modified."}},
)
async def get_incident(
    context: IncidentContextDep, response: Response, if_none_match: IfNoneMatchHeader = None
) -> IncidentRead:
    """One incident."""
    if is_not_modified(if_none_match, context.incident.version):
        return not_modified_response(context.incident.version)  # type: ignore[return-value]
    return _with_etag(response, service.show_incident(context), context.access.project.key)


@router.patch("/incidents/{incident_id}", responses=problems(401, 403, 404, 412, 422))
async def update_incident(
    body: IncidentUpdate,
    context: IncidentContextDep,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> IncidentRead:
    """Change, resolve (`state: resolved`) or reopen an incident, or relink its deployments;
    resolving restores the deployment it caused once no other incident of it is open."""
    shown = await service.update_incident(session, context, body, if_match=if_match)
    return _with_etag(response, shown, context.access.project.key)
