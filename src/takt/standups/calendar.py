"""When stand-ups happen: the days they run and each day's cut-off, in the project's time zone.

Pure functions of a project's settings and its stand-up config (no database). A stand-up date is
always the project's local date: a member in another zone checks in for the team's day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from takt.core.time import WEEKDAY_NAMES, local_date

DEFAULT_WORKING_DAYS = ("mon", "tue", "wed", "thu", "fri")
DEFAULT_CUTOFF = "10:00"
DEFAULT_QUESTIONS: tuple[dict[str, str], ...] = (
    {"id": "yesterday", "text": "What did you do since the last stand-up?", "kind": "text"},
    {"id": "today", "text": "What will you do today?", "kind": "text"},
    {"id": "blockers", "text": "What is in your way?", "kind": "text"},
)
# How far back a member's first draft looks, in the project's working days.
FIRST_DRAFT_WORKING_DAYS = 3


@dataclass(frozen=True)
class StandupCalendar:
    """A project's stand-up days and cut-off, resolved from its settings and config."""

    time_zone: str
    weekdays: tuple[str, ...]
    working_days: tuple[str, ...]
    cutoff: str

    @classmethod
    def of(
        cls, project_settings: Mapping[str, Any], weekdays: Sequence[str] | None, cutoff: str
    ) -> StandupCalendar:
        working = tuple(project_settings.get("working_days") or DEFAULT_WORKING_DAYS)
        return cls(
            time_zone=str(project_settings.get("time_zone") or "UTC"),
            weekdays=tuple(weekdays) if weekdays else working,
            working_days=working,
            cutoff=cutoff,
        )

    def today(self, now: datetime) -> date:
        """The project's local date at `now`: the stand-up date of anyone checking in then."""
        return local_date(now, self.time_zone)

    def runs_on(self, day: date) -> bool:
        return WEEKDAY_NAMES[day.weekday()] in self.weekdays

    def cutoff_at(self, day: date) -> datetime:
        """The day's cut-off as a UTC instant. A wall-clock time is placed in the zone with the
        offset in force on that day, so 10:00 in Berlin is 09:00 UTC in winter and 08:00 UTC in
        summer. A time that a spring-forward gap skips (02:30 on the last Sunday of March in
        Berlin) is read with the offset before the gap, as `zoneinfo` does (it falls at 03:30
        local); one that the autumn fold repeats is its first occurrence."""
        hours, minutes = (int(part) for part in self.cutoff.split(":"))
        local = datetime.combine(day, time(hours, minutes), tzinfo=ZoneInfo(self.time_zone))
        return local.astimezone(UTC)

    def start_of(self, day: date) -> datetime:
        """The first instant of `day` in the project's zone, in UTC."""
        return datetime.combine(day, time.min, tzinfo=ZoneInfo(self.time_zone)).astimezone(UTC)

    def working_days_back(self, day: date, count: int) -> date:
        """The working day `count` working days before `day` (the project's calendar)."""
        wanted = {WEEKDAY_NAMES.index(name) for name in self.working_days} or set(range(7))
        found, cursor = 0, day
        while found < count:
            cursor -= timedelta(days=1)
            if cursor.weekday() in wanted:
                found += 1
        return cursor
