"""The numbers of docs/metrics.md: capacity, the sprint report, burndown, velocity and forecasts,
computed from the event log so they hold for any past day."""

from __future__ import annotations

import asyncio
import logging
import statistics
import weakref
from collections import OrderedDict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.schemas import UserSummary
from takt.core.db import Database
from takt.core.errors import ValidationFailed
from takt.core.events import parse_event
from takt.core.time import end_of_day, local_date, utcnow, working_days
from takt.items.events import ItemChanges, ItemCreated
from takt.items.models import Item
from takt.projects.models import Project
from takt.sprints import forecast
from takt.sprints import repository as repo
from takt.sprints.models import Sprint
from takt.sprints.schemas import (
    Capacity,
    ForecastDates,
    History,
    MemberCapacity,
    PointsCapacity,
    ProjectForecast,
    SprintForecast,
    Velocity,
    VelocitySprint,
)
from takt.sprints.timeline import Replay, Totals, daily_counts, ideal_line, totals

log = logging.getLogger(__name__)

MIN_HISTORY_DAYS = 10


class NotEnoughHistory(ValidationFailed):
    """A forecast needs at least 10 working days of history with at least one finished item.
    Finish some work (or widen `window`) and ask again."""

    code = "not-enough-history"
    title = "Not enough history"


def _zone(project: Project) -> str:
    return str(project.settings.get("time_zone", "UTC"))


def _weekdays(project: Project) -> list[str]:
    return list(project.settings.get("working_days", ["mon", "tue", "wed", "thu", "fri"]))


def _round(value: float) -> float:
    return round(value, 4)


# Capacity ------------------------------------------------------------------------------------


async def capacity(session: AsyncSession, project: Project, sprint: Sprint) -> Capacity:
    days = working_days(sprint.start_date, sprint.end_date, _weekdays(project))
    day_set = set(days)
    rows = await repo.capacity_rows(session, sprint.id)
    members = []
    for user in await repo.team(session, project.id):
        row = rows.get(user.id)
        allocation = row.allocation if row else 1.0
        absent = sorted(date.fromisoformat(d) for d in (row.absent_days if row else []))
        absent_working = [d for d in absent if d in day_set]
        members.append(
            MemberCapacity(
                user=UserSummary(
                    id=user.id, username=user.username, display_name=user.display_name
                ),
                allocation=allocation,
                absent_days=absent,
                working_days=len(days),
                available_days=_round((len(days) - len(absent_working)) * allocation),
            )
        )
    person_days = _round(sum(m.available_days for m in members))
    return Capacity(
        sprint_id=sprint.id,
        working_days=days,
        members=members,
        person_days=person_days,
        points=await _points_capacity(session, project, sprint, person_days),
    )


async def _points_capacity(
    session: AsyncSession, project: Project, sprint: Sprint, person_days: float
) -> PointsCapacity:
    """Mean velocity of the last 3 completed sprints, scaled by this sprint's availability."""
    past = [
        s
        for s in await repo.completed_sprints(session, project.id, 3, exclude=sprint.id)
        if s.report
    ]
    if not past:
        return PointsCapacity(
            points=None,
            mean_velocity=None,
            mean_person_days=None,
            based_on=[],
            reason="No completed sprint yet.",
        )
    mean_velocity = statistics.fmean(s.report["completed"]["points"] for s in past if s.report)
    mean_days = statistics.fmean(s.report.get("person_days", 0) for s in past if s.report)
    if mean_days <= 0:
        return PointsCapacity(
            points=None,
            mean_velocity=_round(mean_velocity),
            mean_person_days=0,
            based_on=[s.id for s in past],
            reason="The past sprints recorded no available person-days.",
        )
    return PointsCapacity(
        points=_round(mean_velocity * person_days / mean_days),
        mean_velocity=_round(mean_velocity),
        mean_person_days=_round(mean_days),
        based_on=[s.id for s in past],
    )


