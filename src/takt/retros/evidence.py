"""Evidence cards: what a retro tied to a sprint opens with, computed from the sprint's data.

Each card says where its number comes from. Today: the carry-over rate and the scope change
(docs/metrics.md, Sprint: the frozen report of a completed sprint, or the same formulas on the
items of an active one now) and the sprint's oldest blockers. Review wait and failed
deployments join once the delivery domain exists (issue 15).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from takt.blockers import service as blockers
from takt.core.time import utcnow
from takt.projects.models import Project
from takt.retros import repository as repo
from takt.sprints import reports
from takt.sprints import repository as sprints_repo
from takt.sprints.models import Sprint

OLDEST_BLOCKERS = 3
METRICS_DOC = "docs/metrics.md, Sprint"


@dataclass(frozen=True)
class Evidence:
    metric: str
    value: float | None
    text: str
    source: str


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.0f} %"


def _points(value: Any) -> str:
    return f"{float(value or 0):g}"


def _ratio(report: dict[str, Any], name: str) -> float | None:
    """The report's ratio, or (for a report frozen before the ratio was stored) the same from
    its tallies."""
    if name in report:
        value = report[name]
        return None if value is None else float(value)
    committed = float(report["committed"]["points"] or 0)
    if not committed:
        return None
    if name == "carry_over_rate":
        return round(float(report["carried_over"]["points"] or 0) / committed, 4)
    added, removed = report["added"]["points"] or 0, report["removed"]["points"] or 0
    return round((float(added) - float(removed)) / committed, 4)


async def _report(
    session: AsyncSession, project: Project, sprint: Sprint, now: datetime
) -> tuple[dict[str, Any] | None, str]:
    """The sprint's report and a phrase saying which: the frozen one of a completed sprint, or
    an active sprint's figures as if it completed now; (None, why) for the others."""
    if sprint.state == "completed" and sprint.report is not None:
        return sprint.report, (
            f"the frozen report of sprint {sprint.name} (GET /api/v1/sprints/{sprint.id}/report)"
        )
    if sprint.state == "active":
        current = await sprints_repo.items_with_category(session, sprint.id)
        report = await reports.final_report(session, project, sprint, current, now)
        return report, (
            f"sprint {sprint.name}, still active, as of {now:%Y-%m-%d %H:%M} UTC: the sprint "
            "report's formulas applied to its items now"
        )
    why = "has not started" if sprint.state == "planned" else "was cancelled"
    return None, f"sprint {sprint.name} {why}, so it has no commitment to compare with"


def _rates(report: dict[str, Any] | None, which: str) -> list[Evidence]:
    if report is None:
        why = f"Not measured: {which} ({METRICS_DOC})."
        return [
            Evidence("carry_over_rate", None, "Carry-over: not measured.", why),
            Evidence("scope_change", None, "Scope change: not measured.", why),
        ]
    committed = report["committed"]
    carry = _ratio(report, "carry_over_rate")
    scope = _ratio(report, "scope_change")
    carried, added, removed = report["carried_over"], report["added"], report["removed"]
    if carry is None:
        carry_text = "Carry-over: nothing was committed, so there is no rate."
    else:
        carry_text = (
            f"Carry-over: {_percent(carry)} of the commitment was not done "
            f"({_points(carried['points'])} of {_points(committed['points'])} points, "
            f"{carried['items']} items)."
        )
    if scope is None:
        scope_text = "Scope change: nothing was committed, so there is no rate."
    else:
        scope_text = (
            f"Scope change: {'+' if scope > 0 else ''}{_percent(scope)} of the commitment "
            f"({_points(added['points'])} points added, {_points(removed['points'])} removed "
            "after the start)."
        )
    return [
        Evidence(
            "carry_over_rate",
            carry,
            carry_text,
            f"carried_over.points / committed.points from {which} ({METRICS_DOC}).",
        ),
        Evidence(
            "scope_change",
            scope,
            scope_text,
            f"(added.points - removed.points) / committed.points from {which} ({METRICS_DOC}).",
        ),
    ]


def _window(sprint: Sprint, now: datetime) -> tuple[datetime, datetime]:
    start = sprint.started_at or datetime.combine(sprint.start_date, time(), tzinfo=UTC)
    return start, sprint.completed_at or now


async def _oldest_blockers(
    session: AsyncSession, project: Project, sprint: Sprint, now: datetime
) -> list[Evidence]:
    """The blockers on the sprint's items (any item that was ever in it) that were open at
    some moment of the sprint, the earliest raised first."""
    items = set(await sprints_repo.scope_subjects(session, project.id, sprint.id))
    items |= {item.id for item, _ in await sprints_repo.items_with_category(session, sprint.id)}
    start, end = _window(sprint, now)
    rows = await repo.blockers_during(
        session, project.id, sorted(items), start, end, OLDEST_BLOCKERS
    )
    calendar = blockers.calendar_of(project)
    found = []
    for row in rows:
        blocker = row.blocker
        age = round(blockers.age_hours(blocker, calendar, now), 1)
        state = "still open" if blocker.status == "open" else "resolved"
        reason = blocker.reason if len(blocker.reason) <= 300 else blocker.reason[:299] + "…"
        found.append(
            Evidence(
                "blocker",
                age,
                f"{row.item_key} blocked for {age:g} working hours ({state}): {reason}",
                f"Blocker {blocker.id} (GET /api/v1/blockers/{blocker.id}), raised "
                f"{blocker.raised_at:%Y-%m-%d %H:%M} UTC; its age in working hours of the "
                "project's calendar (docs/blockers-and-risks.md).",
            )
        )
    return found


async def evidence_for(session: AsyncSession, project: Project, sprint: Sprint) -> list[Evidence]:
    """The evidence cards of a retro on `sprint`, computed now."""
    now = utcnow()
    report, which = await _report(session, project, sprint, now)
    return [*_rates(report, which), *await _oldest_blockers(session, project, sprint, now)]
