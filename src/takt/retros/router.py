"""Retrospective endpoints: a project's retros, one retro, its phases, cards, groups, votes and
action items."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from takt.auth.deps import CurrentPrincipal
from takt.core.concurrency import etag_for
from takt.core.deps import IfMatchHeader, PageDep, SessionDep
from takt.core.openapi import json_data_response, problems
from takt.core.pagination import Page
from takt.projects.deps import ProjectAccessDep
from takt.retros import actions, board, service, views, voting
from takt.retros.deps import CardIdPath, GroupIdPath, RetroContextDep, RetroIdPath, VoteIdPath
from takt.retros.schemas import (
    ActionCreate,
    ActionRead,
    AdvanceRequest,
    CardCreate,
    CardRead,
    CardUpdate,
    GroupCreate,
    GroupRead,
    GroupUpdate,
    RetroCreate,
    RetroFilters,
    RetroPhase,
    RetroRead,
    RetroSummary,
    VoteCreate,
    VoteRead,
)

router = APIRouter(tags=["retros"])


@router.get("/projects/{project_key}/retros", responses=problems(400, 401, 404, 422))
async def list_retros(
    access: ProjectAccessDep,
    session: SessionDep,
    page: PageDep,
    phase: Annotated[RetroPhase | None, Query(description="Only retros in this phase.")] = None,
    sprint_id: Annotated[
        str | None,
        Query(min_length=1, max_length=36, description="Only retros on this sprint."),
    ] = None,
) -> Page[RetroSummary]:
    """The project's retrospectives, newest first."""
    rows, next_cursor = await service.list_retros(
        session, access, filters=RetroFilters(phase=phase, sprint_id=sprint_id), page=page
    )
    key = access.project.key
    return Page[RetroSummary](
        data=[views.retro_summary(retro, facilitator, key) for retro, facilitator in rows],
        next_cursor=next_cursor,
    )


@router.post(
    "/projects/{project_key}/retros",
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 422),
)
async def create_retro(
    body: RetroCreate, access: ProjectAccessDep, session: SessionDep, response: Response
) -> RetroRead:
    """Start a retrospective (you facilitate it) from a template or your own prompts; on a
    sprint it opens with evidence cards from the sprint's data, and with the action items of
    the project's previous retro."""
    context = await service.create_retro(session, access, body)
    response.headers["Location"] = f"/api/v1/retros/{context.retro.id}"
    return views.retro_read(await service.get_retro(session, context))


@router.get("/retros/{retro_id}", responses=problems(401, 404))
async def get_retro(context: RetroContextDep, session: SessionDep) -> RetroRead:
    """One retrospective as you may see it: the cards (during `collect` only yours and the
    evidence), groups (vote totals once voting is over), your votes, the action items and the
    previous retro's action items with their status now. Authors only in a retro that is not
    anonymous."""
    return views.retro_read(await service.get_retro(session, context))


@router.post("/retros/{retro_id}/advance", responses=problems(401, 403, 404, 409, 412, 422))
async def advance_retro(
    context: RetroContextDep,
    session: SessionDep,
    body: AdvanceRequest | None = None,
    if_match: IfMatchHeader = None,
) -> RetroRead:
    """Move the retro to its next phase (its facilitator or a project admin):
    `collect → group → vote → discuss → closed`."""
    await service.advance(session, context, body or AdvanceRequest(), if_match=if_match)
    return views.retro_read(await service.get_retro(session, context))


@router.post(
    "/retros/{retro_id}/cards",
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 422),
)
async def add_card(
    body: CardCreate, context: RetroContextDep, session: SessionDep, response: Response
) -> CardRead:
    """Add a card under one of the retro's prompts (during `collect`)."""
    row = await board.add_card(session, context, body)
    response.headers["ETag"] = etag_for(row.card.version)
    return views.card_read(row, context.retro, context.viewer_id)


@router.patch(
    "/retros/{retro_id}/cards/{card_id}", responses=problems(401, 403, 404, 409, 412, 422)
)
async def update_card(
    card_id: CardIdPath,
    body: CardUpdate,
    context: RetroContextDep,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> CardRead:
    """Change your card's text or prompt (during `collect` and `group`)."""
    row = await board.update_card(session, context, card_id, body, if_match=if_match)
    response.headers["ETag"] = etag_for(row.card.version)
    return views.card_read(row, context.retro, context.viewer_id)


@router.delete(
    "/retros/{retro_id}/cards/{card_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 409, 412),
)
async def remove_card(
    card_id: CardIdPath,
    context: RetroContextDep,
    session: SessionDep,
    if_match: IfMatchHeader = None,
) -> None:
    """Remove your card (during `collect` and `group`)."""
    await board.remove_card(session, context, card_id, if_match=if_match)


@router.post(
    "/retros/{retro_id}/groups",
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 422),
)
async def create_group(
    body: GroupCreate, context: RetroContextDep, session: SessionDep, response: Response
) -> GroupRead:
    """Put cards together under a title (during `group`)."""
    view = await board.create_group(session, context, body)
    response.headers["ETag"] = etag_for(view.group.version)
    return views.group_read(view)


@router.patch(
    "/retros/{retro_id}/groups/{group_id}", responses=problems(401, 403, 404, 409, 412, 422)
)
async def update_group(
    group_id: GroupIdPath,
    body: GroupUpdate,
    context: RetroContextDep,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> GroupRead:
    """Rename a group, or set its cards (during `group`)."""
    view = await board.update_group(session, context, group_id, body, if_match=if_match)
    response.headers["ETag"] = etag_for(view.group.version)
    return views.group_read(view)


@router.delete(
    "/retros/{retro_id}/groups/{group_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 409, 412),
)
async def remove_group(
    group_id: GroupIdPath,
    context: RetroContextDep,
    session: SessionDep,
    if_match: IfMatchHeader = None,
) -> None:
    """Remove a group; its cards are outside any group again (during `group`)."""
    await board.remove_group(session, context, group_id, if_match=if_match)


@router.post(
    "/retros/{retro_id}/votes",
    status_code=status.HTTP_201_CREATED,
    response_model=VoteRead,
    responses=problems(401, 403, 404, 409, 422),
)
async def cast_vote(
    retro_id: RetroIdPath, body: VoteCreate, principal: CurrentPrincipal, session: SessionDep
) -> Response:
    """Vote for a group (during `vote`), within your budget and the per-group maximum. Nobody
    else sees your votes; totals per group appear once voting is over."""
    # The retro's hot path: the retro loads in the service, with the voter's lock, rather than
    # through `RetroContextDep`, and the answer is plain data (see `repository.VOTER_TARGET`).
    cast = await voting.cast_vote_at(session, principal, retro_id, body)
    return json_data_response(views.vote_data(cast), status_code=status.HTTP_201_CREATED)


@router.delete(
    "/retros/{retro_id}/votes/{vote_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 409),
)
async def remove_vote(vote_id: VoteIdPath, context: RetroContextDep, session: SessionDep) -> None:
    """Take one of your votes back (during `vote`)."""
    await voting.remove_vote(session, context, vote_id)


@router.post(
    "/retros/{retro_id}/actions",
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 422),
)
async def create_action(
    body: ActionCreate, context: RetroContextDep, session: SessionDep, response: Response
) -> ActionRead:
    """Turn an action item into a work item (type task, assigned to its owner, linked to the
    retro) during `discuss`; the project's next retro opens with it and its status."""
    row = await actions.create_action(session, context, body)
    response.headers["Location"] = f"/api/v1/items/{row.item.key}"
    return views.action_read(row)
