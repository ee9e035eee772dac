"""Metric endpoints: `/projects/{project_key}/metrics/reviews` (coming: DORA and flow)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from takt.core.deps import SessionDep
from takt.core.openapi import problems
from takt.metrics import service
from takt.metrics.schemas import ReviewMetrics
from takt.projects.deps import ProjectAccessDep

router = APIRouter(tags=["delivery"])

# A day as `YYYY-MM-DD` only (not a number of seconds, which a date parser would also take).
DAY_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


@router.get(
    "/projects/{project_key}/metrics/reviews",
    responses=problems(401, 404, 422),
    response_model_by_alias=True,
)
async def review_metrics(
    access: ProjectAccessDep,
    session: SessionDep,
    from_: Annotated[
        str | None,
        Query(
            alias="from",
            pattern=DAY_PATTERN,
            description="First day (`YYYY-MM-DD`, in the project's time zone); default 29 days "
            "before `to`.",
            examples=["2026-11-01"],
            json_schema_extra={"format": "date"},
        ),
    ] = None,
    to: Annotated[
        str | None,
        Query(
            pattern=DAY_PATTERN,
            description="Last day, included; default today.",
            examples=["2026-11-30"],
            json_schema_extra={"format": "date"},
        ),
    ] = None,
) -> ReviewMetrics:
    """Code review over a period, overall and per repository: time to first review and to
    merge (P50, P85), review rounds, pull requests merged without an approving review, and
    their sizes (METRICS.md, Code review)."""
    start, end = service.day("from", from_), service.day("to", to)
    return await service.review_metrics(session, access, start=start, end=end)
