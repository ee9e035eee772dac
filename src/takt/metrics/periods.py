"""The periods metrics are asked about: days in the project's time zone, the moment an answer is
"as of", the weeks and months of a series, and how SQL turns a stored UTC timestamp into a local
day on each database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Date, case, cast, func, literal
from sqlalchemy.sql.elements import ColumnElement

from takt.core.bounds import in_calendar
from takt.core.errors import ValidationFailed
from takt.core.time import end_of_day, local_date, utcnow
from takt.projects.models import Project

Granularity = Literal["week", "month"]
# Up to two years at once (the bench's history): 2 x 366 days.
MAX_DAYS = 2 * 366


def zone_of(project: Project) -> str:
    return str(project.settings.get("time_zone", "UTC"))


def weekdays_of(project: Project) -> list[str]:
    return list(project.settings.get("working_days", ["mon", "tue", "wed", "thu", "fri"]))


def day(name: str, value: str | None) -> date | None:
    """A `YYYY-MM-DD` query value as a date; 422 at its name when it is no date, or one outside
    1970-01-01 to 9000-12-31 (the API's calendar)."""
    if value is None:
        return None
    try:
        found = date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed.at(f"/{name}", "not a date", detail=f"`{name}` is no date.") from exc
    if not in_calendar(found):
        raise ValidationFailed.at(
            f"/{name}", "out of range", detail=f"`{name}` is outside 1970-01-01 to 9000-12-31."
        )
    return found


def moment(value: str | None, zone: str) -> datetime:
    """`as_of`: an RFC 3339 date-time with its offset, or a day (`YYYY-MM-DD`: the end of that
    day in the project's time zone); never later than now (later is now: nothing happened
    after now). Default: now."""
    now = utcnow()
    if value is None:
        return now
    if len(value) == 10:
        found_day = day("as_of", value)
        assert found_day is not None
        return min(now, end_of_day(found_day, zone) - timedelta(microseconds=1))
    try:
        found = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed.at(
            "/as_of", "not a date-time", detail="`as_of` is no RFC 3339 date-time."
        ) from exc
    if found.tzinfo is None:
        raise ValidationFailed.at(
            "/as_of", "no offset", detail="`as_of` needs its offset (`Z` or `+02:00`)."
        )
    if not in_calendar(found.astimezone(UTC).date()):
        raise ValidationFailed.at(
            "/as_of", "out of range", detail="`as_of` is outside 1970-01-01 to 9000-12-31."
        )
    return min(now, found.astimezone(UTC))


@dataclass(frozen=True)
class Period:
    """Whole days `first` to `last` in `zone`: the instants `since` (included) to `until`
    (excluded); facts count only when known by `as_of` (included)."""

    first: date
    last: date
    zone: str
    as_of: datetime

    @property
    def since(self) -> datetime:
        return start_of_day(self.first, self.zone)

    @property
    def until(self) -> datetime:
        return end_of_day(self.last, self.zone)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]


def start_of_day(day: date, zone: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def period(
    project: Project, start: date | None, end: date | None, *, as_of: datetime, default_days: int
) -> Period:
    """The days asked for: `to` defaults to the day of `as_of` (and is never after it: a day not
    yet begun has no facts), `from` to `default_days` days before `to`; 422 when `from` is after
    `to` or the period is longer than two years."""
    zone = zone_of(project)
    today = local_date(as_of, zone)
    last = min(end, today) if end is not None else today
    first = start if start is not None else last - timedelta(days=default_days - 1)
    if first > last:
        raise ValidationFailed.at(
            "/from", "after to", detail="`from` is after `to` (or after the day of `as_of`)."
        )
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed.at("/from", "period too long", detail="At most 2 years at once.")
    return Period(first=first, last=last, zone=zone, as_of=as_of)


@dataclass(frozen=True)
class Bucket:
    """One point of a series: its key (the week's Monday or the month's first day, as SQL
    groups) and the days of the period it covers."""

    key: date
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def bucket_start(day: date, granularity: Granularity) -> date:
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def buckets(span: Period, granularity: Granularity) -> list[Bucket]:
    """The calendar weeks (Monday first) or months that meet the period, cut to it."""
    found: list[Bucket] = []
    current = span.first
    while current <= span.last:
        key = bucket_start(current, granularity)
        if granularity == "week":
            following = key + timedelta(days=7)
        else:
            following = (key + timedelta(days=32)).replace(day=1)
        last = min(span.last, following - timedelta(days=1))
        found.append(Bucket(key=key, first=current, last=last))
        current = last + timedelta(days=1)
    return found


# Local days in SQL ----------------------------------------------------------------------------


def _offsets(zone: str, lo: datetime, hi: datetime) -> list[tuple[datetime | None, int]]:
    """The zone's UTC offsets (seconds) between two instants: `(until, offset)` pieces, the last
    with no end. Zones move their clocks a few times a year, so two years are a few pieces."""
    tz = ZoneInfo(zone)

    def offset(at: datetime) -> int:
        shift = at.astimezone(tz).utcoffset()
        return int(shift.total_seconds()) if shift is not None else 0

    pieces: list[tuple[datetime | None, int]] = []
    current_offset = offset(lo)
    step = timedelta(hours=12)
    probe = lo
    while probe < hi:
        following = min(probe + step, hi)
        if offset(following) != current_offset:
            # The change lies in (probe, following]: find its first second.
            low, high = probe, following
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if offset(middle) == current_offset:
                    low = middle
                else:
                    high = middle
            change = high.replace(microsecond=0)
            if offset(change) == current_offset:
                change += timedelta(seconds=1)
            pieces.append((change, current_offset))
            current_offset = offset(change)
        probe = following
    pieces.append((None, current_offset))
    return pieces


def local_day_on_postgres(column: ColumnElement[Any], zone: Any) -> ColumnElement[Any]:
    """The local date of a stored UTC timestamp on PostgreSQL; `zone` is the zone's name, or a
    bound parameter in a statement built once."""
    return cast(func.timezone(zone, column), Date)


@dataclass(frozen=True)
class LocalDays:
    """Turns a stored UTC timestamp into the project's local day (and week or month) in SQL.

    PostgreSQL converts with the zone's rules itself (`timezone(zone, t)`); SQLite knows no
    zones, so the expression adds the zone's offset piece by piece over the instants the query
    can meet (`lo` to `hi`), exactly, daylight-saving changes included. Both answer a date
    (SQLite: `YYYY-MM-DD` text; `as_date` reads either)."""

    zone: str
    dialect: str
    lo: datetime
    hi: datetime

    def _sqlite(self, column: ColumnElement[Any], *modifiers: str) -> ColumnElement[Any]:
        pieces = _offsets(self.zone, self.lo, self.hi)

        def shifted(offset: int) -> ColumnElement[Any]:
            return func.date(column, literal(f"{offset:+d} seconds"), *map(literal, modifiers))

        if len(pieces) == 1:
            return shifted(pieces[0][1])
        whens = [(column < until, shifted(offset)) for until, offset in pieces[:-1]]
        return case(*whens, else_=shifted(pieces[-1][1]))

    def day(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        if self.dialect == "postgresql":
            return local_day_on_postgres(column, self.zone)
        return self._sqlite(column)

    def bucket(self, column: ColumnElement[Any], granularity: Granularity) -> ColumnElement[Any]:
        """The Monday of the local week, or the first day of the local month."""
        if self.dialect == "postgresql":
            return cast(func.date_trunc(granularity, func.timezone(self.zone, column)), Date)
        if granularity == "week":
            return self._sqlite(column, "-6 days", "weekday 1")
        return self._sqlite(column, "start of month")


def as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
