"""Sprint endpoints: lifecycle, scope, capacity, burndown, report, velocity and forecasts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from takt.core.concurrency import etag_for, is_not_modified, not_modified_response
from takt.core.deps import DatabaseDep, IfMatchHeader, IfNoneMatchHeader, PageDep, SessionDep
from takt.core.openapi import json_data_response, problems
from takt.core.pagination import Page
from takt.projects.deps import ProjectAccessDep
from takt.sprints import reports, service, views
from takt.sprints.deps import SprintContextDep
from takt.sprints.models import Sprint
from takt.sprints.schemas import (
    Burndown,
    Capacity,
    CapacityUpdate,
    CompleteRequest,
    ForecastRequest,
    ProjectForecast,
    ScopeAdd,
    SprintCreate,
    SprintFilters,
    SprintForecast,
    SprintRead,
    SprintReport,
    SprintReview,
    SprintState,
    SprintUpdate,
    Velocity,
)

router = APIRouter(tags=["sprints"])


async def _with_etag(response: Response, sprint: Sprint, project_key: str) -> SprintRead:
    response.headers["ETag"] = etag_for(sprint.version)
    return await views.sprint_read(sprint, project_key)


@router.get("/projects/{project_key}/sprints", responses=problems(400, 401, 404, 422))
async def list_sprints(
    access: ProjectAccessDep,
    session: SessionDep,
    page: PageDep,
    state: Annotated[SprintState | None, Query(description="Only sprints in this state.")] = None,
) -> Page[SprintRead]:
    """The project's sprints, by start date."""
    rows, next_cursor = await service.list_sprints(
        session, access, filters=SprintFilters(state=state), page=page
    )
    key = access.project.key
    return Page[SprintRead](
        data=[await views.sprint_read(s, key) for s in rows], next_cursor=next_cursor
    )


@router.post(
    "/projects/{project_key}/sprints",
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 422),
)
async def create_sprint(
    body: SprintCreate, access: ProjectAccessDep, session: SessionDep, response: Response
) -> SprintRead:
    """Plan a sprint (dates default from the project's sprint length)."""
    sprint = await service.create_sprint(session, access, body)
    response.headers["Location"] = f"/api/v1/sprints/{sprint.id}"
    return await _with_etag(response, sprint, access.project.key)


@router.get(
    "/sprints/{sprint_id}", responses={**problems(401, 404), 304: {"description": "Not modified."}}
)
async def get_sprint(
    context: SprintContextDep, response: Response, if_none_match: IfNoneMatchHeader = None
) -> SprintRead:
    """One sprint, with its commitment (after start) and report (after completion)."""
    if is_not_modified(if_none_match, context.sprint.version):
        return not_modified_response(context.sprint.version)  # type: ignore[return-value]
    return await _with_etag(response, context.sprint, context.access.project.key)


