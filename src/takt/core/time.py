"""Clock and calendar helpers: every timestamp Takt stores is timezone-aware UTC.

`utcnow()` can be pinned for a block of code with `clock_at()` (tests that script a sprint day by
day, the demo loader); nothing else should call `datetime.now()`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
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


# Working time ------------------------------------------------------------------------------------
# A team's working time is its working weekdays, from `day_start` to `day_end` on each, in its
# time zone. The positions of those hours in UTC come from the zone's rules for each date, so a
# span across a daylight-saving change counts the hours that were really worked: 09:00-17:00 on
# the Monday after the change starts an hour earlier in UTC than it did on the Friday before it,
# and a working day that contains the change (a night shift over 02:00) is an hour shorter or
# longer.


@dataclass(frozen=True)
class WorkCalendar:
    """When a team works: weekdays (0 = Monday) from `day_start` to `day_end` in `zone`."""

    zone: str = "UTC"
    weekdays: frozenset[int] = frozenset(range(5))
    day_start: time = time(9)
    day_end: time = time(17)

    def __post_init__(self) -> None:
        if not self.weekdays or not self.weekdays <= set(range(7)):
            raise ValueError("a calendar works on at least one weekday, numbered 0 to 6")
        if self.day_end <= self.day_start:
            raise ValueError("a working day ends after it starts")

    @classmethod
    def of(
        cls, zone: str, working_days: Iterable[str], day_start: str, day_end: str
    ) -> WorkCalendar:
        """From a project's settings: weekday names and `HH:MM` times."""
        return cls(
            zone=zone,
            weekdays=frozenset(WEEKDAY_NAMES.index(day) for day in working_days),
            day_start=time.fromisoformat(day_start),
            day_end=time.fromisoformat(day_end),
        )

    @property
    def nominal_day(self) -> timedelta:
        """The length of a working day on which the clocks don't change."""
        today = date(2000, 1, 3)  # any date: naive arithmetic, no zone
        return datetime.combine(today, self.day_end) - datetime.combine(today, self.day_start)

    def period(self, day: date) -> tuple[datetime, datetime]:
        """The working hours of local date `day`, as UTC instants (whether `day` is a working
        day or not). A time that falls in a daylight-saving gap is read with the offset before
        the change (PEP 495, `fold=0`)."""
        tz = ZoneInfo(self.zone)
        start = datetime.combine(day, self.day_start, tzinfo=tz).astimezone(UTC)
        end = datetime.combine(day, self.day_end, tzinfo=tz).astimezone(UTC)
        return start, end

    def is_plain_week(self, first: date) -> bool:
        """Whether the seven local days from `first` are 168 hours long: no clock change in
        them, so each working day is exactly `nominal_day` long. (Zones change their offset
        at most twice a year; never twice within one week.)"""
        tz = ZoneInfo(self.zone)
        start = datetime.combine(first, time.min, tzinfo=tz)
        end = datetime.combine(first + timedelta(days=7), time.min, tzinfo=tz)
        return end.astimezone(UTC) - start.astimezone(UTC) == timedelta(days=7)


# Before the first date the API takes (core/bounds.py): where a backward walk gives up.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def working_time(start: datetime, end: datetime, calendar: WorkCalendar) -> timedelta:
    """The working time of `calendar` between two instants (zero if `end` is not after
    `start`), exact to the microsecond across daylight-saving changes."""
    if end <= start:
        return timedelta(0)
    first = local_date(start, calendar.zone)
    last = local_date(end, calendar.zone)
    week = calendar.nominal_day * len(calendar.weekdays)
    total = timedelta(0)
    day = first
    while day <= last:
        # A whole week strictly between the first and last dates lies inside the span: count it
        # at once when its clocks don't change (a blocker open for months costs a few steps).
        if first < day and day + timedelta(days=6) < last and calendar.is_plain_week(day):
            total += week
            day += timedelta(days=7)
            continue
        if day.weekday() in calendar.weekdays:
            opens, closes = calendar.period(day)
            opens, closes = max(opens, start), min(closes, end)
            if closes > opens:
                total += closes - opens
        day += timedelta(days=1)
    return total


def working_hours(start: datetime, end: datetime, calendar: WorkCalendar) -> float:
    """`working_time` in hours."""
    return working_time(start, end, calendar).total_seconds() / 3600


def working_cutoff(now: datetime, hours: float, calendar: WorkCalendar) -> datetime:
    """The earliest instant `t` with `working_hours(t, now) <= hours`: something that began at
    `began` is more than `hours` working hours old at `now` exactly when `began < t`. Lets a
    query compare a timestamp column with one value instead of computing every row's age."""
    remaining = timedelta(hours=hours)
    week = calendar.nominal_day * len(calendar.weekdays)
    day = local_date(now, calendar.zone)
    today = day
    while datetime.combine(day, time.min, tzinfo=UTC) > _EPOCH:
        # The whole week ending on `day`, before today, when the answer is not inside it.
        start_of_week = day - timedelta(days=6)
        if day < today and remaining >= week and calendar.is_plain_week(start_of_week):
            remaining -= week
            day = start_of_week - timedelta(days=1)
            continue
        if day.weekday() in calendar.weekdays:
            opens, closes = calendar.period(day)
            closes = min(closes, now)
            if closes > opens:
                if not remaining:
                    # Exactly `hours` were used up at a later period's start: between this
                    # period's end and that start no time counts, so this end is the earliest.
                    return closes
                if closes - opens > remaining:
                    return closes - remaining
                remaining -= closes - opens
        day -= timedelta(days=1)
    return _EPOCH


class WorkingTimeUntil:
    """`working_time(start, end, calendar)` for many starts and one `end`, each in a few steps:
    the working time of each local day up to `end` is summed once (backwards from `end`, as far
    back as the earliest start asked), so an age is a lookup and the part of its own day. The
    same figures as `working_time`, to the microsecond, across daylight-saving changes: a
    day's working hours lie inside that local day, so the time from `start` to `end` is the
    part of `start`'s day after it plus every later day's, up to `end`."""

    def __init__(self, end: datetime, calendar: WorkCalendar) -> None:
        self.end = end
        self.calendar = calendar
        self._last = local_date(end, calendar.zone)
        # Local date -> working time of the days after it, up to `end`.
        self._after: dict[date, timedelta] = {self._last: timedelta(0)}
        self._earliest = self._last
        self._periods: dict[date, tuple[datetime, datetime]] = {}
        self._zone = ZoneInfo(calendar.zone)

    def _day(self, day: date, start: datetime | None = None) -> timedelta:
        """The working time of local date `day` from `start` (its beginning when None) to
        `end`."""
        if day.weekday() not in self.calendar.weekdays:
            return timedelta(0)
        period = self._periods.get(day)
        if period is None:
            period = self._periods[day] = self.calendar.period(day)
        opens, closes = period
        if start is not None:
            opens = max(opens, start)
        closes = min(closes, self.end)
        return closes - opens if closes > opens else timedelta(0)

    def _after_day(self, day: date) -> timedelta:
        while self._earliest > day:
            earlier = self._earliest - timedelta(days=1)
            self._after[earlier] = self._after[self._earliest] + self._day(self._earliest)
            self._earliest = earlier
        return self._after[day]

    def since(self, start: datetime) -> timedelta:
        """`working_time(start, end, calendar)`."""
        if self.end <= start:
            return timedelta(0)
        day = start.astimezone(self._zone).date()
        return self._after_day(day) + self._day(day, start)

    def hours_since(self, start: datetime) -> float:
        """`working_hours(start, end, calendar)`."""
        return self.since(start).total_seconds() / 3600
