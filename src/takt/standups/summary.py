"""A stand-up day's summary (METRICS.md, Stand-ups), and its recording at the cut-off.

Built from a fixed number of statements whatever the team's size: the participants, the day's
absences, the day's entries, the open blockers, the recorded figures, and the sprint forecast's
(kept per process while what it depends on is unchanged: see `_forecast`).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.models import User
from takt.core.events import emit
from takt.core.time import local_date, utcnow
from takt.projects.models import Project
from takt.sprints import reports
from takt.sprints import repository as sprints_repo
from takt.sprints.models import Sprint
from takt.standups import blocking
from takt.standups import config as configs
from takt.standups import repository as repo
from takt.standups.config import Resolved
from takt.standups.events import SharedAnswers, StandupSummaryReady
from takt.standups.models import StandupEntry, StandupSummary

# Open blockers listed in a summary (all are counted).
MAX_LISTED_BLOCKERS = 200


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class DayNumbers:
    """Who was expected on a stand-up day and who checked in.

    Participation = submitted / (participants - absent), where absences are the days off
    recorded in the capacity of the sprint(s) spanning the day, and `submitted` counts the
    entries of expected participants only (an absent member's entry is shown but doesn't raise
    the rate above 1). Blocked rate = entries flagged blocked / all the day's entries."""

    participants: list[User]
    absent: list[User]
    missing: list[User]
    entries: list[tuple[StandupEntry, User]]
    submitted: int
    blocked_rate: float | None

    @property
    def expected(self) -> int:
        return len(self.participants) - len(self.absent)

    @property
    def participation(self) -> float | None:
        return _rate(self.submitted, self.expected)


async def day_numbers(session: AsyncSession, config: Resolved, day: date) -> DayNumbers:
    people = await configs.participants(session, config)
    away = await repo.absent_on(session, config.project.id, day)
    entries = await repo.entries_of_day(session, config.project.id, day)
    authors = {user.id for _, user in entries}
    absent = [user for user in people if user.id in away]
    expected = [user for user in people if user.id not in away]
    return DayNumbers(
        participants=people,
        absent=absent,
        missing=[user for user in expected if user.id not in authors],
        entries=entries,
        submitted=sum(1 for user in expected if user.id in authors),
        blocked_rate=_rate(sum(1 for entry, _ in entries if entry.blocked), len(entries)),
    )


# The sprint's outlook -----------------------------------------------------------------------


@dataclass(frozen=True)
class Outlook:
    sprint_id: str
    name: str
    probability: float | None
    as_of: str
    previous_date: date | None
    previous_probability: float | None
    reason: str | None

    @property
    def change(self) -> float | None:
        if self.probability is None or self.previous_probability is None:
            return None
        return round(self.probability - self.previous_probability, 4)


# Sprint forecasts worked out in this process, by sprint: what each was worked out from, and the
# probability. At most this many sprints are kept (the least recently used go first).
_FORECASTS: OrderedDict[str, tuple[tuple[Any, ...], float]] = OrderedDict()
FORECASTS_KEPT = 1_000


def _forecast_inputs(project: Project, sprint: Sprint, open_items: int) -> tuple[Any, ...]:
    """Everything the sprint forecast depends on besides the log's past: the project's local
    date (the throughput history is the working days before it), time zone and working days,
    the sprint's dates (the working days left) and its open items. The simulation is seeded."""
    settings = project.settings or {}
    zone = str(settings.get("time_zone", "UTC"))
    return (
        local_date(utcnow(), zone),
        zone,
        tuple(settings.get("working_days", ())),
        sprint.start_date,
        sprint.end_date,
        open_items,
    )


async def _forecast(
    session: AsyncSession, project: Project, sprint: Sprint
) -> tuple[float | None, str | None]:
    """(the sprint's probability of finishing, why there is none): the sprint forecast of
    `GET /sprints/{id}/forecast`, with its default window.

    The forecast replays the project's finished items over its last 60 working days: 40 to 55
    ms of a 50-person project's summary (bench/RESULTS.md, Stand-ups), which the whole team
    reads around the stand-up. Its answer only changes with its inputs (`_forecast_inputs`;
    the days before today are history, which doesn't change), so a figure is kept per sprint
    with the inputs it came from and reused while they are the same: one count of the sprint's
    open items instead of the replay. An item of the sprint finished or reopened, another day,
    changed settings or sprint dates: worked out again. A missing figure (not enough history)
    is not kept."""
    open_items = await repo.open_items_in_sprint(session, sprint.id)
    inputs = _forecast_inputs(project, sprint, open_items)
    kept = _FORECASTS.get(sprint.id)
    if kept is not None and kept[0] == inputs:
        _FORECASTS.move_to_end(sprint.id)
        return kept[1], None
    try:
        forecast = await reports.sprint_forecast(session, project, sprint, remaining=open_items)
    except reports.NotEnoughHistory as exc:  # no figure, and why
        return None, exc.detail
    _FORECASTS[sprint.id] = (inputs, forecast.probability)
    _FORECASTS.move_to_end(sprint.id)
    while len(_FORECASTS) > FORECASTS_KEPT:
        _FORECASTS.popitem(last=False)
    return forecast.probability, None


