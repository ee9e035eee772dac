"""Backlog ordering keys: edge cases, ordering properties, key growth, and a backlog model that
moves items one row at a time and rebalances when told to."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import example, given, settings, target
from hypothesis import strategies as st

from takt.items.ranking import (
    ALPHABET,
    MAX_RANK_LENGTH,
    REBALANCE_MARGIN,
    initial_ranks,
    is_valid_rank,
    needs_rebalance,
    rank_after,
    rank_before,
    rank_between,
)

COLUMN_LENGTH = 64  # items.rank is String(64)


def keys() -> st.SearchStrategy[str]:
    """Valid keys: any digits, then a last digit that isn't "0"."""
    return st.builds(
        lambda body, last: body + last,
        st.text(ALPHABET, max_size=8),
        st.sampled_from(ALPHABET[1:]),
    )


@st.composite
def ordered_pairs(draw: st.DrawFn) -> tuple[str, str]:
    """Two different valid keys, smaller first; a shared prefix makes near neighbours common."""
    shared = draw(st.text(ALPHABET, max_size=6))
    near = st.text(ALPHABET, max_size=4).map(lambda tail: (shared + tail).rstrip("0"))
    a, b = draw(st.lists(near.filter(bool), min_size=2, max_size=2, unique=True))
    return (a, b) if a < b else (b, a)


def int_value(key: str) -> int:
    """The key's digits read as a base-62 integer."""
    value = 0
    for digit in key:
        value = value * 62 + ALPHABET.index(digit)
    return value


class Backlog:
    """The model: `order` is the backlog as people see it, `rank` what the database stores."""

    def __init__(self, size: int) -> None:
        self.order = list(range(size))
        self.rank = dict(zip(self.order, initial_ranks(size), strict=True))
        self.rebalances = 0
        self.longest = max(map(len, self.rank.values()), default=0)
        self.last = 0  # the item written last

    def add(self, at: int) -> int:
        """A new item at position `at`; returns its id."""
        item = len(self.rank)
        self._place(item, at)
        return item

    def move(self, item: int, anchor: int, *, after: bool) -> None:
        """Move `item` just before or after `anchor`."""
        if item != anchor:
            self.order.remove(item)
            self._place(item, self.order.index(anchor) + after)

    def settle(self, item: int) -> None:
        """Check the order after writing `item`'s key, and again after a rebalance it calls for."""
        self.assert_sorted_by_rank()
        if self.rebalance_if_needed(item):
            self.assert_sorted_by_rank()

    def rebalance_if_needed(self, item: int) -> bool:
        """Rewrite every key in the current order, as the service will, once `item`'s is long."""
        if not needs_rebalance(self.rank[item]):
            return False
        self.rank = dict(zip(self.order, initial_ranks(len(self.order)), strict=True))
        self.rebalances += 1
        return True

    def assert_sorted_by_rank(self) -> None:
        assert sorted(self.order, key=self.rank.__getitem__) == self.order
        assert max(map(len, self.rank.values())) <= COLUMN_LENGTH

    def _place(self, item: int, at: int) -> None:
        """Put `item` at `at`, writing only its own key, from its new neighbours'."""
        self.order.insert(at, item)
        before = self.rank[self.order[at - 1]] if at > 0 else None
        after = self.rank[self.order[at + 1]] if at + 1 < len(self.order) else None
        self.rank[item] = rank_between(before, after)
        assert is_valid_rank(self.rank[item])
        self.longest = max(self.longest, len(self.rank[item]))
        self.last = item


# Edge cases


def test_empty_backlog_gets_one_middle_digit() -> None:
    assert rank_between(None, None) == rank_after(None) == rank_before(None) == "V"


def test_open_ends_give_keys_outside_the_neighbour() -> None:
    assert rank_between("a", None) > "a"
    assert rank_between(None, "a") < "a"


@pytest.mark.parametrize(
    ("before", "after", "length"),
    [("1", "z", 1), ("a", "b", 2), ("a", "a1", 3), ("a", "a01", 4), ("1z", "2", 3), ("y", "z", 2)],
)
def test_between_neighbours_is_at_most_one_digit_longer(
    before: str, after: str, length: int
) -> None:
    key = rank_between(before, after)
    assert before < key < after
    assert is_valid_rank(key)
    assert len(key) == length


def test_before_the_smallest_one_digit_key_goes_one_digit_deeper() -> None:
    assert rank_before("1") == "0z"
    assert rank_before("1a") == "1Z"


def test_after_a_run_of_z_adds_one_digit() -> None:
    assert rank_after("zzz") == "zzz1"


def test_after_a_long_key_can_be_shorter() -> None:
    assert rank_after("k3F9aa") == "l"


@pytest.mark.parametrize("key", ["", "0", "a0", "a-b", "a b", "\u00e9", "a\n", "A\u0661"])
def test_malformed_key_raises(key: str) -> None:
    for before, after in ((key, None), (None, key), (key, "zz"), ("0001", key)):
        with pytest.raises(ValueError, match="malformed"):
            rank_between(before, after)


@pytest.mark.parametrize(("before", "after"), [("a", "a"), ("b", "a"), ("a1", "a")])
def test_before_not_below_after_raises(before: str, after: str) -> None:
    with pytest.raises(ValueError, match="not before"):
        rank_between(before, after)


def test_initial_ranks_of_nothing_is_empty_and_negative_raises() -> None:
    assert initial_ranks(0) == []
    with pytest.raises(ValueError, match="cannot make"):
        initial_ranks(-1)


