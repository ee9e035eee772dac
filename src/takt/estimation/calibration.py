"""The numbers a reveal shows, computed without the database: decks, the spread of a round's
cards, and the calibration of the scale against the cycle times of finished items.

Definitions (docs/estimation.md repeats them for users):
- percentiles are nearest-rank, as everywhere in Takt (`sprints.timeline`): the p-th
  percentile of n sorted values is the ⌈p·n/100⌉-th, so it is always a value that occurred;
- **agreement** = the share of all votes (`?` included) that played the mode (the points played
  most often, the larger on a tie);
- two neighbouring values of the scale **overlap** when the smaller one's p85 cycle time is at
  least the larger one's median; only values with at least `MIN_SAMPLES` finished items take
  part, so a value's neighbour is the next larger one with that many (those with fewer are
  skipped).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from takt.core.bounds import ESTIMATE_SCALES

UNSURE = "?"
TSHIRT_SIZES = (("XS", 1.0), ("S", 2.0), ("M", 3.0), ("L", 5.0), ("XL", 8.0), ("XXL", 13.0))
# Fewer finished items than this say nothing about overlap.
MIN_SAMPLES = 3
SECONDS_PER_DAY = 86400.0


def _label(points: float) -> str:
    return f"{points:g}"


def deck_of(
    scale: str, custom: Sequence[tuple[str, float]] = (), *, unsure: bool
) -> list[dict[str, Any]]:
    """The cards of a scale, lowest first: [{"label", "points"}], with "?" last if `unsure`."""
    if scale == "fibonacci":
        cards = [(_label(p), float(p)) for p in ESTIMATE_SCALES["fibonacci"]]
    elif scale == "tshirt":
        cards = list(TSHIRT_SIZES)
    else:
        cards = sorted(((label, float(points)) for label, points in custom), key=lambda c: c[1])
    deck: list[dict[str, Any]] = [{"label": label, "points": points} for label, points in cards]
    if unsure:
        deck.append({"label": UNSURE, "points": None})
    return deck


def card_points(deck: Sequence[Mapping[str, Any]]) -> dict[str, float | None]:
    """Label → points (None for "?")."""
    return {str(card["label"]): card["points"] for card in deck}


def nearest_rank(sorted_values: Sequence[float], percent: float) -> float:
    """The nearest-rank percentile of an ascending, non-empty list."""
    rank = max(1, math.ceil(percent / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class Spread:
    votes: int
    unsure: int
    min: float | None
    max: float | None
    median: float | None
    mode: float | None
    agreement: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "votes": self.votes,
            "unsure": self.unsure,
            "min": self.min,
            "max": self.max,
            "median": self.median,
            "mode": self.mode,
            "agreement": self.agreement,
        }


def spread_of(points: Iterable[float | None]) -> Spread:
    """The spread of a round's cards (None for "?")."""
    played = list(points)
    numeric = sorted(p for p in played if p is not None)
    unsure = len(played) - len(numeric)
    if not numeric:
        return Spread(len(played), unsure, None, None, None, None, None)
    counts = Counter(numeric)
    mode = max(counts, key=lambda value: (counts[value], value))
    return Spread(
        votes=len(played),
        unsure=unsure,
        min=numeric[0],
        max=numeric[-1],
        median=nearest_rank(numeric, 50),
        mode=mode,
        agreement=round(counts[mode] / len(played), 4),
    )


@dataclass(frozen=True)
class ValueStats:
    count: int
    median_days: float | None
    p85_days: float | None


def stats_of(rows: Iterable[tuple[float, int, float, float]]) -> dict[float, ValueStats]:
    """Per estimate, from (estimate, count, median seconds, p85 seconds): the figures in days."""
    return {
        float(estimate): ValueStats(
            int(count),
            round(median / SECONDS_PER_DAY, 2),
            round(p85 / SECONDS_PER_DAY, 2),
        )
        for estimate, count, median, p85 in rows
    }


def calibrate(
    deck: Sequence[Mapping[str, Any]], stats: Mapping[float, ValueStats]
) -> list[dict[str, Any]]:
    """One entry per card with points, lowest first: its finished items' count, median and p85
    cycle days, and whether it overlaps the next larger value with enough data."""
    entries: list[dict[str, Any]] = []
    for card in deck:
        points = card["points"]
        if points is None:
            continue
        found = stats.get(float(points), ValueStats(0, None, None))
        entries.append(
            {
                "points": float(points),
                "label": str(card["label"]),
                "finished_items": found.count,
                "median_cycle_days": found.median_days,
                "p85_cycle_days": found.p85_days,
                "overlaps_next": None,
            }
        )
    entries.sort(key=lambda entry: entry["points"])
    with_data = [e for e in entries if e["finished_items"] >= MIN_SAMPLES]
    for lower, higher in itertools.pairwise(with_data):
        lower["overlaps_next"] = lower["p85_cycle_days"] >= higher["median_cycle_days"]
    return entries
