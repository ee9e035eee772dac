"""Blocker endpoints: a project's blockers and suggestions, one blocker, resolve, promote."""

from __future__ import annotations

import re
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
from takt.blockers.service import BlockerContext
from takt.core.concurrency import (
    may_name_a_representation,
    names_current,
    representation_etag,
    representation_response,
    resolve_if_match,
)
from takt.core.deps import IfMatchHeader, IfNoneMatchHeader, PageDep, SessionDep
from takt.core.openapi import problems
from takt.core.pagination import Page
from takt.projects.deps import ProjectAccessDep
from takt.projects.models import Project
from takt.risks import views as risk_views
from takt.risks.schemas import RiskRead

router = APIRouter(tags=["blockers"])

# A blocker's tag: `"v<version>-<digest of the body but its age>-<age_working_hours>"`.
_AGED_TAG = re.compile(r'("v[0-9]+-[0-9a-f]{16})-[0-9.]+"')


def _unaged_etag(read: BlockerRead) -> str:
    """The tag of the body without its age (`concurrency.representation_etag`): it shows
    people's names and items' keys, which change without the blocker's version."""
    unaged = read.model_dump_json(exclude={"age_working_hours"}).encode()
    return representation_etag(read.version, unaged)


def _etag(read: BlockerRead) -> str:
    """The tag of the whole body: the tag of all but its age, then the age, which an open
    blocker's body changes as working time passes (every 0.01 h, 36 s)."""
    return f'{_unaged_etag(read)[:-1]}-{read.age_working_hours}"'


def _answer(
    row: BlockerRow,
    project: Project,
    *,
    if_none_match: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """The blocker tagged by its body (no statement: the body is built anyway), or 304 when
    `If-None-Match` names it."""
    read = views.blocker_read(row, project)
    etag = _etag(read)
    if names_current(if_none_match, etag):
        return Response(status_code=304, headers={"ETag": etag})
    return Response(
        read.model_dump_json().encode(),
        status_code=status_code,
        media_type="application/json",
        headers={"ETag": etag, **(headers or {})},
    )


def _if_match(if_match: str | None, context: BlockerContext) -> str | None:
    """`If-Match` as the version the write checks: a tag of the blocker as it stands, at any
    age (time passing changes nothing the write could lose), stands for its version. Built from
    what the context read, no statement."""
    if not may_name_a_representation(if_match):
        return if_match
    assert if_match is not None
    read = views.blocker_read(context.row, context.access.project)
    return resolve_if_match(
        _AGED_TAG.sub(r'\1"', if_match), read.version, lambda: _unaged_etag(read)
    )


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
    response_model=BlockerRead,
    responses=problems(401, 403, 404, 422),
)
async def raise_blocker(
    body: BlockerCreate, access: ProjectAccessDep, session: SessionDep
) -> Response:
    """Raise a blocker on an item of the project; the item is flagged `blocked`."""
    row = await service.raise_blocker(session, access, body)
    return _answer(
        row,
        access.project,
        status_code=status.HTTP_201_CREATED,
        headers={"Location": f"/api/v1/blockers/{row.blocker.id}"},
    )


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
    response_model=BlockerRead,
    responses={**problems(401, 404), 304: {"description": "Not modified."}},
)
async def get_blocker(
    context: BlockerContextDep, if_none_match: IfNoneMatchHeader = None
) -> Response:
    """One blocker, with its age in working hours of the project's calendar."""
    return _answer(context.row, context.access.project, if_none_match=if_none_match)


@router.patch(
    "/blockers/{blocker_id}",
    response_model=BlockerRead,
    responses=problems(401, 403, 404, 409, 412, 422),
)
async def update_blocker(
    body: BlockerUpdate,
    context: BlockerContextDep,
    session: SessionDep,
    if_match: IfMatchHeader = None,
) -> Response:
    """Change an open blocker's reason or whom or what it waits on."""
    row = await service.update_blocker(
        session, context, body, if_match=_if_match(if_match, context)
    )
    return _answer(row, context.access.project)


@router.post(
    "/blockers/{blocker_id}/resolve",
    response_model=BlockerRead,
    responses=problems(401, 403, 404, 409, 412, 422),
)
async def resolve_blocker(
    context: BlockerContextDep,
    session: SessionDep,
    body: BlockerResolve | None = None,
    if_match: IfMatchHeader = None,
) -> Response:
    """Resolve an open blocker; the item's `blocked` flag clears with its last open one."""
    row = await service.resolve_blocker(
        session, context, body, if_match=_if_match(if_match, context)
    )
    return _answer(row, context.access.project)


@router.post(
    "/blockers/{blocker_id}/promote",
    status_code=status.HTTP_201_CREATED,
    response_model=RiskRead,
    responses=problems(401, 403, 404, 409, 422),
)
async def promote_blocker(
    context: BlockerContextDep, session: SessionDep, body: PromoteRequest | None = None
) -> Response:
    """Promote an open blocker to a risk of the register, rated from its age and the sprint
    points it holds up (both can be given); the two name each other."""
    shown = await service.promote_blocker(session, context, body or PromoteRequest())
    # Tagged as the risk's own answers are, by its body (it shows its owner's name).
    return representation_response(
        risk_views.risk_body(shown, context.access.project),
        shown.risk.version,
        status_code=status.HTTP_201_CREATED,
        headers={"Location": f"/api/v1/risks/{shown.risk.id}"},
    )
