"""Blocker endpoints: a project's blockers and suggestions, one blocker, resolve, promote."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from takt.blockers import service, views
from takt.blockers.deps import BlockerContextDep
from takt.blockers.repository import BlockerRow
from takt.blockers.schemas import (
    BlockerCreate,
    BlockerFilters,
    BlockerRead,
    BlockerResolve,
    BlockerState,
    BlockerSuggestion,
    BlockerUpdate,
    PromoteRequest,
    WaitingOnKind,
)
from takt.core.concurrency import etag_for, is_not_modified, not_modified_response
from takt.core.deps import IfMatchHeader, IfNoneMatchHeader, PageDep, SessionDep
from takt.core.openapi import problems
from takt.core.pagination import Page
from takt.projects.deps import ProjectAccessDep
from takt.projects.models import Project
from takt.risks import views as risk_views
from takt.risks.schemas import RiskRead

router = APIRouter(tags=["blockers"])


def _with_etag(response: Response, row: BlockerRow, project: Project) -> BlockerRead:
    response.headers["ETag"] = etag_for(row.blocker.version)
    return views.blocker_read(row, project)


@router.get("/projects/{project_key}/blockers", responses=problems(400, 401, 404, 422))
async def list_blockers(
    access: ProjectAccessDep,
    session: SessionDep,
    page: PageDep,
    state: Annotated[
        BlockerState | None, Query(description="Only open, or only resolved, blockers.")
    ] = None,
    item: Annotated[
        str | None,
        Query(
            min_length=3,
            max_length=24,
            description="Only the blockers of this item (key).",
            examples=["API-42"],
        ),
    ] = None,
    waiting_on: Annotated[
        WaitingOnKind | None, Query(description="Only blockers waiting on this kind of party.")
    ] = None,
    older_than_hours: Annotated[
        float | None,
        Query(
            ge=0,
            le=10000,
            description="Only blockers older than this many working hours (an open one's age "
            "now, a resolved one's from raised to resolved).",
            examples=[16],
        ),
    ] = None,
    raised_by: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            description="Only blockers this person (username or id) raised.",
        ),
    ] = None,
) -> Page[BlockerRead]:
    """The project's blockers on items outside the trash: open ones first, oldest first
    (with `state=resolved`: the latest resolved first), each with its age in working hours."""
    filters = BlockerFilters(
        state=state,
        item=item,
        waiting_on=waiting_on,
        older_than_hours=older_than_hours,
        raised_by=raised_by,
    )
    rows, next_cursor = await service.list_blockers(session, access, filters=filters, page=page)
    return Page[BlockerRead](
        data=views.blocker_reads(rows, access.project), next_cursor=next_cursor
    )


@router.post(
    "/projects/{project_key}/blockers",
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 422),
)
async def raise_blocker(
    body: BlockerCreate, access: ProjectAccessDep, session: SessionDep, response: Response
) -> BlockerRead:
    """Raise a blocker on an item of the project; the item is flagged `blocked`."""
    row = await service.raise_blocker(session, access, body)
    response.headers["Location"] = f"/api/v1/blockers/{row.blocker.id}"
    return _with_etag(response, row, access.project)


@router.get("/projects/{project_key}/blockers/suggestions", responses=problems(400, 401, 404, 422))
async def list_suggested_blockers(
    access: ProjectAccessDep, session: SessionDep, page: PageDep
) -> Page[BlockerSuggestion]:
    """Blockers to consider: unfinished items linked `blocked_by` an unfinished item, with no
    open blocker waiting on it. Nothing is raised until you raise it."""
    rows, next_cursor = await service.suggestions(session, access, page=page)
    return Page[BlockerSuggestion](
        data=[views.suggestion_read(*row) for row in rows], next_cursor=next_cursor
    )


@router.get(
    "/blockers/{blocker_id}",
    responses={**problems(401, 404), 304: {"description": "Not modified."}},
)
async def get_blocker(
    context: BlockerContextDep, response: Response, if_none_match: IfNoneMatchHeader = None
) -> BlockerRead:
    """One blocker, with its age in working hours of the project's calendar."""
    if is_not_modified(if_none_match, context.blocker.version):
        return not_modified_response(context.blocker.version)  # type: ignore[return-value]
    return _with_etag(response, context.row, context.access.project)


@router.patch("/blockers/{blocker_id}", responses=problems(401, 403, 404, 409, 412, 422))
async def update_blocker(
    body: BlockerUpdate,
    context: BlockerContextDep,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> BlockerRead:
    """Change an open blocker's reason or whom or what it waits on."""
    row = await service.update_blocker(session, context, body, if_match=if_match)
    return _with_etag(response, row, context.access.project)


@router.post("/blockers/{blocker_id}/resolve", responses=problems(401, 403, 404, 409, 412, 422))
async def resolve_blocker(
    context: BlockerContextDep,
    session: SessionDep,
    response: Response,
    body: BlockerResolve | None = None,
    if_match: IfMatchHeader = None,
) -> BlockerRead:
    """Resolve an open blocker; the item's `blocked` flag clears with its last open one."""
    row = await service.resolve_blocker(session, context, body, if_match=if_match)
    return _with_etag(response, row, context.access.project)


@router.post(
    "/blockers/{blocker_id}/promote",
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 422),
)
async def promote_blocker(
    context: BlockerContextDep,
    session: SessionDep,
    response: Response,
    body: PromoteRequest | None = None,
) -> RiskRead:
    """Promote an open blocker to a risk of the register, rated from its age and the sprint
    points it holds up (both can be given); the two name each other."""
    shown = await service.promote_blocker(session, context, body or PromoteRequest())
    response.headers["Location"] = f"/api/v1/risks/{shown.risk.id}"
    response.headers["ETag"] = etag_for(shown.risk.version)
    return risk_views.risk_read(shown, context.access.project)
