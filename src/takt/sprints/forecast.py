"""Monte Carlo forecasts from daily throughput (docs/metrics.md, Forecasts).

The trials walk forward together as numpy arrays, and skip what can't change the answer: a trial
that can't finish by the horizon stops, and one far from done jumps many days in one draw. A
forecast of 10,000 items takes milliseconds to a few hundred (a walk in Python took seconds and
held the event loop); callers still run it off the event loop (`simulate`), so no request waits
behind another's forecast.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import numpy as np

from takt.sprints.timeline import percentile_nearest_rank

TRIALS = 10_000
SEED = 20_261_124
# A trial that has not finished after this many working days (about ten years) stops there: the
# horizon bounds the work of any forecast, whatever the number of items.
MAX_DAYS = 2_600
# Draws held at once per block (a few MB), so memory stays bounded however long the walk.
_BLOCK_DRAWS = 500_000
# A trial that surely won't finish within this many days (at least, and 4 per distinct
# throughput value, what one jump costs) jumps them in one draw.
_JUMP_DAYS = 8
# Simulations running at once in this process; more wait their turn (on a worker thread, not on
# the event loop). One: a simulation keeps one core busy, and the others stay free to answer
# requests (with several workers, each has its own).
_RUNNING = threading.BoundedSemaphore(1)


def days_to_finish(
    history: Sequence[int],
    items: int,
    *,
    trials: int = TRIALS,
    seed: int = SEED,
    max_days: int = MAX_DAYS,
) -> list[int]:
    """For each trial, the number of working days (1 = the first day walked) until `items`
    are finished, drawing each day's throughput at random from `history`; `max_days` for a
    trial not finished by then. Sorted ascending."""
    if items <= 0:
        return [0] * trials
    if not any(history):
        raise ValueError("the history has no finished item")
    with _RUNNING:
        return _walk(np.asarray(history, dtype=np.int64), items, trials, seed, max_days)


def _walk(values: np.ndarray, items: int, trials: int, seed: int, max_days: int) -> list[int]:
    """All trials at once. A trial far from done jumps ahead: while even the best day of the
    history every day could not finish it, the sum of the next k days is drawn in one go (the
    counts of each throughput value among k draws are multinomial), which is the same
    distribution as k single draws and costs one draw per distinct value. Near the end the days
    are drawn one by one, in blocks, to find the day each trial finishes."""
    rng = np.random.default_rng(seed)
    kinds, counts = np.unique(values, return_counts=True)
    shares = counts / counts.sum()
    best, mean = int(kinds[-1]), float(values.mean())
    jump_from = max(_JUMP_DAYS, 4 * kinds.size)
    result = np.full(trials, max_days, dtype=np.int64)
    done = np.zeros(trials, dtype=np.int64)
    walked = np.zeros(trials, dtype=np.int64)
    pending = np.arange(trials)
    while pending.size:
        left = max_days - walked[pending]
        remaining = items - done[pending]
        # A trial that can't finish by the horizon even at the best day every day stops here:
        # it would walk to the horizon, and counts as finishing there.
        possible = remaining <= best * left
        pending, left, remaining = pending[possible], left[possible], remaining[possible]
        if not pending.size:
            break
        sure_not = np.minimum((remaining - 1) // best, left)
        far = sure_not >= jump_from
        if far.any():
            jumping, days = pending[far], sure_not[far]
            done[jumping] += rng.multinomial(days, shares) @ kinds
            walked[jumping] += days
        near = pending[~far]
        if not near.size:
            continue
        expected = int(float((items - done[near]).max()) / mean * 1.25) + 8
        width = max(1, min(expected, int(left[~far].max()), _BLOCK_DRAWS // near.size))
        draws = values[rng.integers(0, values.size, size=(near.size, width), dtype=np.int32)]
        reached = done[near, None] + np.cumsum(draws, axis=1)
        crossed = reached[:, -1] >= items
        first = np.argmax(reached >= items, axis=1)
        finish = walked[near] + first + 1
        ended = crossed & (finish <= max_days)
        result[near[ended]] = finish[ended]
        done[near] = reached[:, -1]
        walked[near] += width
        # Finished, or past the horizon (their result stays the horizon): no longer pending.
        gone = ended | (walked[near] >= max_days) | crossed
        pending = np.setdiff1d(pending, near[gone], assume_unique=True)
    result.sort()
    return [int(d) for d in result]


async def simulate(history: Sequence[int], items: int, *, max_days: int = MAX_DAYS) -> list[int]:
    """`days_to_finish` on a worker thread. A thread, not a process: the work is numpy's (which
    releases the GIL in its loops), bounded by the horizon, and needs no pickling or pool
    start-up; the event loop keeps answering while it runs."""
    return await asyncio.to_thread(days_to_finish, history, items, max_days=max_days)


def finish_percentiles(days: Sequence[int], percents: Sequence[float] = (50, 85, 95)) -> list[int]:
    return [percentile_nearest_rank(days, p) for p in percents]


def probability_within(days: Sequence[int], limit: int) -> float:
    """Share of trials finishing within `limit` working days."""
    if not days:
        return 0.0
    return sum(1 for d in days if d <= limit) / len(days)
