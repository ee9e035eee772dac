"""Planning-poker endpoints: a project's sessions, one session, its items, vote, reveal,
finalize, reset, finish."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from takt.core.concurrency import etag_for, is_not_modified, not_modified_response
from takt.core.deps import IfNoneMatchHeader, PageDep, SessionDep
from takt.core.openapi import problems
from takt.core.pagination import Page
from takt.estimation import service, views
from takt.estimation.deps import EstimationContextDep
from takt.estimation.schemas import (
    EstimationCreate,
    EstimationFilters,
    EstimationItemRead,
    EstimationRead,
    EstimationSummary,
    FinalizeWrite,
    SessionState,
    VoteWrite,
)
from takt.items.schemas import ItemKeyPath
from takt.projects.deps import ProjectAccessDep

router = APIRouter(tags=["estimation"])
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {304: {"description": "Not modified."}}


@router.get("/projects/{project_key}/estimations", responses=problems(400, 401, 404, 422))
async def list_estimations(
    access: ProjectAccessDep,
    session: SessionDep,
    page: PageDep,
    state: Annotated[
        SessionState | None, Query(description="Only open, or only finished, sessions.")
    ] = None,
) -> Page[EstimationSummary]:
    """The project's planning-poker sessions, the newest first."""
    lines, next_cursor = await service.list_sessions(
        session, access, filters=EstimationFilters(state=state), page=page
    )
    key = access.project.key
    return Page[EstimationSummary](
        data=[views.estimation_summary(line, key) for line in lines], next_cursor=next_cursor
    )


@router.post(
    "/projects/{project_key}/estimations",
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 422),
)
async def create_estimation(
    body: EstimationCreate, access: ProjectAccessDep, session: SessionDep, response: Response
) -> EstimationRead:
    """Start a planning-poker session over items of the project; you facilitate it and its
    first item is up."""
    ctx = await service.create_session(session, access, body)
    shown = await service.show_session(session, ctx)
    response.headers["Location"] = f"/api/v1/estimations/{ctx.estimation.id}"
    response.headers["ETag"] = etag_for(ctx.estimation.version)
    return views.estimation_read(shown)


@router.get("/estimations/{session_id}", responses={**problems(401, 404), **NOT_MODIFIED})
async def get_estimation(
    context: EstimationContextDep,
    session: SessionDep,
    response: Response,
    if_none_match: IfNoneMatchHeader = None,
) -> EstimationRead:
    """One session: its deck, participants, items, and the item up now with its rounds (who
    has voted; the cards once revealed, your own always)."""
    version = context.estimation.version
    if is_not_modified(if_none_match, version):
        return not_modified_response(version)  # type: ignore[return-value]
    shown = await service.show_session(session, context)
    response.headers["ETag"] = etag_for(version)
    return views.estimation_read(shown)


@router.post("/estimations/{session_id}/finish", responses=problems(401, 403, 404, 409))
async def finish_estimation(
    context: EstimationContextDep, session: SessionDep, response: Response
) -> EstimationRead:
    """End the session before every item is estimated (the facilitator or a project admin)."""
    shown = await service.finish(session, context)
    response.headers["ETag"] = etag_for(context.estimation.version)
    return views.estimation_read(shown)


@router.get(
    "/estimations/{session_id}/items/{item_key}",
    responses={**problems(401, 404), **NOT_MODIFIED},
)
async def get_estimation_item(
    context: EstimationContextDep,
    item_key: ItemKeyPath,
    session: SessionDep,
    response: Response,
    if_none_match: IfNoneMatchHeader = None,
) -> EstimationItemRead:
    """One item of the session with every round and, for revealed rounds, every card."""
    version = context.estimation.version
    if is_not_modified(if_none_match, version):
        return not_modified_response(version)  # type: ignore[return-value]
    shown = await service.show_item(session, context, item_key)
    response.headers["ETag"] = etag_for(version)
    return views.estimation_item_read(shown, context.access.principal.id)


@router.put(
    "/estimations/{session_id}/items/{item_key}/vote",
    responses=problems(401, 403, 404, 409, 422),
)
async def cast_estimation_vote(
    body: VoteWrite,
    context: EstimationContextDep,
    item_key: ItemKeyPath,
    session: SessionDep,
    response: Response,
) -> EstimationItemRead:
    """Play a card on the item up now, or change it (participants). Others see that you voted,
    not what, until the reveal."""
    shown = await service.cast_vote(session, context, item_key, body)
    response.headers["ETag"] = etag_for(context.estimation.version)
    return views.estimation_item_read(shown, context.access.principal.id)


@router.post(
    "/estimations/{session_id}/items/{item_key}/reveal",
    responses=problems(401, 403, 404, 409),
)
async def reveal_estimation_votes(
    context: EstimationContextDep, item_key: ItemKeyPath, session: SessionDep, response: Response
) -> EstimationItemRead:
    """Turn the round's cards over: every card, the spread, and the calibration (past cycle
    times per estimate). The facilitator or a project admin."""
    shown = await service.reveal(session, context, item_key)
    response.headers["ETag"] = etag_for(context.estimation.version)
    return views.estimation_item_read(shown, context.access.principal.id)


@router.post(
    "/estimations/{session_id}/items/{item_key}/finalize",
    responses=problems(401, 403, 404, 409, 422),
)
async def finalize_estimation_item(
    body: FinalizeWrite,
    context: EstimationContextDep,
    item_key: ItemKeyPath,
    session: SessionDep,
    response: Response,
) -> EstimationRead:
    """Set the item's estimate (written to the item, in its history) and move to the next item;
    after the last, the session is finished. The facilitator or a project admin."""
    shown = await service.finalize(session, context, item_key, body)
    response.headers["ETag"] = etag_for(context.estimation.version)
    return views.estimation_read(shown)


@router.post(
    "/estimations/{session_id}/items/{item_key}/reset",
    responses=problems(401, 403, 404, 409),
)
async def reset_estimation_round(
    context: EstimationContextDep, item_key: ItemKeyPath, session: SessionDep, response: Response
) -> EstimationItemRead:
    """Clear the votes for a re-vote: a new round opens; the old one keeps its votes (secret if
    it was never revealed). The facilitator or a project admin."""
    shown = await service.reset(session, context, item_key)
    response.headers["ETag"] = etag_for(context.estimation.version)
    return views.estimation_item_read(shown, context.access.principal.id)