# Sprint report -------------------------------------------------------------------------------


def _tally(points: list[float | None]) -> dict[str, Any]:
    return {"items": len(points), "points": _round(sum(p or 0 for p in points))}


async def final_report(
    session: AsyncSession,
    project: Project,
    sprint: Sprint,
    current: list[tuple[Item, str]],
    now: datetime,
) -> dict[str, Any]:
    commitment = await sprint.awaitable_attrs.commitment or []
    committed_points = sum(c["estimate"] or 0 for c in commitment)
    in_scope = [(i, c) for i, c in current if c != "cancelled"]
    done = [i for i, c in in_scope if c == "done"]
    not_done = [i for i, c in in_scope if c != "done"]
    done_ids = {i.id for i in done}
    since = sprint.started_at or now
    changes = await repo.scope_changes_since(session, project.id, sprint.id, since)
    added = [estimate for _, _, change, estimate in changes if change == "added"]
    removed = [estimate for _, _, change, estimate in changes if change == "removed"]
    committed_done = sum(c["estimate"] or 0 for c in commitment if c["item_id"] in done_ids)

    def ratio(value: float) -> float | None:
        return _round(value / committed_points) if committed_points else None

    added_points = sum(p or 0 for p in added)
    removed_points = sum(p or 0 for p in removed)
    carried_points = sum(i.estimate or 0 for i in not_done)
    return {
        "committed": {"items": len(commitment), "points": _round(committed_points)},
        "completed": _tally([i.estimate for i in done]),
        "added": _tally(added),
        "removed": _tally(removed),
        "carried_over": _tally([i.estimate for i in not_done]),
        "say_do_ratio": ratio(committed_done),
        "scope_change": ratio(added_points - removed_points),
        "carry_over_rate": ratio(carried_points),
        "unestimated": sum(1 for i, _ in in_scope if i.estimate is None),
        "person_days": (await capacity(session, project, sprint)).person_days,
        "carried_over_to": None,
    }


# Sprint review -------------------------------------------------------------------------------

# Done items a review lists at most (the counts cover them all).
REVIEW_ITEMS = 500


async def review_rows(session: AsyncSession, sprint: Sprint) -> list[Any]:
    """The sprint's done items, each with when it reached production (see `review_rows` in the
    repository): one statement."""
    return await repo.review_rows(session, sprint.id, REVIEW_ITEMS)


# Burndown ------------------------------------------------------------------------------------

_UNMEASURED: dict[str, Any] = {
    "remaining_points": None,
    "remaining_items": None,
    "completed_points": None,
    "completed_items": None,
    "scope_points": None,
    "scope_items": None,
    "scope_changes": [],
}


# A moment is final (its point may be kept) once this long has passed: a write whose
# transaction began before the moment has committed by then.
FINAL_AFTER = timedelta(minutes=5)