@pytest.mark.parametrize(
    ("n", "length"),
    [(1, 1), (30, 1), (31, 2), (100, 2), (1921, 2), (1922, 3), (119_163, 3), (119_164, 4)],
)
def test_initial_ranks_are_increasing_valid_and_of_one_short_length(n: int, length: int) -> None:
    ranks = initial_ranks(n)
    assert len(ranks) == n
    assert all(map(is_valid_rank, ranks))
    assert all(a < b for a, b in pairwise(ranks))
    assert {len(rank) for rank in ranks} == {length}


def test_a_million_initial_ranks_take_four_digits() -> None:
    ranks = initial_ranks(1_000_000)
    assert {len(rank) for rank in ranks} == {4}
    assert all(a < b for a, b in pairwise(ranks))


def test_initial_ranks_are_evenly_spaced() -> None:
    ranks = initial_ranks(500)
    units = [0, *(int_value(rank) for rank in ranks), 62 ** len(ranks[0])]
    gaps = [b - a for a, b in pairwise(units)]
    # Each key is off its exact place by under one unit of rounding plus one off a trailing "0".
    assert max(gaps) - min(gaps) <= 3


def test_needs_rebalance_leaves_a_margin_below_the_maximum() -> None:
    assert not needs_rebalance("V" * 24)
    assert needs_rebalance("V" * 25)
    assert 25 < MAX_RANK_LENGTH < COLUMN_LENGTH


# Growth


def test_a_thousand_appends_stay_three_digits_long() -> None:
    ranks = [rank_after(None)]
    for _ in range(1000):
        ranks.append(rank_after(ranks[-1]))
    assert ranks == sorted(ranks)
    assert max(map(len, ranks)) == 3


def test_a_thousand_prepends_stay_three_digits_long() -> None:
    ranks = [rank_before(None)]
    for _ in range(1000):
        ranks.append(rank_before(ranks[-1]))
    assert ranks == sorted(ranks, reverse=True)
    assert max(map(len, ranks)) == 3


@pytest.mark.parametrize("just_after", [True, False])
def test_same_spot_inserts_grow_a_digit_per_six_and_would_overflow(just_after: bool) -> None:
    low, high = initial_ranks(2)
    for _ in range(1000):
        key = rank_between(low, high)
        low, high = (low, key) if just_after else (key, high)
    assert 160 <= len(key) <= 170
    assert len(key) > COLUMN_LENGTH


# Properties


@given(ordered_pairs())
def test_between_is_strictly_between_valid_and_one_digit_longer_at_most(
    pair: tuple[str, str],
) -> None:
    before, after = pair
    key = rank_between(before, after)
    assert before < key < after
    assert is_valid_rank(key)
    assert len(key) <= max(len(before), len(after)) + 1


@given(keys())
def test_open_ends_are_valid_and_one_digit_longer_at_most(key: str) -> None:
    for new, outside in ((rank_after(key), key.__lt__), (rank_before(key), key.__gt__)):
        assert outside(new)
        assert is_valid_rank(new)
        assert len(new) <= len(key) + 1


# Steps name items by position, or name "crowd" (the first item, which the crowd is added after)
# or "last" (the item written last), as when someone adds or drags several items into one place:
# that is what makes keys grow.
KINDS = ("move before", "move after", "add before", "add after", "append", "prepend")
steps = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.integers(0, 10**4),
        st.sampled_from(["crowd", "last"]) | st.integers(0, 10**4),
    ),
    min_size=25,
    max_size=200,
)


@settings(deadline=None, max_examples=50)
@given(size=st.integers(1, 30), crowd=st.just(0) | st.integers(110, 135), steps=steps)
# Always run one case that rebalances between moves: a crowd, more adds there, then moves.
@example(
    size=3,
    crowd=135,
    steps=[("add after", 0, "crowd")] * 20 + [("move before", 4, "last"), ("prepend", 0, 1)] * 5,
)
def test_sorting_by_rank_gives_the_backlog_order_through_moves_and_rebalances(
    size: int, crowd: int, steps: list[tuple[str, int, str | int]]
) -> None:
    backlog = Backlog(size)
    # Adds at one spot leave keys a few writes short of a rebalance, for the steps to push over.
    for _ in range(crowd):
        backlog.settle(backlog.add(1))
    for kind, position, anchor in steps:
        n = len(backlog.order)
        named = {"crowd": 0, "last": backlog.last}
        neighbour = named[anchor] if isinstance(anchor, str) else backlog.order[anchor % n]
        after = kind.endswith("after")
        if kind in ("append", "prepend"):
            item = backlog.add(n if kind == "append" else 0)
        elif kind.startswith("add"):
            item = backlog.add(backlog.order.index(neighbour) + after)
        else:
            item = backlog.order[position % n]
            backlog.move(item, neighbour, after=after)
        backlog.settle(item)
    assert backlog.longest <= MAX_RANK_LENGTH - REBALANCE_MARGIN + 1
    # Steer generation toward long keys, where rebalances happen.
    target(float(backlog.longest), label="longest key written")


@settings(deadline=None, max_examples=20)
@given(size=st.integers(2, 40), spot=st.integers(0, 39), just_after=st.booleans())
def test_a_thousand_inserts_at_one_spot_fit_because_rebalance_fires_first(
    size: int, spot: int, just_after: bool
) -> None:
    backlog = Backlog(size)
    anchor = backlog.order[spot % size]
    for _ in range(1000):
        backlog.rebalance_if_needed(backlog.add(backlog.order.index(anchor) + just_after))
    backlog.assert_sorted_by_rank()
    assert backlog.rebalances >= 5
    assert backlog.longest == MAX_RANK_LENGTH - REBALANCE_MARGIN + 1
