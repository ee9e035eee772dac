"""Evidence cards: what a retro tied to a sprint opens with, computed from the sprint's data.

Each card says where its number comes from: the carry-over rate and the scope change
(docs/metrics.md, Sprint: the frozen report of a completed sprint, or the same formulas on the
items of an active one now), the sprint's oldest blockers, the review wait of the pull requests
first reviewed during the sprint (docs/metrics.md, Code review; only for a project with linked
repositories) and the deployments that failed during it (those that needed remediation, as
DORA's change failure rate counts them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from takt.blockers import service as blockers
from takt.core.time import utcnow
from takt.delivery import repository as delivery_repo
from takt.projects.models import Project
from takt.retros import repository as repo
from takt.sprints import reports
from takt.sprints import repository as sprints_repo
from takt.sprints.models import Sprint

OLDEST_BLOCKERS = 3
FAILED_DEPLOYMENTS = 3
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


def _nearest_rank(ordered: list[float], share: float) -> float:
    """The smallest value with at least `share` of the values at or below it."""
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _hours(value: float) -> str:
    return f"{value:.1f} h"


async def _review_wait(
    session: AsyncSession, project: Project, sprint: Sprint, now: datetime
) -> list[Evidence]:
    """Time to first review (first review - ready for review) of the pull requests first
    reviewed during the sprint: its P50 and P85, nearest-rank. None for a project with no
    linked repository (it doesn't review through Takt)."""
    if not await delivery_repo.repositories_named(session, project.id):
        return []
    start, end = _window(sprint, now)
    rows = await delivery_repo.review_metric_rows(session, project.id, start, end)
    waits = sorted(float(row[1]) for row in rows if row[1] is not None)
    period = f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
    source = (
        "Time to first review = first review - ready for review, over the pull requests "
        f"first reviewed from {period}; P50 and P85 nearest-rank (docs/metrics.md, Code "
        f"review; GET /api/v1/projects/{project.key}/metrics/reviews)."
    )
    if not waits:
        text = "Review wait: no pull request was first reviewed during the sprint."
        return [Evidence("review_wait", None, text, source)]
    p50, p85 = _nearest_rank(waits, 0.5), _nearest_rank(waits, 0.85)
    count = f"{len(waits)} pull request{'s' if len(waits) != 1 else ''}"
    text = (
        f"Review wait: half the pull requests waited {_hours(p50)} or less for a first review, "
        f"85 % waited {_hours(p85)} or less ({count} first reviewed during the sprint)."
    )
    return [Evidence("review_wait", round(p50, 2), text, source)]


def _failure_why(row: repo.FailedDeploymentRow) -> str:
    reasons = []
    if row.incident_number is not None:
        title = row.incident_title or ""
        title = title if len(title) <= 120 else title[:119] + "…"
        reasons.append(f"incident INC-{row.incident_number} {title}".rstrip())
    if row.deployment.state == "rolled_back":
        reasons.append("rolled back")
    if row.hotfixed:
        reasons.append("hotfixed")
    return ", ".join(reasons) or "needed remediation"


async def _failed_deployments(
    session: AsyncSession, project: Project, sprint: Sprint, now: datetime
) -> list[Evidence]:
    """The deployments that failed during the sprint (an incident caused by them, a rollback
    of them, or a hotfix fixing them), the earliest first; `value` is the hours until service
    was restored, null while it is not."""
    start, end = _window(sprint, now)
    total, rows = await repo.failed_deployments_during(
        session, project.id, start, end, FAILED_DEPLOYMENTS
    )
    found = []
    for index, row in enumerate(rows, start=1):
        deployment = row.deployment
        assert deployment.failed_at is not None
        name = deployment.release_version or (deployment.sha or "")[:7] or "a deployment"
        restored = deployment.restored_at
        hours = None
        if restored is not None:
            hours = round((restored - deployment.failed_at).total_seconds() / 3600, 2)
        after = "not restored yet" if hours is None else f"restored after {hours:g} h"
        more = ""
        if index == len(rows) and total > len(rows):
            more = f" {total - len(rows)} more failed during the sprint."
        found.append(
            Evidence(
                "failed_deployment",
                hours,
                f"Deployment {name} to {row.environment} failed "
                f"{deployment.failed_at:%Y-%m-%d %H:%M} UTC ({_failure_why(row)}); {after}."
                f"{more}",
                f"Deployment {deployment.id} (GET /api/v1/deployments/{deployment.id}): "
                "failed when it first needed remediation (an incident it caused, a rollback, a "
                "hotfix), restored when the incident was resolved or the fix succeeded; "
                "DORA's failed deployment recovery time (docs/metrics.md, Delivery).",
            )
        )
    return found


async def evidence_for(session: AsyncSession, project: Project, sprint: Sprint) -> list[Evidence]:
    """The evidence cards of a retro on `sprint`, computed now."""
    now = utcnow()
    report, which = await _report(session, project, sprint, now)
    return [
        *_rates(report, which),
        *await _oldest_blockers(session, project, sprint, now),
        *await _review_wait(session, project, sprint, now),
        *await _failed_deployments(session, project, sprint, now),
    ]
