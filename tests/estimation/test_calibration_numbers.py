"""The reveal's arithmetic without the database: nearest-rank percentiles, the spread, the
overlap rule, decks."""

from __future__ import annotations

from takt.estimation.calibration import (
    ValueStats,
    calibrate,
    deck_of,
    nearest_rank,
    spread_of,
    stats_of,
)


def test_nearest_rank_is_a_value_that_occurred() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    assert nearest_rank(values, 50) == 2.0
    assert nearest_rank(values, 85) == 4.0
    assert nearest_rank([7.0], 85) == 7.0
    twenty = [float(n) for n in range(1, 21)]
    assert nearest_rank(twenty, 50) == 10.0
    assert nearest_rank(twenty, 85) == 17.0  # ⌈0.85 · 20⌉ = 17 exactly, as percentile_disc


def test_the_spread_counts_unsure_cards_in_agreement_only() -> None:
    spread = spread_of([3.0, 5.0, 5.0, None, 8.0])
    assert (spread.votes, spread.unsure, spread.min, spread.max) == (5, 1, 3.0, 8.0)
    assert (spread.median, spread.mode, spread.agreement) == (5.0, 5.0, 0.4)
    assert spread_of([]).agreement is None
    assert spread_of([2.0, 2.0]).agreement == 1.0


def test_stats_are_in_days_to_two_places() -> None:
    day = 86400.0
    rows = [(2.0, 4, 2 * day, 4 * day), (8.0, 1, 0.5 * day, 0.5 * day), (3.0, 2, 1000.0, day)]
    assert stats_of(rows) == {
        2.0: ValueStats(4, 2.0, 4.0),
        8.0: ValueStats(1, 0.5, 0.5),
        3.0: ValueStats(2, 0.01, 1.0),
    }


def test_overlap_compares_a_value_with_the_next_one_that_has_enough_data() -> None:
    deck = deck_of("fibonacci", unsure=True)
    stats = {
        1.0: ValueStats(5, 1.0, 3.0),
        2.0: ValueStats(2, 9.0, 9.0),  # too few: skipped, and says nothing itself
        3.0: ValueStats(4, 3.0, 4.0),  # 1's p85 (3) reaches 3's median (3): overlap
        5.0: ValueStats(3, 6.0, 8.0),  # 3's p85 (4) is below 5's median (6)
    }
    by_points = {e["points"]: e["overlaps_next"] for e in calibrate(deck, stats)}
    assert by_points[1.0] is True
    assert by_points[2.0] is None
    assert by_points[3.0] is False
    assert by_points[5.0] is None  # no larger value with data
    assert by_points[8.0] is None


def test_decks() -> None:
    assert [c["label"] for c in deck_of("tshirt", unsure=False)] == [
        "XS",
        "S",
        "M",
        "L",
        "XL",
        "XXL",
    ]
    custom = deck_of("custom", [("big", 8.0), ("tiny", 1.0)], unsure=True)
    assert custom == [
        {"label": "tiny", "points": 1.0},
        {"label": "big", "points": 8.0},
        {"label": "?", "points": None},
    ]
