"""Backlog ordering keys: strings that sort like the backlog, so moving an item writes one row.

A key is read as a base-62 fraction in (0, 1): "V" is 31/62, "a1" is 36/62 + 1/62**2. The digits
are in ASCII order, so comparing keys byte-wise (SQLite, and PostgreSQL with COLLATE "C")
compares the fractions.

Invariant: a key is non-empty, uses only ALPHABET, and never ends with "0". A trailing "0"
would give two spellings of one fraction ("a" and "a0") with nothing between them; without it,
string order is numeric order, and there is always room before, between and after any keys.

Every new key is at most one character longer than its longest neighbour, so the caller can
rebalance (rewrite a project's keys with `initial_ranks`) once `needs_rebalance` says so, well
before a key could outgrow its String(64) column.
"""

from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BASE = len(ALPHABET)
MAX_RANK_LENGTH = 32
# Each write adds at most one character, so a key flagged at 25 characters leaves room for 7
# more writes (concurrent moves, a deferred rebalance job) within MAX_RANK_LENGTH, 39 within
# the String(64) column.
REBALANCE_MARGIN = 8

_SMALLEST, _LARGEST = ALPHABET[0], ALPHABET[-1]
_MIDDLE = ALPHABET[BASE // 2]
_VALUE = {digit: value for value, digit in enumerate(ALPHABET)}
_VALID_KEY = re.compile(r"[0-9A-Za-z]*[1-9A-Za-z]")


def is_valid_rank(key: str) -> bool:
    """True if `key` keeps the invariant, so there is room on both sides of it."""
    return _VALID_KEY.fullmatch(key) is not None


def needs_rebalance(key: str) -> bool:
    """True once `key` is long enough that the project's keys should be rewritten."""
    return len(key) > MAX_RANK_LENGTH - REBALANCE_MARGIN


def rank_between(before: str | None, after: str | None) -> str:
    """A key strictly between two neighbours; None is an open end of the backlog."""
    if before is None:
        return rank_before(after)
    if after is None:
        return rank_after(before)
    _check(before)
    _check(after)
    if before >= after:
        raise ValueError(f"rank {before!r} is not before {after!r}")
    return _midpoint(before, after)


def rank_after(last: str | None) -> str:
    """A key after `last` (the backlog's last key; None when it is empty), for appending.

    Halving the gap to the end would cost a character every six appends. Instead this steps to
    the next key of a width that widens by two with each leading "z", so n appends in a row
    need about 2 * log62(n) characters.
    """
    if last is None:
        return _MIDDLE
    _check(last)
    return _step(last, _width(last, _LARGEST), +1)


def rank_before(first: str | None) -> str:
    """A key before `first` (the backlog's first key; None when it is empty), for prepending.

    The mirror of `rank_after`, counting leading "0"s. Keys from "1" up to "2" have no
    one-digit key below them, hence the second try one digit wider.
    """
    if first is None:
        return _MIDDLE
    _check(first)
    width = _width(first, _SMALLEST)
    return _step(first, width, -1) or _step(first, width + 1, -1)


def initial_ranks(n: int) -> list[str]:
    """`n` increasing keys of one length, evenly spaced, for seeding, imports and rebalancing.

    The length is the shortest leaving at least two steps between keys, so a key that would
    end in "0" can move up one step without meeting the next key.
    """
    if n < 0:
        raise ValueError(f"cannot make {n} ranks")
    width = 1
    while BASE**width < 2 * (n + 1):
        width += 1
    span = BASE**width
    values = (i * span // (n + 1) for i in range(1, n + 1))
    return [_digits(value + (value % BASE == 0), width) for value in values]


def _check(key: str) -> None:
    if not is_valid_rank(key):
        raise ValueError(f"malformed rank {key!r}: use 0-9, A-Z, a-z, and don't end in 0")


def _width(key: str, edge: str) -> int:
    """Width to step at: grows with the run of `edge` digits (how far toward that end the key
    has moved), but never more than one past the key's own length."""
    run = len(key) - len(key.lstrip(edge))
    return min(2 * run + 1, len(key) + 1)


def _step(key: str, width: int, delta: int) -> str:
    """`key` cut or padded to `width` digits, moved by `delta` units of the last one; ""
    when that reaches zero. Cutting loses less than a unit, so the result is past `key`."""
    value = 0
    for digit in key[:width].ljust(width, _SMALLEST):
        value = value * BASE + _VALUE[digit]
    return _digits(value + delta, width).rstrip(_SMALLEST)


def _digits(value: int, width: int) -> str:
    digits = ""
    for _ in range(width):
        value, digit = divmod(value, BASE)
        digits = ALPHABET[digit] + digits
    return digits


def _midpoint(low: str, high: str) -> str:
    """The first key, digit by digit, that fits strictly between `low` < `high`.

    Once the result has taken a digit below `high`'s, only `low` bounds the rest, so
    inserting again and again at one spot halves the gap: a character per ~6 inserts.
    """
    out: list[str] = []
    upper: str | None = high
    i = 0
    while True:
        lo = _VALUE[low[i]] if i < len(low) else 0
        hi = BASE if upper is None else _VALUE[upper[i]]
        if hi - lo > 1:
            return "".join(out) + ALPHABET[_middle(lo, hi)]
        if upper is not None and hi > lo and len(upper) > i + 1:
            return upper[: i + 1]
        out.append(ALPHABET[lo])
        if hi > lo:
            upper = None
        i += 1


def _middle(lo: int, hi: int) -> int:
    """The digit halfway between two. On a fresh position (0 to BASE) it is 32, not 31: that
    leaves 31 = 2**5 - 1 digits below, so repeated inserts just after one key get six keys per
    character instead of five, as repeated inserts just before one key do."""
    return (lo + hi) // 2 + (hi - lo == BASE)
