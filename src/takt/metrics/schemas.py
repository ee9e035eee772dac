"""Shapes of the metrics answers (METRICS.md): code review, delivery (DORA) and flow."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field
from typing_extensions import TypeAliasType

# DORA's environment: the shape deployments' answers use (one schema component, not two).
from takt.deployments.schemas import EnvironmentRef as EnvironmentRef


class Durations(BaseModel):
    """Durations in hours over the pull requests counted (nearest-rank percentiles, as every
    percentile Takt reports)."""

    count: int = Field(description="Pull requests counted.")
    p50: float | None = Field(description="The median, in hours (null when none counted).")
    p85: float | None = Field(description="The 85th percentile, in hours.")


class Rounds(BaseModel):
    total: int = Field(description="Review rounds of the pull requests merged in the period.")
    mean: float | None = Field(description="Per merged pull request (null when none merged).")
    max: int | None


class WithoutApproval(BaseModel):
    count: int = Field(description="Merged in the period with no approving review standing.")
    share: float | None = Field(description="Of the pull requests merged (0 to 1).")


class Sizes(BaseModel):
    """Merged pull requests by lines changed (additions + deletions)."""

    xs: int = Field(description="Up to 10 lines.")
    s: int = Field(description="11 to 100 lines.")
    m: int = Field(description="101 to 400 lines.")
    l: int = Field(description="401 to 1,000 lines.")  # noqa: E741 - the size's name
    xl: int = Field(description="More than 1,000 lines.")
    unknown: int = Field(description="The provider didn't say (GitLab's webhooks don't).")


class ReviewStats(BaseModel):
    time_to_first_review: Durations = Field(
        description="First review - ready for review, for pull requests first reviewed in the "
        "period."
    )
    time_to_merge: Durations = Field(
        description="Merged - ready for review, for pull requests merged in the period."
    )
    merged: int = Field(description="Pull requests merged in the period.")
    review_rounds: Rounds = Field(
        description='Each "changes requested" followed by a new review request, over the pull '
        "requests merged in the period."
    )
    merged_without_approval: WithoutApproval
    size: Sizes


class RepositoryReviewStats(ReviewStats):
    repository_id: str
    repository: str = Field(examples=["acme/api"])
    provider: str


class ReviewMetrics(BaseModel):
    project_key: str
    from_: dt.date = Field(alias="from", description="First day counted (the project's time zone).")
    to: dt.date = Field(description="Last day counted (included).")
    time_zone: str
    overall: ReviewStats
    repositories: list[RepositoryReviewStats] = Field(
        description="Each linked repository, by name (those with nothing in the period too)."
    )

    model_config = {"populate_by_name": True}


# DORA ----------------------------------------------------------------------------------------

DoraBand = TypeAliasType("DoraBand", Literal["elite", "high", "medium", "low"])
Granularity = TypeAliasType("Granularity", Literal["week", "month"])
BAND_SET = "DORA 2024"


class DeploymentFrequency(BaseModel):
    successful: int = Field(
        description="Deployments that succeeded in the period (rolled back since or not)."
    )
    days: int = Field(description="Days of the period.")
    per_day: float = Field(description="successful / days.", examples=[0.93])
    per_week: float = Field(description="per_day x 7.", examples=[6.53])
    intervals: int = Field(
        description="Gaps between consecutive successful deployments in the period."
    )
    median_hours_between: float | None = Field(
        description="The median gap, in hours (null with fewer than two deployments).",
        examples=[20.5],
    )
    band: DoraBand = Field(
        description="elite: more than one a day; high: daily to weekly; medium: weekly to "
        "monthly (30 days); low: less often."
    )


class ChangeLeadTime(BaseModel):
    commits: int = Field(
        description="Commits shipped by the period's successful deployments (those rolled "
        "back excluded: their commits ship again)."
    )
    commits_with_time: int = Field(description="Of those, with a known commit time.")
    counted: int = Field(description="Of those, deployed after their commit: the values.")
    excluded_non_positive: int = Field(
        description="Commits with a time that were not deployed after it (excluded)."
    )
    deployments_with_unknown_commits: int = Field(
        description="Successful deployments whose shipped commits Takt couldn't establish (the "
        "previous deployment's commit or their own was never seen): they add no values."
    )
    median_hours: float | None = Field(description="deployed - committed, median, in hours.")
    band: DoraBand | None = Field(
        description="elite: under a day; high: a day to a week; medium: a week to a month; low: "
        "a month or more; null when nothing was counted."
    )


class ChangeFailureRate(BaseModel):
    deployments: int = Field(
        description="Deployments that went live (succeeded) in the period, rolled back since or "
        "not; one that finished in `failure` never went live and counts nowhere."
    )
    failed: int = Field(
        description="Of those, needing remediation by `as_of`: an incident caused by it, a "
        "rollback of it, or a hotfix fixing it."
    )
    rate: float | None = Field(description="failed / deployments (0 to 1).", examples=[0.1])
    band: DoraBand | None = Field(
        description="The band whose typical rate is nearest (DORA 2024: elite about 5 %, "
        "medium about 10 %, high about 20 %, low about 40 %): elite up to 7.5 %, medium up to "
        "15 %, high up to 30 %, low above."
    )


class RecoveryTime(BaseModel):
    failed: int = Field(description="Failed deployments of the period (as in the failure rate).")
    restored: int = Field(description="Of those, restored by `as_of`: the values.")
    unrestored: int = Field(description="Of those, not restored by `as_of`.")
    median_hours: float | None = Field(description="restored - failure start, median, in hours.")
    band: DoraBand | None = Field(
        description="elite: under an hour; high (and medium, the same in DORA 2024): under a "
        "day; low: a day or more; null when none was restored."
    )


class ReworkRate(BaseModel):
    deployments: int = Field(description="Deployments that went live in the period.")
    rework: int = Field(
        description="Of those, unplanned: hotfixes, rollbacks, or fixing another deployment or "
        "an incident."
    )
    hotfixes: int
    rollbacks: int
    fixing: int = Field(
        description="Naming the deployment they fix, or named as an incident's fix (a "
        "deployment may be several of these kinds)."
    )
    rate: float | None = Field(description="rework / deployments (0 to 1).")
    band: DoraBand | None = Field(
        description="Always null: DORA 2024 publishes no bands for rework rate."
    )


class DoraFigures(BaseModel):
    deployment_frequency: DeploymentFrequency
    change_lead_time: ChangeLeadTime
    change_failure_rate: ChangeFailureRate
    failed_deployment_recovery_time: RecoveryTime
    deployment_rework_rate: ReworkRate


class _PointSpan(BaseModel):
    from_: dt.date = Field(
        alias="from", description="First day of this week or month (cut to the period)."
    )
    to: dt.date

    model_config = {"populate_by_name": True}


class DoraPoint(DoraFigures, _PointSpan):
    """One week or month of the series (its days first)."""

    model_config = {"populate_by_name": True}


class _DoraHead(BaseModel):
    """What a DORA answer is about (its fields come first)."""

    project_key: str
    environment: EnvironmentRef
    from_: dt.date = Field(alias="from", description="First day counted (the project's time zone).")
    to: dt.date = Field(description="Last day counted (included; never after `as_of`).")
    as_of: dt.datetime = Field(
        description="Only what was known at this moment counts (default: now)."
    )
    time_zone: str
    band_set: Literal["DORA 2024"] = Field(description="The bands' source.")

    model_config = {"populate_by_name": True}


class DoraMetrics(DoraFigures, _DoraHead):
    granularity: Granularity | None
    series: list[DoraPoint] | None = Field(
        description="With `granularity`: the same figures per calendar week (Monday first) or "
        "month, cut to the period."
    )

    model_config = {"populate_by_name": True}


# Flow ----------------------------------------------------------------------------------------


class ThroughputDay(BaseModel):
    date: dt.date
    finished: int


class Throughput(BaseModel):
    finished: int = Field(description="Entries into a done status in the period.")
    finished_on_other_days: int = Field(
        description="Of those, on days that aren't working days (not in the daily series)."
    )
    working_days: int
    per_working_day: float | None = Field(
        description="Finished on working days / working days (zero days count)."
    )
    days: list[ThroughputDay] = Field(description="Each working day of the period.")


class FlowDurations(BaseModel):
    """Elapsed days (24 hours), nearest-rank percentiles."""

    count: int
    p50: float | None
    p85: float | None
    p95: float | None


class CycleTimePoint(BaseModel):
    """One finish of the period (an item finishing twice is two points)."""

    key: str = Field(examples=["API-12"])
    finished_at: dt.datetime = Field(description="When the item entered a done status.")
    cycle_time: float | None = Field(
        description="finished - started, in days; null when the item hadn't started by then."
    )


class CycleTime(FlowDurations):
    not_started: int = Field(
        description="Finishes of items that never entered an in-progress status before."
    )
    points: list[CycleTimePoint] = Field(
        description="The period's finishes for a scatter chart, latest first: at most 500 "
        "(`points_cut` says when there were more; the percentiles count them all)."
    )
    points_cut: bool = Field(description="More finishes than `points` holds.")


class AgedItem(BaseModel):
    key: str = Field(examples=["API-12"])
    title: str
    status: str
    category: str
    started_at: dt.datetime
    age_days: float = Field(description="now - started, in days.")


class WorkItemAge(BaseModel):
    count: int = Field(description="Items started and not finished now (the WIP).")
    items: list[AgedItem] = Field(description="The oldest first, at most 50.")


class CumulativeFlowDay(BaseModel):
    """Items in that category or a later one at the end of the day (backlog, todo,
    in_progress, in_review, done); `cancelled` apart."""

    date: dt.date
    backlog: int
    todo: int
    in_progress: int
    in_review: int
    done: int
    cancelled: int


class FlowMetrics(BaseModel):
    project_key: str
    from_: dt.date = Field(alias="from", description="First day counted (the project's time zone).")
    to: dt.date = Field(description="Last day counted (included; never after today).")
    time_zone: str
    working_days: list[str] = Field(examples=[["mon", "tue", "wed", "thu", "fri"]])
    q: str | None = Field(description="The filter applied to the items.")
    throughput: Throughput
    cycle_time: CycleTime = Field(description="finished - started, over the period's finishes.")
    lead_time: FlowDurations = Field(description="finished - created, over the same finishes.")
    wip: int = Field(description="Items started and not finished now (done or cancelled).")
    work_item_age: WorkItemAge
    cumulative_flow: list[CumulativeFlowDay] = Field(description="Each day of the period.")

    model_config = {"populate_by_name": True}
