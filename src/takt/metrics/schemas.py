"""Shapes of the review metrics (METRICS.md, Code review)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


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
