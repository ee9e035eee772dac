"""The ranges of dates and numbers the API accepts, chosen so the arithmetic behind them holds.

Python's dates end at 9999-12-31 and SQLite's integers at 2**63 - 1: a value at those edges
made "the day after" or a stored number fail with a 500. Every date, instant and number a request
carries is bounded by one of these types (422 outside), and the bounds show in the OpenAPI schema.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field

# Wide enough for any plan; far enough from 9999-12-31 that a sprint's days, the next sprint and
# a forecast's horizon (about ten years of working days) stay in range.
FIRST_DATE = date(1970, 1, 1)
LAST_DATE = date(9000, 12, 31)

CalendarDate = Annotated[
    date,
    Field(
        ge=FIRST_DATE,
        le=LAST_DATE,
        description="A date from 1970-01-01 to 9000-12-31.",
        json_schema_extra={
            "formatMinimum": "1970-01-01",
            "formatMaximum": "9000-12-31",
            # The same bounds in standard JSON Schema, which has no date comparison.
            "pattern": "^(19[7-9][0-9]|[2-8][0-9]{3}|9000)-",
        },
    ),
]

# Instants: the same years as dates. An instant near 0001-01-01 or 9999-12-31 with an offset has
# no UTC equivalent (storing it raised OverflowError), and a year-9999 one would stay "newest"
# for good.
FIRST_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
LAST_INSTANT = datetime(9000, 12, 31, tzinfo=UTC)


def in_utc(moment: datetime) -> datetime:
    """`moment` in UTC, so an answer shows what was sent with `Z` (API.md), not its offset."""
    return moment.astimezone(UTC)


# An instant with its time zone (stored and answered in UTC), in the years a date may have: the
# pattern states the years in the schema, as `CalendarDate` does for dates.
Instant = Annotated[
    AwareDatetime,
    Field(
        ge=FIRST_INSTANT,
        le=LAST_INSTANT,
        json_schema_extra={
            "formatMinimum": "1970-01-01T00:00:00Z",
            "formatMaximum": "9000-12-31T00:00:00Z",
            "pattern": "^(19[7-9][0-9]|[2-8][0-9]{3}|9000)-",
        },
    ),
    AfterValidator(in_utc),
]

# Item numbers: a key is `PROJECT-N` with at most nine digits, and the column is a 32-bit integer.
MAX_ITEM_NUMBER = 999_999_999


# The values each estimate scale allows (points). Estimates are summed into commitment and
# velocity, so a scale is a short list of point values and every estimate written is one of them
# (`settings.estimate_scale`); the t-shirt sizes are XS 1, S 2, M 3, L 5, XL 8, XXL 13.
ESTIMATE_SCALES: dict[str, tuple[float, ...]] = {
    "fibonacci": (0, 0.5, 1, 2, 3, 5, 8, 13, 20, 40, 100),
    "tshirt": (0, 1, 2, 3, 5, 8, 13),
}
# Every value of some scale: what the request schema lists.
ESTIMATE_VALUES = sorted({v for values in ESTIMATE_SCALES.values() for v in values})


def in_calendar(day: date) -> bool:
    return FIRST_DATE <= day <= LAST_DATE


def in_instants(moment: datetime) -> bool:
    """Whether an aware `moment` is in `Instant`'s range (comparing is safe at any offset)."""
    return FIRST_INSTANT <= moment <= LAST_INSTANT
