"""Blocker rows to the API's response shapes: the one place a `Blocker` becomes a
`BlockerRead`, with its age in working hours of the project's calendar."""

from __future__ import annotations

from datetime import datetime

from takt.auth.models import User
from takt.auth.schemas import UserSummary
from takt.blockers.repository import BlockerRow
from takt.blockers.schemas import (
    BlockerCreate,
    BlockerRead,
    BlockerSuggestion,
    WaitingOnItem,
    WaitingOnRead,
)
from takt.blockers.service import age_hours, calendar_of
from takt.core.time import WorkCalendar, utcnow
from takt.items.models import ItemLink
from takt.projects.models import Project


def _person(user: User | None) -> UserSummary | None:
    if user is None:
        return None
    return UserSummary(id=user.id, username=user.username, display_name=user.display_name)


def waiting_on_read(row: BlockerRow) -> WaitingOnRead:
    blocker = row.blocker
    return WaitingOnRead(
        kind=blocker.waiting_on_kind,
        user=_person(row.waiting_user),
        name=blocker.waiting_on_name,
        item_key=row.waiting_item_key,
    )


def blocker_read(
    row: BlockerRow,
    project: Project,
    *,
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> BlockerRead:
    """The blocker as the API shows it, aged at `now` (default: the clock) in the project's
    calendar. Pass `now` and `calendar` to build many with one look at each."""
    blocker = row.blocker
    age = age_hours(blocker, calendar or calendar_of(project), now or utcnow())
    return BlockerRead(
        id=blocker.id,
        project_key=project.key,
        item_key=row.item_key,
        reason=blocker.reason,
        waiting_on=waiting_on_read(row),
        status=blocker.status,
        raised_by=_person(row.raised_by),
        raised_at=blocker.raised_at,
        resolved_by=_person(row.resolved_by),
        resolved_at=blocker.resolved_at,
        resolution=blocker.resolution,
        age_working_hours=round(age, 2),
        escalated=blocker.escalated_at is not None,
        escalated_at=blocker.escalated_at,
        risk_id=blocker.risk_id,
        created_at=blocker.created_at,
        updated_at=blocker.updated_at,
        version=blocker.version,
    )


def blocker_reads(
    rows: list[BlockerRow], project: Project, *, now: datetime | None = None
) -> list[BlockerRead]:
    """Many blockers of one project, all aged at the same moment."""
    calendar, moment = calendar_of(project), now or utcnow()
    return [blocker_read(row, project, now=moment, calendar=calendar) for row in rows]


def suggestion_read(link: ItemLink, blocked_key: str, blocking_key: str) -> BlockerSuggestion:
    return BlockerSuggestion(
        item_key=blocked_key,
        blocked_by=blocking_key,
        link_created_at=link.created_at,
        body=BlockerCreate(
            item_key=blocked_key,
            reason=f"Waiting for {blocking_key} to finish (linked as blocking {blocked_key}).",
            waiting_on=WaitingOnItem(kind="item", item_key=blocking_key),
        ),
    )
