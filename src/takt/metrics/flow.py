"""Flow metrics of a project's items, exactly as METRICS.md (Flow) defines them:

- started = the first entry into an `in_progress` status (the item's `started_at`, written
  with the event that moved it); finished = each entry into a `done` status, from the event
  log (a reopened item finishes again later, and counts again);
- throughput = items finished per working day of the project (its working days and time
  zone), zero days included;
- cycle time = finished - started, lead time = finished - created, over the period's
  finishes: P50, P85, P95 (nearest rank), in days;
- WIP = items started and not finished (not done, not cancelled) now; work item age =
  now - started for each of them, oldest first;
- cumulative flow: for each day of the period and each status category, the items in that
  category or a later one at the end of the day.

The cumulative flow is worked backwards from the items' statuses now through the category
changes the event log recorded since the period began, so a period costs the events since its
start, not the project's whole history. `q` (the items' filter language) narrows every figure
to the items it matches now.

Without `q`, the days the worker's `flow-snapshots` sweep wrote are read from their rows (the
bands and finishes of each closed day, metrics/snapshots.py), and only the days after them from
the event log: the same numbers, a row per day. With `q`, the written days' bands can't be
used (they are the whole project's): the bands are worked out from the written days' category
moves (one row per move, with its item) and the finishes from their written rows, each joined
to the items matching `q`, and from the event log after them. The cycle time's `points` list
the period's
finishes for a scatter chart (the latest 500).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from takt.core.time import utcnow, working_days
from takt.items.search import SearchContext, filter_conditions
from takt.metrics import repository as repo
from takt.metrics import snapshots
from takt.metrics.periods import LocalDays, Period, as_date, period, weekdays_of, zone_of
from takt.projects.policies import ProjectAccess

DEFAULT_DAYS = 30
AGE_LIMIT = 50
POINTS_LIMIT = 500
cumulative_flow = snapshots.cumulative_flow

# The answer is plain data in `schemas.FlowMetrics`' shape and field order, written once with
# orjson (`core.openapi.json_data_response`; the route keeps `response_model=` for the schema).
# Over two years it holds 730 cumulative-flow days and 520 throughput days: building them as
# models, then FastAPI checking and writing them again, was about a quarter of the answer's CPU
# (bench/RESULTS.md, session 12). tests/metrics/test_flow_plain.py checks it against the model.


def _days(seconds: Any) -> float | None:
    return None if seconds is None else round(float(seconds) / 86400, 2)


def _durations(found: dict[str, Any], name: str) -> dict[str, Any]:
    """`schemas.FlowDurations`: count, p50, p85, p95."""
    return {
        "count": int(found.get(f"{name}_count") or 0),
        **{f"p{p}": _days(found.get(f"{name}_p{p}")) for p in (50, 85, 95)},
    }


def throughput(span: Period, weekdays: list[str], by_day: list[dict[str, Any]]) -> dict[str, Any]:
    """`schemas.Throughput`."""
    finished_on: dict[date, int] = {}
    for row in by_day:
        day = as_date(row["day"])
        if span.first <= day <= span.last:
            finished_on[day] = int(row["finished"])
    days = working_days(span.first, span.last, weekdays)
    counts = [finished_on.get(day, 0) for day in days]
    series = [{"date": day, "finished": count} for day, count in zip(days, counts, strict=True)]
    on_working_days = sum(counts)
    total = sum(finished_on.values())
    return {
        "finished": total,
        "finished_on_other_days": total - on_working_days,
        "working_days": len(days),
        "per_working_day": round(on_working_days / len(days), 4) if days else None,
        "days": series,
    }


async def flow_metrics(
    session: AsyncSession,
    access: ProjectAccess,
    *,
    start: date | None,
    end: date | None,
    q: str | None,
) -> dict[str, Any]:
    """The answer, in `schemas.FlowMetrics`' shape (see above)."""
    project = access.project
    zone, weekdays, now = zone_of(project), weekdays_of(project), utcnow()
    span = period(project, start, end, as_of=now, default_days=DEFAULT_DAYS)
    dialect = session.get_bind().dialect.name
    items = await filter_conditions(
        session,
        q,
        SearchContext(project_id=project.id, principal_id=access.principal.id, dialect=dialect),
    )
    # Events reach up to now: the days after the period carry the moves back to it.
    days = LocalDays(zone, dialect, span.since, max(now, span.until) + timedelta(days=1))
    statuses = {status.id: status for status in await repo.statuses_of(session, project.id)}
    in_flow = [s.id for s in statuses.values() if s.category not in repo.TERMINAL]
    async with repo.analytic(session):
        state = await snapshots.usable(session, project)
        if state is not None and not items:
            written = await snapshots.flow_from(session, project, state, span, days)
            shown, by_day = written.cumulative_flow, written.finished_by_day
            finishes, points = await snapshots.written_finishes(
                session, project, state, span, POINTS_LIMIT + 1
            )
        else:
            # Filtered with written days: their moves from the rows, joined to the items.
            written_moves = None if state is None else snapshots.written_moves(state, span)
            by_day = await repo.flow_changes_by_day(
                session, project.id, span.since, items, days, written=written_moves
            )
            by_status = await repo.items_by_status(session, project.id, items)
            now_by_category: dict[str, int] = {}
            for status_id, count in by_status.items():
                category = statuses[status_id].category
                now_by_category[category] = now_by_category.get(category, 0) + count
            shown = cumulative_flow(span, now_by_category, by_day)
            # The bands are the filtered items' own: the moves and finishes of the written days
            # come from their rows, narrowed to those items; the days after, from the log.
            parts = (
                snapshots.finish_parts(session, project, state, span, items)
                if state is not None
                else [repo.live_finishes(session, project.id, span.since, span.until, items)]
            )
            finishes, points = await repo.finishes(
                session, parts, POINTS_LIMIT + 1, filtered=bool(items)
            )
        wip, oldest = await repo.oldest_started(session, project.id, items, in_flow, AGE_LIMIT)
    finished = int(finishes.get("finished") or 0)
    cycle = _durations(finishes, "cycle")
    return {
        "project_key": project.key,
        "from": span.first,
        "to": span.last,
        "time_zone": zone,
        "working_days": weekdays,
        "q": q,
        "throughput": throughput(span, weekdays, by_day),
        "cycle_time": {
            **cycle,
            "not_started": finished - cycle["count"],
            "points": [
                {"key": key, "finished_at": at, "cycle_time": _days(seconds)}
                for key, at, seconds in points[:POINTS_LIMIT]
            ],
            "points_cut": len(points) > POINTS_LIMIT,
        },
        "lead_time": _durations(finishes, "lead"),
        "wip": wip,
        "work_item_age": {
            "count": wip,
            "items": [
                {
                    "key": key,
                    "title": title,
                    "status": statuses[status_id].name,
                    "category": statuses[status_id].category,
                    "started_at": started,
                    "age_days": round((now - started).total_seconds() / 86400, 2),
                }
                for key, title, status_id, started in oldest
            ],
        },
        "cumulative_flow": shown,
    }