@router.patch("/sprints/{sprint_id}", responses=problems(401, 403, 404, 409, 412, 422))
async def update_sprint(
    body: SprintUpdate,
    context: SprintContextDep,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> SprintRead:
    """Rename, re-goal or re-date a sprint that is not completed."""
    sprint = await service.update_sprint(session, context, body, if_match=if_match)
    return await _with_etag(response, sprint, context.access.project.key)


@router.delete(
    "/sprints/{sprint_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 409, 412),
)
async def delete_sprint(
    context: SprintContextDep, session: SessionDep, if_match: IfMatchHeader = None
) -> Response:
    """Delete a planned or cancelled sprint; its items go back to the backlog."""
    await service.delete_sprint(session, context, if_match=if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/sprints/{sprint_id}/items", responses=problems(401, 403, 404, 409, 422))
async def add_sprint_items(
    body: ScopeAdd, context: SprintContextDep, session: SessionDep, response: Response
) -> SprintRead:
    """Add items to the sprint (after the start this is recorded as scope change)."""
    sprint = await service.add_items(session, context, body.item_keys)
    return await _with_etag(response, sprint, context.access.project.key)


@router.delete(
    "/sprints/{sprint_id}/items/{item_key}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 409),
)
async def remove_sprint_item(
    item_key: str, context: SprintContextDep, session: SessionDep
) -> Response:
    """Take an item out of the sprint."""
    await service.remove_item(session, context, item_key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/sprints/{sprint_id}/start", responses=problems(401, 403, 404, 409))
async def start_sprint(
    context: SprintContextDep, session: SessionDep, response: Response
) -> SprintRead:
    """Start the sprint and freeze its commitment (items and estimates now)."""
    sprint = await service.start_sprint(session, context)
    return await _with_etag(response, sprint, context.access.project.key)


@router.post("/sprints/{sprint_id}/complete", responses=problems(401, 403, 404, 409, 422))
async def complete_sprint(
    body: CompleteRequest, context: SprintContextDep, session: SessionDep, response: Response
) -> SprintRead:
    """Complete the sprint: freeze its report and carry unfinished items over."""
    sprint = await service.complete_sprint(session, context, body)
    return await _with_etag(response, sprint, context.access.project.key)


@router.post("/sprints/{sprint_id}/cancel", responses=problems(401, 403, 404, 409))
async def cancel_sprint(
    context: SprintContextDep, session: SessionDep, response: Response
) -> SprintRead:
    """Cancel a planned or active sprint; unfinished items go back to the backlog."""
    sprint = await service.cancel_sprint(session, context)
    return await _with_etag(response, sprint, context.access.project.key)


@router.get("/sprints/{sprint_id}/capacity", responses=problems(401, 404))
async def get_capacity(context: SprintContextDep, session: SessionDep) -> Capacity:
    """Team availability in person-days, and a points capacity from recent velocity."""
    return await reports.capacity(session, context.access.project, context.sprint)


@router.put("/sprints/{sprint_id}/capacity/{user_id}", responses=problems(401, 403, 404, 409, 422))
async def set_capacity(
    user_id: Annotated[
        str,
        Path(
            min_length=1,
            max_length=64,
            description="The member's user id or username.",
            examples=["leo"],
        ),
    ],
    body: CapacityUpdate,
    context: SprintContextDep,
    session: SessionDep,
) -> Capacity:
    """Set a member's allocation and days off for this sprint (the member by id or username)."""
    await service.set_capacity(session, context, user_id, body)
    return await reports.capacity(session, context.access.project, context.sprint)


@router.get("/sprints/{sprint_id}/burndown", response_model=Burndown, responses=problems(401, 404))
async def get_burndown(
    context: SprintContextDep, session: SessionDep, database: DatabaseDep
) -> Response:
    """Remaining, completed and scope per working day (burndown and burnup), from the event
    log, with scope changes on the day they happened."""
    return json_data_response(
        await reports.burndown(session, context.access.project, context.sprint, keep=database)
    )


@router.get("/sprints/{sprint_id}/report", responses=problems(401, 404, 409))
async def get_report(context: SprintContextDep) -> SprintReport:
    """The frozen report of a completed sprint."""
    return views.report_read(service.report_of(context))


@router.get("/sprints/{sprint_id}/review", responses=problems(401, 404))
async def get_sprint_review(context: SprintContextDep, session: SessionDep) -> SprintReview:
    """The sprint's done items for its review, each "in production" (a successful deployment
    to an environment of type production shipped it) or "done, not yet in production"."""
    rows = await reports.review_rows(session, context.sprint)
    return views.review_read(context.sprint, rows)


@router.get("/sprints/{sprint_id}/forecast", responses=problems(401, 404, 409, 422))
async def get_sprint_forecast(
    context: SprintContextDep,
    session: SessionDep,
    window: Annotated[
        int, Query(ge=10, le=500, description="Working days of throughput history to use.")
    ] = 60,
) -> SprintForecast:
    """Chance that the sprint's remaining items finish by its end (Monte Carlo over daily
    throughput; seeded, so the same data gives the same answer)."""
    return await reports.sprint_forecast(
        session, context.access.project, context.sprint, window=window
    )


@router.get("/projects/{project_key}/velocity", responses=problems(401, 404, 422))
async def get_velocity(
    access: ProjectAccessDep,
    session: SessionDep,
    sprints: Annotated[int, Query(ge=1, le=50, description="How many completed sprints.")] = 6,
) -> Velocity:
    """Completed points of the last completed sprints, their mean and spread, beside commitment."""
    return await reports.velocity(session, access.project, sprints)


@router.post("/projects/{project_key}/forecast", responses=problems(401, 404, 409, 422))
async def forecast_items(
    body: ForecastRequest, access: ProjectAccessDep, session: SessionDep
) -> ProjectForecast:
    """When will N items (or these items) be done? Dates at 50, 85 and 95 % confidence."""
    return await reports.project_forecast(
        session,
        access.project,
        item_count=body.item_count,
        item_keys=body.item_keys,
        window=body.window,
    )
