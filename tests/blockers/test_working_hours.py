"""Working time between two instants in a team's calendar (core/time.py): exact across
daylight-saving changes, and its inverse, the cutoff `older_than_hours` and escalation use."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from takt.core.time import WorkCalendar, working_cutoff, working_hours, working_time

BERLIN_OFFICE = WorkCalendar.of(
    "Europe/Berlin", ["mon", "tue", "wed", "thu", "fri"], "09:00", "17:00"
)


def local(zone: str, year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=ZoneInfo(zone))


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        # Friday 16:00 to Monday 10:00 in Berlin, over the change to summer time (29 March) and
        # back (25 October): an hour on each working day, whatever the offsets.
        ((2026, 3, 27, 16), (2026, 3, 30, 10), 2.0),
        ((2026, 10, 23, 16), (2026, 10, 26, 10), 2.0),
        # A whole working week, and the same week one hour at each end shorter.
        ((2026, 3, 23, 9), (2026, 3, 27, 17), 40.0),
        ((2026, 3, 23, 10), (2026, 3, 27, 16), 38.0),
        # Outside working hours only.
        ((2026, 3, 27, 17), (2026, 3, 30, 9), 0.0),
        ((2026, 3, 27, 19), (2026, 3, 27, 20), 0.0),
        # Five weeks across the spring change: counted by whole weeks, still exact.
        ((2026, 3, 2, 12), (2026, 4, 6, 12), 25 * 8.0),
    ],
)
def test_office_hours_in_berlin(start: tuple[int, ...], end: tuple[int, ...], hours: float) -> None:
    begin, finish = local("Europe/Berlin", *start), local("Europe/Berlin", *end)
    assert working_hours(begin, finish, BERLIN_OFFICE) == hours


def test_a_working_day_containing_the_change_is_an_hour_shorter_or_longer() -> None:
    night = WorkCalendar.of("Europe/Berlin", ["sun"], "00:00", "08:00")
    spring = working_hours(
        local("Europe/Berlin", 2026, 3, 28), local("Europe/Berlin", 2026, 3, 30), night
    )
    autumn = working_hours(
        local("Europe/Berlin", 2026, 10, 24), local("Europe/Berlin", 2026, 10, 26), night
    )
    assert (spring, autumn) == (7.0, 9.0)


def test_an_end_before_the_start_is_no_time() -> None:
    moment = local("Europe/Berlin", 2026, 3, 25, 12)
    assert working_time(moment, moment - timedelta(hours=5), BERLIN_OFFICE) == timedelta(0)


def test_a_calendar_must_work_some_day_and_end_its_day_after_it_starts() -> None:
    with pytest.raises(ValueError, match="weekday"):
        WorkCalendar(weekdays=frozenset())
    with pytest.raises(ValueError, match="ends after"):
        WorkCalendar(day_start=time(17), day_end=time(9))


def test_the_cutoff_of_older_than_lands_on_working_time() -> None:
    now = local("Europe/Berlin", 2026, 3, 30, 10)  # Monday, summer time since Sunday
    # Two hours back: one on Monday morning, one on Friday afternoon (winter time).
    assert working_cutoff(now, 2, BERLIN_OFFICE) == local("Europe/Berlin", 2026, 3, 27, 16)
    # Exactly one hour back is Monday 09:00; nothing before it counts until Friday 17:00.
    assert working_cutoff(now, 1, BERLIN_OFFICE) == local("Europe/Berlin", 2026, 3, 27, 17)
    assert working_cutoff(now, 0, BERLIN_OFFICE) == now


def _minutes(start: datetime, end: datetime, calendar: WorkCalendar) -> timedelta:
    """The reference: walk minute by minute and ask the zone's wall clock each time."""
    zone, total, step = ZoneInfo(calendar.zone), timedelta(0), timedelta(minutes=1)
    moment = start
    while moment < end:
        wall = moment.astimezone(zone)
        opens, closes = calendar.period(wall.date())
        if wall.weekday() in calendar.weekdays and opens <= moment < closes:
            total += step
        moment += step
    return total


CALENDARS = st.sampled_from(
    [
        BERLIN_OFFICE,
        WorkCalendar.of("Europe/Berlin", ["sat", "sun"], "00:30", "03:30"),
        WorkCalendar.of("America/New_York", ["mon", "wed", "sun"], "01:15", "02:45"),
        WorkCalendar.of("Australia/Lord_Howe", ["mon", "tue", "sun"], "01:00", "03:00"),
    ]
)
# Minutes around the spring and autumn changes of both hemispheres in 2026.
STARTS = st.sampled_from(
    [datetime(2026, month, day, tzinfo=UTC) for month, day in ((3, 5), (3, 25), (10, 1), (10, 21))]
)


@settings(max_examples=40, deadline=None)
@given(
    calendar=CALENDARS,
    base=STARTS,
    offset=st.integers(0, 60 * 24 * 10),
    length=st.integers(0, 60 * 24 * 12),
    hours=st.sampled_from([0, 0.5, 1, 1.5, 8, 16, 30]),
)
def test_working_time_is_the_minutes_the_wall_clock_says_and_the_cutoff_inverts_it(
    calendar: WorkCalendar, base: datetime, offset: int, length: int, hours: float
) -> None:
    start = base + timedelta(minutes=offset)
    end = start + timedelta(minutes=length)
    assert working_time(start, end, calendar) == _minutes(start, end, calendar)
    cutoff = working_cutoff(end, hours, calendar)
    assert working_hours(cutoff, end, calendar) <= hours
    assert working_hours(cutoff - timedelta(microseconds=1), end, calendar) > hours
