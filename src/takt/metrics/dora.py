"""DORA metrics of one environment, exactly as METRICS.md (Delivery) defines them, with the
DORA 2024 bands:

- deployment frequency: successful deployments per day and per week, and the median time
  between consecutive ones;
- change lead time: the median of deployed - committed over the commits shipped by successful
  deployments (non-positive values excluded);
- change failure rate: deployments that needed remediation (`failed_at`: an incident caused by
  it, a rollback of it or a hotfix fixing it) / all deployments;
- failed deployment recovery time: the median of restored - failure start;
- deployment rework rate: hotfixes, rollbacks and deployments fixing another (or an incident)
  / all deployments.

"Deployments" are those that went live in the period: succeeded (by `succeeded_at`, rolled
back since or not). One that finished in `failure` never went live: it needed no remediation
(`takt.deployments` doesn't mark it failed) and counts nowhere.

`as_of` recomputes the answer as it was at a moment: only deployments that succeeded by then,
failures and restorations known by then, and incidents opened by then count, so the answer
equals the one given at that moment (as long as facts are reported when they happen: a
rollback or an incident reported later with an earlier time changes the past too).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from takt.core.errors import ValidationFailed
from takt.deployments.models import Environment
from takt.metrics import repository as repo
from takt.metrics.periods import (
    Granularity,
    LocalDays,
    Period,
    as_date,
    buckets,
    moment,
    period,
    zone_of,
)
from takt.metrics.schemas import (
    BAND_SET,
    DoraBand,
)
from takt.projects.policies import ProjectAccess

DEFAULT_DAYS = 90
HOUR, DAY = 3600.0, 86400.0
WEEK, MONTH = 7 * DAY, 30 * DAY


# Bands (DORA 2024) ---------------------------------------------------------------------------


def frequency_band(per_day: float) -> DoraBand:
    """elite: on demand (more than once a day); high: daily to weekly; medium: weekly to
    monthly; low: less often. A boundary belongs to the better band."""
    if per_day > 1:
        return "elite"
    if per_day >= 1 / 7:
        return "high"
    if per_day >= 1 / 30:
        return "medium"
    return "low"


def lead_time_band(seconds: float | None) -> DoraBand | None:
    """elite: under a day; high: a day to a week; medium: a week to a month; low: longer."""
    if seconds is None:
        return None
    if seconds < DAY:
        return "elite"
    if seconds < WEEK:
        return "high"
    if seconds < MONTH:
        return "medium"
    return "low"


def failure_rate_band(rate: float | None) -> DoraBand | None:
    """DORA 2024's clusters are not in order of their rates (elite about 5 %, high about 20 %,
    medium about 10 %, low about 40 %): the band whose typical rate is nearest, a midpoint
    going to the lower rate."""
    if rate is None:
        return None
    if rate <= 0.075:
        return "elite"
    if rate <= 0.15:
        return "medium"
    if rate <= 0.30:
        return "high"
    return "low"


def recovery_band(seconds: float | None) -> DoraBand | None:
    """elite: under an hour; high and medium: under a day (the same in DORA 2024: high, the
    better); low: longer (DORA 2024 says a week to a month, and names no band between)."""
    if seconds is None:
        return None
    if seconds < HOUR:
        return "elite"
    if seconds < DAY:
        return "high"
    return "low"


# The answer ----------------------------------------------------------------------------------


def _hours(seconds: Any) -> float | None:
    return None if seconds is None else round(float(seconds) / HOUR, 2)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(days: int, deployments: dict[str, Any], leads: dict[str, Any]) -> dict[str, Any]:
    """The five metrics from the aggregates of one period (or one week or month of it): the
    deployments' (with the gaps between them) and the shipped commits'. Plain data in
    `schemas.DoraFigures`' shape and field order (see `dora_metrics`)."""
    live = int(deployments.get("deployments", 0))
    per_day = live / days
    failed = int(deployments.get("failed", 0))
    restored, rework = int(deployments.get("restored", 0)), int(deployments.get("rework", 0))
    recovery = deployments.get("recovery_p50")
    lead = leads.get("lead_p50")
    timed, counted = int(leads.get("commits_timed", 0)), int(leads.get("lead_count", 0))
    rate = _ratio(failed, live)
    return {
        "deployment_frequency": {
            "successful": live,
            "days": days,
            "per_day": round(per_day, 4),
            "per_week": round(per_day * 7, 4),
            "intervals": int(deployments.get("interval_count", 0)),
            "median_hours_between": _hours(deployments.get("interval_p50")),
            "band": frequency_band(per_day),
        },
        "change_lead_time": {
            "commits": int(leads.get("commits", 0)),
            "commits_with_time": timed,
            "counted": counted,
            "excluded_non_positive": timed - counted,
            "deployments_with_unknown_commits": int(deployments.get("unknown_commits", 0)),
            "median_hours": _hours(lead),
            "band": lead_time_band(None if lead is None else float(lead)),
        },
        "change_failure_rate": {
            "deployments": live,
            "failed": failed,
            "rate": rate,
            "band": failure_rate_band(rate),
        },
        "failed_deployment_recovery_time": {
            "failed": failed,
            "restored": restored,
            "unrestored": failed - restored,
            "median_hours": _hours(recovery),
            "band": recovery_band(None if recovery is None else float(recovery)),
        },
        "deployment_rework_rate": {
            "deployments": live,
            "rework": rework,
            "hotfixes": int(deployments.get("hotfixes", 0)),
            "rollbacks": int(deployments.get("rollbacks", 0)),
            "fixing": int(deployments.get("fixing", 0)),
            "rate": _ratio(rework, live),
            "band": None,
        },
    }


