"""Cut-offs in the project's time zone, across daylight-saving changes, and stand-up dates that
are the project's local date wherever a member is."""

from __future__ import annotations

from datetime import date

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from takt.standups.calendar import StandupCalendar
from tests.standups.kit import call, day_url, ok, submit, use_settings, utc
from tests.support import team

BERLIN = {"time_zone": "Europe/Berlin"}


def test_a_cut_off_is_the_wall_clock_time_of_that_day_in_the_zone() -> None:
    calendar = StandupCalendar.of(BERLIN, None, "10:00")
    # Berlin leaves winter time on 2026-03-29 and returns to it on 2026-10-25.
    assert calendar.cutoff_at(date(2026, 3, 27)) == utc(2026, 3, 27, 9)
    assert calendar.cutoff_at(date(2026, 3, 30)) == utc(2026, 3, 30, 8)
    assert calendar.cutoff_at(date(2026, 10, 23)) == utc(2026, 10, 23, 8)
    assert calendar.cutoff_at(date(2026, 10, 26)) == utc(2026, 10, 26, 9)


def test_a_cut_off_in_the_spring_gap_or_the_autumn_fold() -> None:
    calendar = StandupCalendar.of(BERLIN, ["sun"], "02:30")
    # 02:30 doesn't exist on 2026-03-29: read with the winter offset (03:30 summer time).
    assert calendar.cutoff_at(date(2026, 3, 29)) == utc(2026, 3, 29, 1, 30)
    # 02:30 happens twice on 2026-10-25: the first time, still summer time.
    assert calendar.cutoff_at(date(2026, 10, 25)) == utc(2026, 10, 25, 0, 30)


async def test_late_is_decided_in_local_time_on_both_sides_of_the_spring_change(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await use_settings(client, people["ada"], **BERLIN)
    bob = people["bob"]
    # 08:30 UTC is 09:30 in Berlin on the Friday before (on time), 10:30 on the Monday after.
    friday = ok(await submit(client, bob, "2026-03-27", at=utc(2026, 3, 27, 8, 30)))
    monday = ok(await submit(client, bob, "2026-03-30", at=utc(2026, 3, 30, 8, 30)))
    assert friday["late"] is False
    assert monday["late"] is True
    assert ok(await submit(client, bob, "2026-03-27", at=utc(2026, 3, 27, 9, 1)))["late"] is True
    assert (
        ok(await submit(client, people["ada"], "2026-03-30", at=utc(2026, 3, 30, 7, 59)))["late"]
        is False
    )
    summary = ok(await call(client, bob, "GET", day_url("2026-03-30"), at=utc(2026, 3, 30, 9)))
    assert summary["cutoff_at"] == "2026-03-30T08:00:00Z"
    assert summary["past_cutoff"] is True


async def test_late_is_decided_in_local_time_on_both_sides_of_the_autumn_change(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await use_settings(client, people["ada"], **BERLIN)
    bob = people["bob"]
    # 08:30 UTC is 10:30 in Berlin on the Friday before (late), 09:30 on the Monday after.
    friday = ok(await submit(client, bob, "2026-10-23", at=utc(2026, 10, 23, 8, 30)))
    monday = ok(await submit(client, bob, "2026-10-26", at=utc(2026, 10, 26, 8, 30)))
    assert friday["late"] is True
    assert monday["late"] is False
    summary = ok(await call(client, bob, "GET", day_url("2026-10-26"), at=utc(2026, 10, 26, 8)))
    assert summary["cutoff_at"] == "2026-10-26T09:00:00Z"
    assert summary["past_cutoff"] is False


async def test_the_stand_up_date_is_the_project_local_date(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """A team in Auckland (UTC+13 in November): a member anywhere checks in for the team's
    day, which starts while it is still the day before in UTC."""
    people = await team(app, db)
    await use_settings(client, people["ada"], time_zone="Pacific/Auckland")
    bob = people["bob"]
    morning = utc(2026, 11, 24, 20)  # Wednesday 25 November, 09:00 in Auckland
    entry = ok(await submit(client, bob, "2026-11-25", at=morning))
    assert entry["late"] is False  # the cut-off is 10:00 there: 21:00 UTC on the 24th
    assert ok(await submit(client, bob, "2026-11-25", at=utc(2026, 11, 24, 21, 1)))["late"] is True
    ahead = await submit(client, bob, "2026-11-26", at=morning)
    assert ahead.status_code == 422
    assert "it is 2026-11-25 in Pacific/Auckland" in ahead.json()["detail"]
    # Late on the 25th in UTC it is the 26th in Auckland already.
    assert (await submit(client, bob, "2026-11-26", at=utc(2026, 11, 25, 20))).status_code == 200
