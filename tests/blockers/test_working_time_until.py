"""`WorkingTimeUntil` (core/time.py): the working time of many starts to one end, each from a
table of the calendar's days summed once, is `working_time` to the microsecond, across
daylight-saving changes, night hours that contain the change and long spans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from takt.core.time import WorkCalendar, WorkingTimeUntil, working_hours, working_time

CALENDARS = [
    WorkCalendar.of("Europe/Berlin", ["mon", "tue", "wed", "thu", "fri"], "09:00", "17:00"),
    WorkCalendar.of("America/New_York", ["mon", "tue", "wed", "thu"], "08:30", "18:15"),
    # Night hours over 02:00: the working day that holds the change is an hour shorter or longer.
    WorkCalendar.of("Europe/Berlin", ["sat", "sun", "mon"], "01:00", "05:00"),
    # A half-hour change, and a zone east of UTC whose working day starts the UTC day before.
    WorkCalendar.of("Australia/Lord_Howe", ["mon", "tue", "wed", "thu", "fri"], "07:00", "15:00"),
    WorkCalendar.of("Asia/Kolkata", ["sun", "mon", "tue", "wed", "thu"], "00:00", "23:59"),
    WorkCalendar(),
]

# Around the changes of 2026 in these zones: March, April, October and November.
MOMENTS = st.datetimes(
    min_value=datetime(2026, 2, 20), max_value=datetime(2026, 11, 20), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(
    calendar=st.sampled_from(CALENDARS),
    end=MOMENTS,
    starts=st.lists(MOMENTS, min_size=1, max_size=12),
)
def test_every_start_gets_the_working_time_to_the_end(
    calendar: WorkCalendar, end: datetime, starts: list[datetime]
) -> None:
    ages = WorkingTimeUntil(end, calendar)
    for start in starts:
        assert ages.since(start) == working_time(start, end, calendar)
        assert ages.hours_since(start) == working_hours(start, end, calendar)


@pytest.mark.parametrize("calendar", CALENDARS, ids=lambda c: f"{c.zone}-{c.day_start}")
def test_starts_on_every_half_hour_of_a_year_and_around_the_changes(
    calendar: WorkCalendar,
) -> None:
    """A table asked in any order (later starts first, then earlier ones that extend it) gives
    the same ages as a walk per start."""
    end = datetime(2026, 11, 3, 13, 7, 5, 123456, tzinfo=UTC)
    ages = WorkingTimeUntil(end, calendar)
    starts = [end - timedelta(minutes=30 * i + 7) for i in range(0, 365 * 48, 97)]
    starts += [end + timedelta(minutes=5), end, datetime(2024, 1, 1, tzinfo=UTC)]
    for start in starts:
        assert ages.since(start) == working_time(start, end, calendar), start


def test_a_blocker_raised_at_the_end_or_after_has_no_age() -> None:
    end = datetime(2026, 3, 30, 8, tzinfo=UTC)  # Monday 10:00 in Berlin (summer time)
    ages = WorkingTimeUntil(end, CALENDARS[0])
    assert ages.since(end) == timedelta(0)
    assert ages.since(end + timedelta(hours=1)) == timedelta(0)
    # Friday 16:00 to Monday 10:00 Berlin over the spring change: an hour each working day.
    friday = datetime(2026, 3, 27, 15, tzinfo=UTC)  # 16:00 in Berlin (winter time)
    assert ages.hours_since(friday) == 2.0
