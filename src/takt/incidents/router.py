"""Incident endpoints: a project's incidents, one incident, opening, changing and resolving."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from takt.core.concurrency import (
    representation_etag,
    representation_response,
    resolve_if_match,
)
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
from takt.incidents.service import IncidentContext, ShownIncident
from takt.projects.deps import ProjectAccessDep

router = APIRouter(tags=["incidents"])


def _body(shown: ShownIncident, project_key: str) -> bytes:
    return views.incident_read(shown, project_key).model_dump_json().encode()


def _answer(
    shown: ShownIncident,
    project_key: str,
    *,
    if_none_match: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """The incident tagged by its body: it shows its environment's name and its opener's, which
    change without the incident's version (`concurrency.representation_etag`)."""
    return representation_response(
        _body(shown, project_key),
        shown.incident.version,
        if_none_match=if_none_match,
        status_code=status_code,
        headers=headers,
    )


def _if_match(if_match: str | None, context: IncidentContext) -> str | None:
    """`If-Match` as the version the write checks: the incident's current ETag (built from what
    the context read, no statement) stands for its version."""
    version = context.incident.version
    key = context.access.project.key
    return resolve_if_match(
        if_match,
        version,
        lambda: representation_etag(version, _body(service.show_incident(context), key)),
    )


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
    response_model=IncidentRead,
    responses=problems(401, 403, 404, 422),
)
async def create_incident(
    body: IncidentCreate, access: ProjectAccessDep, session: SessionDep
) -> Response:
    """Open an incident in an environment; linking the deployment that caused it marks that
    deployment failed."""
    shown = await service.create_incident(session, access, body)
    return _answer(
        shown,
        access.project.key,
        status_code=status.HTTP_201_CREATED,
        headers={"Location": f"/api/v1/incidents/{shown.incident.id}"},
    )


@router.get(
    "/incidents/{incident_id}",
    response_model=IncidentRead,
    responses={**problems(401, 404), 304: {"description": "Not modified."}},
)
async def get_incident(
    context: IncidentContextDep, if_none_match: IfNoneMatchHeader = None
) -> Response:
    """One incident."""
    return _answer(
        service.show_incident(context), context.access.project.key, if_none_match=if_none_match
    )


@router.patch(
    "/incidents/{incident_id}",
    response_model=IncidentRead,
    responses=problems(401, 403, 404, 412, 422),
)
async def update_incident(
    body: IncidentUpdate,
    context: IncidentContextDep,
    session: SessionDep,
    if_match: IfMatchHeader = None,
) -> Response:
    """Change, resolve (`state: resolved`) or reopen an incident, or relink its deployments;
    resolving restores the deployment it caused once no other incident of it is open."""
    shown = await service.update_incident(
        session, context, body, if_match=_if_match(if_match, context)
    )
    return _answer(shown, context.access.project.key)
