"""A blocker's age in working hours of the project's calendar (time zone, working days, working
hours), across daylight-saving changes, with the clock frozen; the escalation sweep."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from takt.blockers import jobs
from takt.core.db import Database
from takt.core.events import Event
from takt.core.jobs import JobContext
from takt.core.time import clock_at
from tests.blockers.kit import BLOCKERS, an_item, raise_on, use_calendar
from tests.support import Account, team


def berlin(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of 2026 given on Berlin's wall clock (CET +1 until 29 March and from 25
    October, CEST +2 between)."""
    summer = (month, day) >= (3, 29) and (month, day) < (10, 25)
    return datetime(2026, month, day, hour - (2 if summer else 1), minute, tzinfo=UTC)


async def _age_at(client: AsyncClient, who: Account, blocker: dict[str, Any], at: datetime) -> Any:
    with clock_at(at):
        response = await client.get(f"/api/v1/blockers/{blocker['id']}", headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()["age_working_hours"]


async def test_age_counts_working_hours_across_the_spring_change(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await use_calendar(client, people["ada"])
    bob = people["bob"]
    blocker = await raise_on(client, bob, await an_item(client, bob), at=berlin(3, 27, 16))
    # Friday 16:00-17:00, then the weekend (and its change to summer time) counts nothing,
    # then Monday 09:00-10:00 on the new clock: two hours, not one or three.
    assert await _age_at(client, bob, blocker, berlin(3, 27, 16, 30)) == 0.5
    assert await _age_at(client, bob, blocker, berlin(3, 28, 12)) == 1.0
    assert await _age_at(client, bob, blocker, berlin(3, 30, 10)) == 2.0
    assert await _age_at(client, bob, blocker, berlin(3, 31, 18)) == 17.0


async def test_age_counts_working_hours_across_the_autumn_change(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await use_calendar(client, people["ada"])
    bob = people["bob"]
    blocker = await raise_on(client, bob, await an_item(client, bob), at=berlin(10, 23, 16))
    assert await _age_at(client, bob, blocker, berlin(10, 26, 10)) == 2.0


async def test_age_follows_the_projects_working_days_and_hours(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await use_calendar(
        client,
        people["ada"],
        working_days=["sun", "mon"],
        workday_start="00:00",
        workday_end="08:00",
    )
    bob = people["bob"]
    blocker = await raise_on(client, bob, await an_item(client, bob), at=berlin(3, 28, 12))
    # A night shift on the Sunday the clocks go forward at 02:00 lasts seven hours.
    assert await _age_at(client, bob, blocker, berlin(3, 29, 12)) == 7.0
    assert await _age_at(client, bob, blocker, berlin(3, 30, 12)) == 15.0


async def test_a_resolved_blockers_age_stops_at_its_resolution(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await use_calendar(client, people["ada"])
    bob = people["bob"]
    blocker = await raise_on(client, bob, await an_item(client, bob), at=berlin(3, 27, 16))
    with clock_at(berlin(3, 30, 10)):
        resolved = await client.post(
            f"/api/v1/blockers/{blocker['id']}/resolve", headers=bob.headers
        )
    assert resolved.json()["age_working_hours"] == 2.0
    assert await _age_at(client, bob, blocker, berlin(4, 30, 10)) == 2.0


async def test_older_than_counts_working_hours_open_and_resolved(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await use_calendar(client, people["ada"])
    bob = people["bob"]
    old = await raise_on(client, bob, await an_item(client, bob), at=berlin(3, 27, 16))
    young = await raise_on(client, bob, await an_item(client, bob), at=berlin(3, 30, 9, 30))
    brief = await raise_on(client, bob, await an_item(client, bob), at=berlin(3, 26, 9))
    with clock_at(berlin(3, 26, 12)):
        await client.post(f"/api/v1/blockers/{brief['id']}/resolve", headers=bob.headers)

    async def older_than(hours: float) -> list[str]:
        with clock_at(berlin(3, 30, 10)):
            response = await client.get(
                BLOCKERS, params={"older_than_hours": hours}, headers=bob.headers
            )
        assert response.status_code == 200, response.text
        return [b["id"] for b in response.json()["data"]]

    # Ages at Monday 10:00: old 2 h, young 0.5 h, brief 3 h (resolved after three hours).
    assert await older_than(0) == [old["id"], young["id"], brief["id"]]
    assert await older_than(0.5) == [old["id"], brief["id"]]
    assert await older_than(1.99) == [old["id"], brief["id"]]
    assert await older_than(2) == [brief["id"]]
    assert await older_than(3) == []


async def _sweep(app: FastAPI, db: Database, at: datetime) -> None:
    with clock_at(at):
        await jobs.escalate(JobContext(database=db, settings=app.state.settings, worker_id="t"))


async def _escalations(db: Database) -> list[dict[str, Any]]:
    async with db.transaction() as session:
        found = await session.scalars(
            select(Event).where(Event.type == "blocker.escalated").order_by(Event.seq)
        )
        return [event.data for event in found]


async def test_the_sweep_escalates_a_blocker_once_past_two_working_days(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await use_calendar(client, people["ada"])
    bob = people["bob"]
    blocker = await raise_on(client, bob, await an_item(client, bob), at=berlin(3, 27, 16))
    fresh = await raise_on(client, bob, await an_item(client, bob), at=berlin(3, 30, 9))
    # 1 h on Friday, 8 on Monday, 7 on Tuesday: 16 working hours at Tuesday 16:00.
    await _sweep(app, db, berlin(3, 31, 15, 45))
    assert await _escalations(db) == []
    await _sweep(app, db, berlin(3, 31, 16, 30))
    await _sweep(app, db, berlin(3, 31, 16, 45))
    # The second one is exactly 16 working hours old on Wednesday at 09:00: not older yet.
    await _sweep(app, db, berlin(4, 1, 9))
    assert await _escalations(db) == [
        {
            "id": blocker["id"],
            "item_key": blocker["item_key"],
            "age_working_hours": 16.5,
            "threshold_hours": 16.0,
            "reason": "Waiting for the sandbox",
            "waiting_on": {"kind": "external", "name": "Stripe"},
            "raised_by": "bob",
        }
    ]
    shown = await client.get(f"/api/v1/blockers/{blocker['id']}", headers=bob.headers)
    assert shown.json()["escalated"] is True
    assert shown.json()["escalated_at"] == "2026-03-31T14:30:00Z"
    assert shown.json()["version"] == blocker["version"] + 1
    still = await client.get(f"/api/v1/blockers/{fresh['id']}", headers=bob.headers)
    assert still.json()["escalated"] is False


async def test_the_escalation_says_why_whom_it_waits_on_and_who_raised_it_as_it_stands(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await use_calendar(client, people["ada"])
    ada, bob = people["ada"], people["bob"]
    on_person = await raise_on(
        client,
        bob,
        await an_item(client, bob),
        at=berlin(3, 27, 16),
        reason="Needs the API keys",
        waiting_on={"kind": "person", "user": "ada"},
    )
    other = await an_item(client, ada)
    on_item = await raise_on(
        client,
        ada,
        await an_item(client, ada),
        at=berlin(3, 27, 16),
        reason="Builds on the schema change",
        waiting_on={"kind": "item", "item_key": other},
    )
    # Changed after it was raised: the escalation says what holds now.
    with clock_at(berlin(3, 30, 9)):
        changed = await client.patch(
            f"/api/v1/blockers/{on_person['id']}",
            json={"reason": "Needs the production API keys"},
            headers=bob.headers,
        )
    assert changed.status_code == 200, changed.text
    await _sweep(app, db, berlin(3, 31, 16, 30))

    by_id = {data["id"]: data for data in await _escalations(db)}
    assert set(by_id) == {on_person["id"], on_item["id"]}
    person = by_id[on_person["id"]]
    assert (person["reason"], person["waiting_on"], person["raised_by"]) == (
        "Needs the production API keys",
        {"kind": "person", "user": "ada"},
        "bob",
    )
    item = by_id[on_item["id"]]
    assert (item["reason"], item["waiting_on"], item["raised_by"]) == (
        "Builds on the schema change",
        {"kind": "item", "item_key": other},
        "ada",
    )
    # The project's event log shows the same payload to its readers.
    log = await client.get("/api/v1/projects/API/events?limit=100", headers=bob.headers)
    assert log.status_code == 200, log.text
    [shown] = [
        e["data"]
        for e in log.json()["data"]
        if e["type"] == "blocker.escalated" and e["data"]["id"] == on_item["id"]
    ]
    assert shown == item


async def test_the_threshold_is_the_projects_and_resolved_blockers_never_escalate(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await use_calendar(client, people["ada"], blocker_escalation_hours=4)
    bob = people["bob"]
    slow = await raise_on(client, bob, await an_item(client, bob), at=berlin(3, 30, 9))
    done = await raise_on(client, bob, await an_item(client, bob), at=berlin(3, 30, 9))
    with clock_at(berlin(3, 30, 12)):
        await client.post(f"/api/v1/blockers/{done['id']}/resolve", headers=bob.headers)
    await _sweep(app, db, berlin(3, 30, 13, 30))
    assert [e["id"] for e in await _escalations(db)] == [slow["id"]]