async def outlook(
    session: AsyncSession,
    project: Project,
    recorded: StandupSummary | None,
    previous: StandupSummary | None,
) -> Outlook | None:
    """The active sprint's chance of finishing: the figure recorded at the day's cut-off when
    there is one for that sprint (no forecast runs then), else forecast now; and its change
    since the previous recorded stand-up day's figure for the same sprint."""
    sprint = await sprints_repo.active_sprint(session, project.id)
    if sprint is None:
        return None
    if recorded is not None and recorded.sprint_id == sprint.id:
        probability, reason, as_of = recorded.sprint_probability, None, "cutoff"
    else:
        (probability, reason), as_of = await _forecast(session, project, sprint), "now"
    same = previous is not None and previous.sprint_id == sprint.id
    return Outlook(
        sprint_id=sprint.id,
        name=sprint.name,
        probability=probability,
        as_of=as_of,
        previous_date=previous.standup_date if same and previous else None,
        previous_probability=previous.sprint_probability if same and previous else None,
        reason=reason,
    )


# The summary --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryData:
    project: Project
    day: date
    now: datetime
    cutoff_at: datetime
    past_cutoff: bool
    open_blockers: list[Row[Any]]  # of `blockers.repository.PLAIN`
    open_blocker_count: int
    numbers: DayNumbers
    outlook: Outlook | None
    recorded: StandupSummary | None


async def build(session: AsyncSession, config: Resolved, day: date) -> SummaryData:
    project = config.project
    numbers = await day_numbers(session, config, day)
    listed, count = await blocking.open_blockers(session, project, limit=MAX_LISTED_BLOCKERS)
    recorded, previous = await repo.recorded_up_to(session, project.id, day)
    cutoff = config.cutoff_at(day)
    now = utcnow()
    return SummaryData(
        project=project,
        day=day,
        now=now,
        cutoff_at=cutoff,
        past_cutoff=now >= cutoff,
        open_blockers=listed,
        open_blocker_count=count,
        numbers=numbers,
        outlook=await outlook(session, project, recorded, previous),
        recorded=recorded,
    )


# Recording at the cut-off -------------------------------------------------------------------


async def record(session: AsyncSession, project: Project, day: date) -> bool:
    """Record `day`'s summary and send `standup.summary_ready`, unless it was recorded already
    (then nothing happens): True when this call recorded it. Meant to run after the cut-off."""
    config = await configs.load(session, project)
    numbers = await day_numbers(session, config, day)
    open_count = await blocking.count_open(session, project.id)
    _, previous = await repo.recorded_up_to(session, project.id, day)
    sprint = await sprints_repo.active_sprint(session, project.id)
    probability = (await _forecast(session, project, sprint))[0] if sprint is not None else None
    inserted = await repo.insert_summary(
        session,
        {
            "project_id": project.id,
            "standup_date": day,
            "recorded_at": utcnow(),
            "expected": numbers.expected,
            "submitted": numbers.submitted,
            "participation": numbers.participation,
            "blocked_rate": numbers.blocked_rate,
            "open_blockers": open_count,
            "sprint_id": sprint.id if sprint is not None else None,
            "sprint_probability": probability,
        },
    )
    if not inserted:
        return False
    previous_probability = (
        previous.sprint_probability
        if previous is not None and sprint is not None and previous.sprint_id == sprint.id
        else None
    )
    change = (
        round(probability - previous_probability, 4)
        if probability is not None and previous_probability is not None
        else None
    )
    shared = (
        [
            SharedAnswers(username=user.username, answers=entry.answers)
            for entry, user in numbers.entries
        ]
        if config.share_answers_in_events
        else None
    )
    await emit(
        session,
        StandupSummaryReady(
            date=day.isoformat(),
            cutoff_at=config.cutoff_at(day).isoformat().replace("+00:00", "Z"),
            expected=numbers.expected,
            submitted=numbers.submitted,
            participation=numbers.participation,
            blocked_rate=numbers.blocked_rate,
            open_blockers=open_count,
            missing=[user.username for user in numbers.missing],
            sprint_id=sprint.id if sprint is not None else None,
            sprint_probability=probability,
            sprint_probability_change=change,
            answers=shared,
        ),
        project,
        None,
    )
    return True