async def burndown(
    session: AsyncSession, project: Project, sprint: Sprint, *, keep: Database | None = None
) -> dict[str, Any]:
    """The burndown from the event log. Each day's point is the sprint's totals at the day's end;
    points of past moments are replayed once and kept (`keep` writes them in a short transaction
    of their own, as the request itself only reads); a moment still ahead is the items' current
    state. So a big sprint costs a few small queries, not a replay of its whole history.

    The answer is the `Burndown` shape as plain data: a big sprint lists hundreds of scope
    changes, and building a model for each cost more than the queries."""
    zone = _zone(project)
    now = utcnow()
    today = local_date(now, zone)
    last_day = sprint.end_date
    if sprint.state == "active":
        last_day = min(last_day, today)
    elif sprint.state in ("completed", "cancelled") and sprint.completed_at:
        last_day = min(last_day, local_date(sprint.completed_at, zone))
    sprint_days = working_days(sprint.start_date, sprint.end_date, _weekdays(project))
    # Every day of the sprint is listed; those not measured yet (after today, or after the
    # completion) carry the ideal line and null actuals.
    measured = [d for d in sprint_days if d <= last_day] if sprint.state != "planned" else []
    # A completed sprint's numbers stop at its completion (carry-over moves come after).
    cutoff = sprint.completed_at if sprint.state in ("completed", "cancelled") else None
    # Scope as of the start, including changes made in the same instant as the start itself.
    start_moment = (sprint.started_at or end_of_day(sprint.start_date, zone)) + timedelta(
        microseconds=1
    )
    day_moments = [
        min(end_of_day(day, zone), cutoff) if cutoff is not None else end_of_day(day, zone)
        for day in measured
    ]
    at = await _totals_at(session, project, sprint, [start_moment, *day_moments], now, keep)
    ideal = ideal_line(at[start_moment].remaining_points, len(sprint_days))
    changes_by_day: dict[date, list[dict[str, Any]]] = {}
    since = sprint.started_at or end_of_day(sprint.start_date, zone)
    for occurred_at, key, change, estimate in await repo.scope_changes_since(
        session, project.id, sprint.id, since
    ):
        day = local_date(occurred_at, zone)
        changes_by_day.setdefault(day, []).append(
            {"key": key, "change": change, "estimate": estimate, "at": occurred_at}
        )
    days: list[dict[str, Any]] = []
    unestimated = 0
    for index, day in enumerate(sprint_days):
        if index >= len(day_moments):
            days.append({**_UNMEASURED, "date": day, "ideal_points": ideal[index]})
            continue
        counted = at[day_moments[index]]
        unestimated = counted.unestimated
        days.append(
            {
                "date": day,
                "remaining_points": _round(counted.remaining_points),
                "remaining_items": counted.remaining_items,
                "completed_points": _round(counted.completed_points),
                "completed_items": counted.completed_items,
                "scope_points": _round(counted.scope_points),
                "scope_items": counted.scope_items,
                "ideal_points": ideal[index],
                "scope_changes": changes_by_day.get(day, []),
            }
        )
    return {
        "sprint_id": sprint.id,
        "start_date": sprint.start_date,
        "end_date": sprint.end_date,
        "days": days,
        "unestimated_items": unestimated,
    }


async def _keep_points(database: Database, sprint_id: str, points: dict[datetime, Totals]) -> None:
    """Keep replayed points, best effort: the answer is already computed, so a failure to store
    them (the writer busy past its timeout, the sprint deleted meanwhile) only means the next
    request replays again."""
    try:
        async with database.transaction() as write:
            await repo.save_burndown_points(write, sprint_id, points)
    except SQLAlchemyError:
        log.warning("burndown points not kept", extra={"sprint_id": sprint_id}, exc_info=True)


async def _totals_at(
    session: AsyncSession,
    project: Project,
    sprint: Sprint,
    moments: list[datetime],
    now: datetime,
    keep: Database | None,
) -> dict[datetime, Totals]:
    """The sprint's totals at each moment: kept points, then one replay for the past moments
    without one (kept if final), and the items' current state for moments still ahead."""
    found = await repo.burndown_points(session, sprint.id)
    past = sorted({m for m in moments if m <= now and m not in found})
    if past:
        # One replay at a time per sprint in this process: after midnight the first burndowns
        # of a big sprint would otherwise each replay its history at once. Those that waited
        # read what the first one kept (on PostgreSQL; SQLite's read snapshot predates it).
        lock = _replay_locks.get(sprint.id)
        if lock is None:
            lock = _replay_locks[sprint.id] = asyncio.Lock()
        async with lock:
            found.update(await repo.burndown_points(session, sprint.id))
            past = sorted({m for m in moments if m <= now and m not in found})
            if past:
                found.update(await _replay(session, project, sprint, past, now, keep))
    if any(m > now for m in moments):
        current = await repo.current_totals(session, sprint.id)
        found.update({m: current for m in moments if m > now})
    return found


