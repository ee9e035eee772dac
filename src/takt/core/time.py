"""Clock and calendar helpers: every timestamp Takt stores is timezone-aware UTC.

`utcnow()` can be pinned for a block of code with `clock_at()` (tests that script a sprint day by
day, the demo loader); nothing else should call `datetime.now()`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_pinned: ContextVar[datetime | None] = ContextVar("takt_pinned_now", default=None)
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def utcnow() -> datetime:
    pinned = _pinned.get()
    return pinned if pinned is not None else datetime.now(UTC)


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Make `utcnow()` answer `moment` inside the block (same task and its children)."""
    if moment.tzinfo is None:
        raise ValueError("clock_at needs an aware datetime")
    token = _pinned.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _pinned.reset(token)


def working_days(start: date, end: date, weekdays: Iterable[str]) -> list[date]:
    """The dates from `start` to `end` (inclusive) that fall on the given weekday names."""
    wanted = {WEEKDAY_NAMES.index(day) for day in weekdays}
    days = []
    current = start
    while current <= end:
        if current.weekday() in wanted:
            days.append(current)
        current += timedelta(days=1)
    return days


def end_of_day(day: date, zone: str) -> datetime:
    """The first instant after `day` in time zone `zone`, in UTC."""
    local = datetime.combine(day + timedelta(days=1), time.min, tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC)


def local_date(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()