async def environment_of(session: AsyncSession, project_id: str, name: str | None) -> Environment:
    """The environment asked for by name, or the project's production environment (the first
    of type production along the promotion path); 422 at `/environment` when there is none."""
    if name is None:
        found = await repo.production_environment(session, project_id)
        if found is None:
            raise ValidationFailed.at(
                "/environment",
                "no production environment",
                detail="The project has no production environment: name one with `environment`.",
            )
        return found
    found = await repo.environment_named(session, project_id, name)
    if found is None:
        raise ValidationFailed.at(
            "/environment",
            "unknown environment",
            detail=f"The project has no environment named {name!r}.",
        )
    return found


async def dora_metrics(
    session: AsyncSession,
    access: ProjectAccess,
    *,
    environment: str | None,
    start: date | None,
    end: date | None,
    as_of: str | None,
    granularity: Granularity | None,
) -> dict[str, Any]:
    """The answer: plain data in `schemas.DoraMetrics`' shape and field order, written once
    with orjson (`core.openapi.json_data_response`; the route keeps `response_model=` for the
    schema). A two-year weekly answer holds 105 points of five figures each: building them as
    models, then FastAPI checking and writing them again, cost a good part of its server time
    (bench/RESULTS.md, session 12). tests/metrics/test_dora_plain.py checks it against the
    model."""
    project = access.project
    zone = zone_of(project)
    at = moment(as_of, zone)
    span = period(project, start, end, as_of=at, default_days=DEFAULT_DAYS)
    env = await environment_of(session, project.id, environment)
    query = repo.DoraQuery(
        environment_id=env.id,
        span=span,
        days=LocalDays(zone, session.get_bind().dialect.name, span.since, span.until),
        granularity=granularity,
    )
    async with repo.analytic(session):
        deployments = await repo.deployment_figures(session, query)
        leads = await repo.lead_time_figures(session, query)
    overall = figures(span.days, deployments.get(None, {}), leads.get(None, {}))
    series = None
    if granularity is not None:
        series = _series(span, granularity, (deployments, leads))
    return {
        "project_key": project.key,
        "environment": {"id": env.id, "name": env.name, "type": env.type},
        "from": span.first,
        "to": span.last,
        "as_of": at,
        "time_zone": zone,
        "band_set": BAND_SET,
        **overall,
        "granularity": granularity,
        "series": series,
    }


def _series(
    span: Period,
    granularity: Granularity,
    found: tuple[dict[Any, dict[str, Any]], dict[Any, dict[str, Any]]],
) -> list[dict[str, Any]]:
    """Each week or month of the period, from the aggregates per bucket (a bucket with
    nothing in it has no row: zeros); `schemas.DoraPoint`'s shape."""
    deployments, leads = (
        {as_date(key): value for key, value in each.items() if key is not None} for each in found
    )
    return [
        {
            "from": bucket.first,
            "to": bucket.last,
            **figures(bucket.days, deployments.get(bucket.key, {}), leads.get(bucket.key, {})),
        }
        for bucket in buckets(span, granularity)
    ]