# Sprint id -> lock, kept only while a request holds or awaits it.
_replay_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


async def _replay(
    session: AsyncSession,
    project: Project,
    sprint: Sprint,
    past: list[datetime],
    now: datetime,
    keep: Database | None,
) -> dict[datetime, Totals]:
    """Totals at the past moments `past` (sorted) by replaying the log; final ones are kept."""
    subjects = await repo.scope_subjects(session, project.id, sprint.id)
    replay = Replay(sprint.id, await repo.item_events(session, subjects, past[-1]))
    replayed = {m: totals(dict(replay.until(m)).values()) for m in past}
    final = {m: t for m, t in replayed.items() if m + FINAL_AFTER <= now}
    if keep is not None and final:
        await _keep_points(keep, sprint.id, final)
    return replayed


# Velocity ------------------------------------------------------------------------------------


async def velocity(session: AsyncSession, project: Project, count: int) -> Velocity:
    sprints = [s for s in await repo.completed_sprints(session, project.id, count) if s.report]
    rows = [
        VelocitySprint(
            id=s.id,
            name=s.name,
            start_date=s.start_date,
            end_date=s.end_date,
            committed_points=s.report["committed"]["points"],
            completed_points=s.report["completed"]["points"],
        )
        for s in sprints
        if s.report
    ]
    values = [r.completed_points for r in rows]
    return Velocity(
        sprints=rows,
        mean=_round(statistics.fmean(values)) if values else None,
        # A spread needs two values: with one sprint it is unknown, not zero.
        std_dev=_round(statistics.stdev(values)) if len(values) > 1 else None,
    )


# Forecasts -----------------------------------------------------------------------------------


# Throughput histories worked out in this process: (project, window, zone, working days, today)
# -> (the first item event and the mark of the log's part it read, the counts, the history).
# At most this many are kept (the least recently used go first).
_HISTORIES: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], list[int], History]] = OrderedDict()
HISTORIES_KEPT = 1_000


async def throughput_history(
    session: AsyncSession, project: Project, window: int
) -> tuple[list[int], History]:
    """Items finished per working day over the last `window` working days before today.

    The days before today are history: replaying their events (6,649 for a busy project's 60
    days) cost 40 to 55 ms of a forecast, so the counts are kept per project, window, calendar
    and local date, and reused while the log's part they came from is the same: its first item
    event, and how many of the events read there are and the latest one's time (two indexed
    statements instead of the replay). An event dated in the past (an import, a pinned clock)
    changes that mark, and the history is worked out again."""
    zone, weekdays = _zone(project), _weekdays(project)
    today = local_date(utcnow(), zone)
    first = await repo.first_item_event(session, project.id)
    if first is None:
        raise NotEnoughHistory("The project has no items yet.")
    start = max(local_date(first, zone), today - timedelta(days=window * 2 + 14))
    days = working_days(start, today - timedelta(days=1), weekdays)[-window:]
    if len(days) < MIN_HISTORY_DAYS:
        raise NotEnoughHistory(
            f"Only {len(days)} working days of history; a forecast needs {MIN_HISTORY_DAYS}."
        )
    since = end_of_day(days[0] - timedelta(days=1), zone)
    until = end_of_day(days[-1], zone)
    key = (project.id, window, zone, tuple(weekdays), today)
    mark = (first, *await repo.finish_events_mark(session, project.id, since, until))
    kept = _HISTORIES.get(key)
    if kept is not None and kept[0] == mark:
        _HISTORIES.move_to_end(key)
        counts, info = list(kept[1]), kept[2].model_copy()
    else:
        counts = daily_counts(days, await _finished_on(session, project.id, since, zone))
        info = History(
            working_days=len(days),
            first_day=days[0],
            last_day=days[-1],
            finished_items=sum(counts),
        )
        _HISTORIES[key] = (mark, list(counts), info.model_copy())
        _HISTORIES.move_to_end(key)
        while len(_HISTORIES) > HISTORIES_KEPT:
            _HISTORIES.popitem(last=False)
    if not any(counts):
        raise NotEnoughHistory(f"No item was finished in the last {len(days)} working days.")
    return counts, info


