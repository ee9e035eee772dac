"""Stand-up endpoints: the config, my entry, my draft, the day's summary."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Response

from takt.core.bounds import FIRST_DATE, LAST_DATE
from takt.core.concurrency import etag_for, is_not_modified, not_modified_response
from takt.core.deps import IfMatchHeader, IfNoneMatchHeader, SessionDep
from takt.core.openapi import json_data_response, problems
from takt.projects.deps import ProjectAccessDep
from takt.standups import service, views
from takt.standups.schemas import (
    Draft,
    EntryRead,
    EntryWrite,
    StandupConfigRead,
    StandupConfigWrite,
    StandupSummary,
)

router = APIRouter(tags=["standups"])

StandupDate = Annotated[
    dt.date,
    Path(
        ge=FIRST_DATE,
        le=LAST_DATE,
        description="The stand-up day, `YYYY-MM-DD`: the project's local date, a day stand-ups "
        "run on, not after today.",
        examples=["2026-11-27"],
    ),
]


@router.get(
    "/projects/{project_key}/standup-config",
    responses={**problems(401, 404), 304: {"description": "Not modified."}},
)
async def get_standup_config(
    access: ProjectAccessDep,
    session: SessionDep,
    response: Response,
    if_none_match: IfNoneMatchHeader = None,
) -> StandupConfigRead:
    """The project's stand-up config: questions, days, cut-off, who takes part."""
    config = await service.get_config(session, access)
    if is_not_modified(if_none_match, config.version):
        return not_modified_response(config.version)  # type: ignore[return-value]
    response.headers["ETag"] = etag_for(config.version)
    return views.config_read(config)


@router.put("/projects/{project_key}/standup-config", responses=problems(401, 403, 404, 412, 422))
async def put_standup_config(
    body: StandupConfigWrite,
    access: ProjectAccessDep,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> StandupConfigRead:
    """Replace the project's stand-up config (project admins); left-out fields take defaults."""
    config = await service.put_config(session, access, body, if_match=if_match)
    response.headers["ETag"] = etag_for(config.version)
    return views.config_read(config)


@router.get(
    "/projects/{project_key}/standups/{date}",
    response_model=StandupSummary,
    responses=problems(401, 404, 422),
)
async def get_standup_summary(
    date: StandupDate, access: ProjectAccessDep, session: SessionDep
) -> Response:
    """The day's stand-up: open blockers first (oldest first), who has not checked in, the
    entries, participation and blocked rates, and the sprint's chance of finishing."""
    # A hot read: plain data written once (views.summary_data).
    return json_data_response(views.summary_data(await service.day_summary(session, access, date)))


@router.put("/projects/{project_key}/standups/{date}/me", responses=problems(401, 403, 404, 422))
async def put_my_standup_entry(
    date: StandupDate,
    body: EntryWrite,
    access: ProjectAccessDep,
    session: SessionDep,
    response: Response,
) -> EntryRead:
    """Check in: create or replace your entry for the day (after the cut-off it is marked
    late); structured blockers are raised as blockers."""
    entry, user = await service.submit_entry(session, access, date, body)
    response.headers["ETag"] = etag_for(entry.version)
    return views.entry_read(entry, user, access.project.key)


@router.get(
    "/projects/{project_key}/standups/{date}/draft",
    response_model=Draft,
    responses=problems(401, 403, 404, 422),
)
async def get_my_standup_draft(
    date: StandupDate, access: ProjectAccessDep, session: SessionDep
) -> Response:
    """Your entry for the day drafted from the event log since your last one: what you moved,
    finished, created and commented on, what is in progress, and suggested blockers."""
    # A hot read: plain data written once (views.draft_data).
    return json_data_response(views.draft_data(await service.draft(session, access, date)))
