"""Metric endpoints: `/projects/{project_key}/metrics/reviews`, `…/dora` and `…/flow`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from takt.core.deps import SessionDep
from takt.core.openapi import json_data_response, problems
from takt.metrics import dora, flow, service
from takt.metrics.periods import day
from takt.metrics.schemas import DoraMetrics, FlowMetrics, Granularity, ReviewMetrics
from takt.projects.deps import ProjectAccessDep

router = APIRouter(tags=["delivery"])

# A day as `YYYY-MM-DD` only (not a number of seconds, which a date parser would also take).
DAY_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# `as_of`: a day, or an RFC 3339 date-time with its offset.
MOMENT_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|z|[+-][0-9]{2}:[0-9]{2}))?$"
)


FromQuery = Annotated[
    str | None,
    Query(
        alias="from",
        pattern=DAY_PATTERN,
        description="First day (`YYYY-MM-DD`, in the project's time zone).",
        examples=["2026-09-01"],
        json_schema_extra={"format": "date"},
    ),
]
ToQuery = Annotated[
    str | None,
    Query(
        pattern=DAY_PATTERN,
        description="Last day, included; default today (never after `as_of`'s day).",
        examples=["2026-11-29"],
        json_schema_extra={"format": "date"},
    ),
]


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
    start, end = day("from", from_), day("to", to)
    return await service.review_metrics(session, access, start=start, end=end)


@router.get(
    "/projects/{project_key}/metrics/dora",
    response_model=DoraMetrics,
    responses=problems(401, 404, 422),
    response_model_by_alias=True,
)
async def dora_metrics(
    access: ProjectAccessDep,
    session: SessionDep,
    environment: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            description="The environment's name (any case); default the project's production "
            "environment (the first of type `production` on the promotion path). A name the "
            "project doesn't have is a 422.",
            examples=["production"],
        ),
    ] = None,
    from_: FromQuery = None,
    to: ToQuery = None,
    as_of: Annotated[
        str | None,
        Query(
            max_length=40,
            pattern=MOMENT_PATTERN,
            description="Recompute as it was at this moment: an RFC 3339 date-time with its "
            "offset, or a day (its end, in the project's time zone). Only what was known then "
            "counts. Default (and at most): now.",
            examples=["2026-11-01T12:00:00Z"],
        ),
    ] = None,
    granularity: Annotated[
        Granularity | None,
        Query(description="Also give the figures per calendar week (Monday first) or month."),
    ] = None,
) -> Response:
    """DORA metrics of an environment over a period (default: the 90 days up to today):
    deployment frequency, change lead time, change failure rate, failed deployment recovery
    time and deployment rework rate, each with its DORA 2024 band and the counts it came from
    (METRICS.md, Delivery)."""
    return json_data_response(
        await dora.dora_metrics(
            session,
            access,
            environment=environment,
            start=day("from", from_),
            end=day("to", to),
            as_of=as_of,
            granularity=granularity,
        )
    )


@router.get(
    "/projects/{project_key}/metrics/flow",
    response_model=FlowMetrics,
    responses=problems(400, 401, 404, 422),
    response_model_by_alias=True,
)
async def flow_metrics(
    access: ProjectAccessDep,
    session: SessionDep,
    from_: FromQuery = None,
    to: ToQuery = None,
    q: Annotated[
        str | None,
        Query(
            max_length=1000,
            description="Only the items matching this filter (the items list's filter "
            "language, e.g. `type:bug label:api`); a query that can't be used answers 400 "
            "`invalid-query`.",
            examples=["type:story -label:legacy"],
        ),
    ] = None,
) -> Response:
    """Flow metrics of the project's items over a period (default: the 30 days up to today):
    throughput per working day, cycle and lead time (P50, P85, P95), WIP, the age of the items
    in progress (oldest first) and the cumulative flow per status category and day
    (METRICS.md, Flow)."""
    return json_data_response(
        await flow.flow_metrics(session, access, start=day("from", from_), end=day("to", to), q=q)
    )