async def _finished_on(
    session: AsyncSession, project_id: str, since: datetime, zone: str
) -> list[date]:
    """The local date of each entry into done from `since` on."""
    finished_on = []
    for event in await repo.finish_events(session, project_id, since):
        data, changes = parse_event(event.type, event.data or {}, event.changes)
        if isinstance(data, ItemCreated):
            entered_done = data.category == "done"
        else:
            category = changes.category if isinstance(changes, ItemChanges) else None
            entered_done = category is not None and category[1] == "done" and category[0] != "done"
        if entered_done:
            finished_on.append(local_date(event.occurred_at, zone))
    return finished_on


def _future_working_days(project: Project, count: int) -> list[date]:
    """`count` working days starting today (today counts as the first day of the walk)."""
    today = local_date(utcnow(), _zone(project))
    days: list[date] = []
    cursor = today
    while len(days) < count:
        span = working_days(cursor, cursor + timedelta(days=60), _weekdays(project))
        days.extend(span)
        cursor += timedelta(days=61)
    return days[:count]


async def sprint_forecast(
    session: AsyncSession,
    project: Project,
    sprint: Sprint,
    *,
    window: int = 60,
    remaining: int | None = None,
) -> SprintForecast:
    """The sprint's chance to finish its `remaining` items (its unfinished live items, counted
    here unless the caller just counted them) in its working days left."""
    history, info = await throughput_history(session, project, window)
    if remaining is None:
        remaining = await repo.open_item_count(session, sprint.id)
    today = local_date(utcnow(), _zone(project))
    left = len(working_days(max(today, sprint.start_date), sprint.end_date, _weekdays(project)))
    # Only "finished by the end?" matters, so no trial walks past the sprint's last day.
    trials = await forecast.simulate(history, remaining, max_days=left + 1)
    return SprintForecast(
        sprint_id=sprint.id,
        remaining_items=remaining,
        working_days_left=left,
        probability=_round(forecast.probability_within(trials, left)),
        trials=len(trials),
        history=info,
    )


async def _open_items(session: AsyncSession, project: Project, keys: list[str]) -> int:
    """How many of `keys` are still to finish; a key that names no item of the project is a 422
    (it would otherwise be counted as nothing to do)."""
    categories = await repo.item_categories(session, project.id, keys)
    for index, key in enumerate(keys):
        if key not in categories:
            raise ValidationFailed.at(
                f"/item_keys/{index}", "unknown item", detail=f"No item {key} in this project."
            )
    open_keys = {k for k in keys if categories[k] not in ("done", "cancelled")}
    return len(open_keys)


async def project_forecast(
    session: AsyncSession,
    project: Project,
    *,
    item_count: int | None,
    item_keys: list[str] | None,
    window: int,
) -> ProjectForecast:
    history, info = await throughput_history(session, project, window)
    items = (
        item_count
        if item_count is not None
        else await _open_items(session, project, item_keys or [])
    )
    if items == 0:
        return ProjectForecast(items=0, finish=None, trials=0, history=info)
    trials = await forecast.simulate(history, items)
    p50, p85, p95 = forecast.finish_percentiles(trials)
    calendar = _future_working_days(project, min(p95, forecast.MAX_DAYS - 1))

    def day(days: int) -> date | None:
        # A trial still unfinished at the horizon is counted there: that is "not by then".
        return None if days >= forecast.MAX_DAYS else calendar[days - 1]

    return ProjectForecast(
        items=items,
        finish=ForecastDates(p50=day(p50), p85=day(p85), p95=day(p95)),
        trials=len(trials),
        history=info,
    )
