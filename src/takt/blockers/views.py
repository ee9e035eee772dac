"""Blocker rows to the API's response shapes: the one place a `Blocker` becomes a
`BlockerRead`, with its age in working hours of the project's calendar."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

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
from takt.core.time import WorkCalendar, WorkingTimeUntil, utcnow, working_hours
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


def _age(row: BlockerRow, calendar: WorkCalendar, now: datetime, ages: WorkingTimeUntil) -> float:
    """The blocker's age in working hours: an open one's from `ages` (the calendar to `now`)."""
    blocker = row.blocker
    if blocker.resolved_at is None and ages.end == now:
        return ages.hours_since(blocker.raised_at)
    return age_hours(blocker, calendar, now)


def blocker_read(
    row: BlockerRow,
    project: Project,
    *,
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
    ages: WorkingTimeUntil | None = None,
) -> BlockerRead:
    """The blocker as the API shows it, aged at `now` (default: the clock) in the project's
    calendar. Pass `now`, `calendar` and `ages` (the calendar's working time up to `now`) to
    build many with one look at each and one walk of the calendar."""
    blocker = row.blocker
    calendar = calendar or calendar_of(project)
    now = now or utcnow()
    age = _age(row, calendar, now, ages) if ages is not None else age_hours(blocker, calendar, now)
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
    ages = WorkingTimeUntil(moment, calendar)
    return [blocker_read(row, project, now=moment, calendar=calendar, ages=ages) for row in rows]


# Plain data for the hot reads (a stand-up summary lists up to 200 blockers): the `BlockerRead`
# shape as dicts from plain rows, written once with orjson (`core.openapi.json_data_response`);
# building a model per blocker was a fifth of the summary's time.
# tests/standups/test_plain_answers.py checks the two agree byte for byte.


def _someone(id_: str | None, username: str | None, display_name: str | None) -> Any:
    if id_ is None:
        return None
    return {"id": id_, "username": username, "display_name": display_name}


def blocker_data_of(
    row: Sequence[Any], project_key: str, calendar: WorkCalendar, ages: WorkingTimeUntil
) -> dict[str, Any]:
    """`blocker_read` as plain data from a row of `repository.PLAIN` (read by position: 200
    rows of 25 columns), aged at `ages.end`."""
    (
        id_,
        item_key,
        reason,
        waiting_on_kind,
        waiting_on_name,
        waiting_user_id,
        waiting_user_username,
        waiting_user_display_name,
        waiting_item_key,
        status,
        raised_by_id,
        raised_by_username,
        raised_by_display_name,
        raised_at,
        resolved_by_id,
        resolved_by_username,
        resolved_by_display_name,
        resolved_at,
        resolved_age_hours,
        resolution,
        escalated_at,
        risk_id,
        created_at,
        updated_at,
        version,
    ) = row
    if resolved_at is None:
        age = ages.hours_since(raised_at)
    elif resolved_age_hours is not None:
        age = resolved_age_hours
    else:
        age = working_hours(raised_at, resolved_at, calendar)
    return {
        "id": id_,
        "project_key": project_key,
        "item_key": item_key,
        "reason": reason,
        "waiting_on": {
            "kind": waiting_on_kind,
            "user": _someone(waiting_user_id, waiting_user_username, waiting_user_display_name),
            "name": waiting_on_name,
            "item_key": waiting_item_key,
        },
        "status": status,
        "raised_by": _someone(raised_by_id, raised_by_username, raised_by_display_name),
        "raised_at": raised_at,
        "resolved_by": _someone(resolved_by_id, resolved_by_username, resolved_by_display_name),
        "resolved_at": resolved_at,
        "resolution": resolution,
        "age_working_hours": float(round(age, 2)),
        "escalated": escalated_at is not None,
        "escalated_at": escalated_at,
        "risk_id": risk_id,
        "created_at": created_at,
        "updated_at": updated_at,
        "version": version,
    }


def blocker_datas_of(
    rows: Sequence[Any], project: Project, *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """`blocker_reads` as plain data, from rows of `repository.PLAIN`, all aged at one moment
    with one walk of the project's calendar."""
    calendar = calendar_of(project)
    ages = WorkingTimeUntil(now or utcnow(), calendar)
    return [blocker_data_of(row, project.key, calendar, ages) for row in rows]


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
