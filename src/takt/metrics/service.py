"""Review metrics, exactly as METRICS.md defines them (Code review):

- time to first review = first review - ready for review, over the pull requests whose first
  review falls in the period;
- time to merge = merged - ready for review, over those merged in the period;
- review rounds = each "changes requested" followed by a new review request, and merged
  without review = merged with no approving review standing, over those merged in the period;
- sizes of those merged, by lines changed.

"Ready for review" is when a pull request was opened, or marked ready if it was opened as a
draft. Percentiles are nearest-rank (as the sprint forecasts'). Read-only: one indexed
statement of columns, the arithmetic here.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from takt.core.errors import ValidationFailed
from takt.core.time import end_of_day, local_date, utcnow
from takt.delivery import repository as delivery_repo
from takt.metrics.periods import day as day  # the reviews' callers read it here
from takt.metrics.schemas import (
    Durations,
    RepositoryReviewStats,
    ReviewMetrics,
    ReviewStats,
    Rounds,
    Sizes,
    WithoutApproval,
)
from takt.projects.policies import ProjectAccess

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366
SIZE_LIMITS = delivery_repo.SIZE_LIMITS


def percentile(sorted_values: Sequence[float], percent: float) -> float:
    """The nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(percent / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def size_of(additions: int | None, deletions: int | None) -> str:
    if additions is None and deletions is None:
        return "unknown"
    lines = (additions or 0) + (deletions or 0)
    for name, limit in SIZE_LIMITS:
        if lines <= limit:
            return name
    return "xl"


@dataclass
class _Tally:
    """One repository's (or the overall) figures, worked out in Python from the rows: the
    reference for what PostgreSQL's aggregate statement computes."""

    first_review: list[float] = field(default_factory=list)
    to_merge: list[float] = field(default_factory=list)
    rounds: list[int] = field(default_factory=list)
    without_approval: int = 0
    sizes: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def aggregate(self) -> dict[str, Any]:
        reviewed, merged = sorted(self.first_review), sorted(self.to_merge)
        return {
            "reviewed": len(reviewed),
            "review_p50": percentile(reviewed, 50) if reviewed else None,
            "review_p85": percentile(reviewed, 85) if reviewed else None,
            "merged": len(merged),
            "merge_p50": percentile(merged, 50) if merged else None,
            "merge_p85": percentile(merged, 85) if merged else None,
            "rounds_total": sum(self.rounds),
            "rounds_max": max(self.rounds) if self.rounds else None,
            "without_approval": self.without_approval,
            **{name: self.sizes.get(name, 0) for name in SIZES},
        }


SIZES = ("xs", "s", "m", "l", "xl", "unknown")


def _rounded(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


def stats_of(found: dict[str, Any]) -> ReviewStats:
    """The answer's figures from one aggregate (of the rows, or of PostgreSQL's statement)."""
    merged = int(found["merged"])
    total = int(found["rounds_total"] or 0)
    without = int(found["without_approval"])
    return ReviewStats(
        time_to_first_review=Durations(
            count=int(found["reviewed"]),
            p50=_rounded(found["review_p50"]),
            p85=_rounded(found["review_p85"]),
        ),
        time_to_merge=Durations(
            count=merged, p50=_rounded(found["merge_p50"]), p85=_rounded(found["merge_p85"])
        ),
        merged=merged,
        review_rounds=Rounds(
            total=total,
            mean=round(total / merged, 2) if merged else None,
            max=int(found["rounds_max"]) if merged and found["rounds_max"] is not None else None,
        ),
        merged_without_approval=WithoutApproval(
            count=without, share=round(without / merged, 4) if merged else None
        ),
        size=Sizes(**{name: int(found[name]) for name in SIZES}),
    )


def period(access: ProjectAccess, start: date | None, end: date | None) -> tuple[date, date]:
    """The days asked for (default: the 30 days up to today in the project's time zone); 422
    when `from` is after `to` or the period is longer than three years."""
    zone = str(access.project.settings.get("time_zone", "UTC"))
    last = end or local_date(utcnow(), zone)
    first = start or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ValidationFailed.at("/from", "after to", detail="`from` is after `to`.")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed.at("/from", "period too long", detail="At most 3 years at once.")
    return first, last


async def review_metrics(
    session: AsyncSession, access: ProjectAccess, *, start: date | None, end: date | None
) -> ReviewMetrics:
    first, last = period(access, start, end)
    zone = str(access.project.settings.get("time_zone", "UTC"))
    since, until = end_of_day(first - timedelta(days=1), zone), end_of_day(last, zone)
    if session.get_bind().dialect.name == "postgresql":
        found = await delivery_repo.review_metric_aggregates(
            session, access.project.id, since, until
        )
        aggregates = {row["repository_id"] if not row["overall"] else None: row for row in found}
    else:
        aggregates = await _aggregates_of_rows(session, access.project.id, since, until)
    empty = _Tally().aggregate()
    repositories = [
        RepositoryReviewStats(
            repository_id=repository_id,
            repository=full_name,
            provider=provider,
            **stats_of(aggregates.get(repository_id, empty)).model_dump(),
        )
        for repository_id, provider, full_name in await delivery_repo.repositories_named(
            session, access.project.id
        )
    ]
    return ReviewMetrics(
        project_key=access.project.key,
        from_=first,
        to=last,
        time_zone=zone,
        overall=stats_of(aggregates.get(None, empty)),
        repositories=repositories,
    )


async def _aggregates_of_rows(
    session: AsyncSession, project_id: str, since: datetime, until: datetime
) -> dict[str | None, dict[str, Any]]:
    """Per repository and overall (None), from the rows (SQLite, which has no percentile
    aggregate)."""
    rows = await delivery_repo.review_metric_rows(session, project_id, since, until)
    overall = _Tally()
    by_repository: dict[str, _Tally] = defaultdict(_Tally)
    for repository_id, to_review, to_merge, approved, rounds, added, deleted in rows:
        tallies = (overall, by_repository[repository_id])
        if to_review is not None:
            for tally in tallies:
                tally.first_review.append(float(to_review))
        if to_merge is not None:
            size = size_of(added, deleted)
            for tally in tallies:
                tally.to_merge.append(float(to_merge))
                tally.rounds.append(rounds or 0)
                tally.without_approval += 0 if approved else 1
                tally.sizes[size] += 1
    found: dict[str | None, dict[str, Any]] = {
        key: tally.aggregate() for key, tally in by_repository.items()
    }
    found[None] = overall.aggregate()
    return found
