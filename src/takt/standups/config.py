"""A project's stand-up config as it applies: the stored row, or the defaults when there is none,
with the calendar it implies and who takes part."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.models import User
from takt.projects.models import Project
from takt.sprints import repository as sprints_repo
from takt.standups import repository as repo
from takt.standups.calendar import DEFAULT_CUTOFF, DEFAULT_QUESTIONS, StandupCalendar
from takt.standups.models import StandupConfig


@dataclass(frozen=True)
class Resolved:
    project: Project
    row: StandupConfig | None
    questions: tuple[dict[str, Any], ...]
    weekdays: tuple[str, ...] | None
    cutoff: str
    participants: tuple[str, ...] | None
    share_answers_in_events: bool
    calendar: StandupCalendar

    @property
    def question_kinds(self) -> dict[str, str]:
        return {str(q["id"]): str(q["kind"]) for q in self.questions}

    @property
    def version(self) -> int:
        return self.row.version if self.row is not None else 0

    @property
    def updated_at(self) -> datetime | None:
        return self.row.updated_at if self.row is not None else None

    def takes_part(self, user_id: str, member_role: str | None) -> bool:
        """Members and admins of the project take part (viewers and instance admins who are not
        members never do), all of them or those the config lists."""
        if member_role not in ("member", "admin"):
            return False
        return self.participants is None or user_id in self.participants

    def participants_among(self, team: Sequence[User]) -> list[User]:
        """The participants among the project's members and admins (`team`, by username): a
        listed person who has since left or become a viewer no longer counts."""
        if self.participants is None:
            return list(team)
        listed = set(self.participants)
        return [user for user in team if user.id in listed]

    def cutoff_at(self, day: date) -> datetime:
        return self.calendar.cutoff_at(day)


def resolve(project: Project, row: StandupConfig | None) -> Resolved:
    settings = project.settings or {}
    if row is None:
        return Resolved(
            project=project,
            row=None,
            questions=DEFAULT_QUESTIONS,
            weekdays=None,
            cutoff=DEFAULT_CUTOFF,
            participants=None,
            share_answers_in_events=False,
            calendar=StandupCalendar.of(settings, None, DEFAULT_CUTOFF),
        )
    return Resolved(
        project=project,
        row=row,
        questions=tuple(row.questions),
        weekdays=tuple(row.weekdays) if row.weekdays else None,
        cutoff=row.cutoff,
        participants=tuple(row.participants) if row.participants is not None else None,
        share_answers_in_events=row.share_answers_in_events,
        calendar=StandupCalendar.of(settings, row.weekdays, row.cutoff),
    )


async def load(session: AsyncSession, project: Project) -> Resolved:
    return resolve(project, await repo.get_config(session, project.id))


async def participants(session: AsyncSession, config: Resolved) -> list[User]:
    """Who takes part, by username (one statement); a disabled account is not expected."""
    team = await sprints_repo.team(session, config.project.id, active_only=True)
    return config.participants_among(team)
