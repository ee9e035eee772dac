"""Sprint rows to the API's response shapes: the one place a `Sprint` becomes a `SprintRead`."""

from __future__ import annotations

from typing import Any

from takt.sprints.models import Sprint
from takt.sprints.release_directory import IN_PRODUCTION, NOT_IN_PRODUCTION
from takt.sprints.schemas import Commitment, ReviewItem, SprintRead, SprintReport, SprintReview


def commitment_read(frozen: list[dict[str, Any]] | None) -> Commitment | None:
    """The frozen commitment as counts and keys (null before the start)."""
    if frozen is None:
        return None
    return Commitment(
        items=len(frozen),
        points=round(sum(c["estimate"] or 0 for c in frozen), 4),
        keys=[c["key"] for c in frozen],
    )


def report_read(report: dict[str, Any]) -> SprintReport:
    return SprintReport.model_validate(report)


async def sprint_read(sprint: Sprint, project_key: str) -> SprintRead:
    """The sprint as the API shows it. Async for one reason: the commitment column is deferred
    (see models.py), so it is loaded here, where it is shown, and by no request that doesn't
    show it. A list's statement undefers it, so a page costs no statement per sprint."""
    frozen = await sprint.awaitable_attrs.commitment
    return SprintRead(
        id=sprint.id,
        project_key=project_key,
        name=sprint.name,
        goal=sprint.goal,
        start_date=sprint.start_date,
        end_date=sprint.end_date,
        state=sprint.state,
        started_at=sprint.started_at,
        completed_at=sprint.completed_at,
        commitment=commitment_read(frozen),
        report=report_read(sprint.report) if sprint.report else None,
        created_at=sprint.created_at,
        updated_at=sprint.updated_at,
        version=sprint.version,
    )


def review_read(sprint: Sprint, rows: list[Any]) -> SprintReview:
    """The sprint review from `reports.review_rows`' rows (every row carries the totals)."""
    done = int(rows[0][6]) if rows else 0
    shipped = int(rows[0][7]) if rows else 0
    return SprintReview(
        sprint_id=sprint.id,
        name=sprint.name,
        state=sprint.state,
        done=done,
        in_production=shipped,
        not_in_production=done - shipped,
        items=[
            ReviewItem(
                key=key,
                title=title,
                type=type_,
                estimate=estimate,
                status=status,
                production=IN_PRODUCTION if shipped_at is not None else NOT_IN_PRODUCTION,
                in_production_since=shipped_at,
            )
            for key, title, type_, estimate, status, shipped_at, _, _ in rows
        ],
        truncated=len(rows) < done,
    )
