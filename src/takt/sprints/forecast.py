"""Monte Carlo forecasts from daily throughput (METRICS.md, Forecasts)."""

from __future__ import annotations

import random
from collections.abc import Sequence

from takt.sprints.timeline import percentile_nearest_rank

TRIALS = 10_000
SEED = 20_261_124
# A trial that has not finished after this many working days (about 20 years) stops there.
MAX_DAYS = 5_000


def days_to_finish(
    history: Sequence[int], items: int, *, trials: int = TRIALS, seed: int = SEED
) -> list[int]:
    """For each trial, the number of working days (1 = the first day walked) until `items`
    are finished, drawing each day's throughput at random from `history`. Sorted ascending."""
    if items <= 0:
        return [0] * trials
    if not any(history):
        raise ValueError("the history has no finished item")
    rng = random.Random(seed)  # noqa: S311 (reproducible simulation, not security)
    results = []
    for _ in range(trials):
        done = day = 0
        while done < items and day < MAX_DAYS:
            day += 1
            done += rng.choice(history)
        results.append(day)
    results.sort()
    return results


def finish_percentiles(days: Sequence[int], percents: Sequence[float] = (50, 85, 95)) -> list[int]:
    return [percentile_nearest_rank(days, p) for p in percents]


def probability_within(days: Sequence[int], limit: int) -> float:
    """Share of trials finishing within `limit` working days."""
    if not days:
        return 0.0
    return sum(1 for d in days if d <= limit) / len(days)
