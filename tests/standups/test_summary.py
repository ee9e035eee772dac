"""The day's summary (METRICS.md, Stand-ups) and its recording at the cut-off by the worker."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from takt.config import Settings
from takt.core.db import Database
from takt.core.events import Event
from takt.core.jobs import JobContext
from takt.core.time import clock_at
from takt.standups import summary as summaries
from takt.standups.jobs import SWEEPS, record_due_summaries
from tests.standups.kit import CONFIG, call, day_url, ok, submit, utc
from tests.support import (
    Account,
    QueryCounter,
    add_member,
    make_project,
    make_user,
    new_item,
    team,
)

MONDAY = "2026-11-16"


async def _squad(client: AsyncClient, app: FastAPI, db: Database) -> dict[str, Account]:
    """ada (admin), bob, cid, dan (members), vic (viewer), sam (outsider)."""
    people = await team(app, db)
    project = ok(await client.get("/api/v1/projects/API", headers=people["ada"].headers))
    for name in ("cid", "dan"):
        people[name] = await make_user(app, db, name)
        await add_member(db, project["id"], people[name], "member")
    return people


async def _history(client: AsyncClient, ada: Account) -> None:
    """One item finished on each of the ten working days from 2 to 13 November 2026."""
    day = utc(2026, 11, 2, 9)
    while day < utc(2026, 11, 14):
        if day.weekday() < 5:
            with clock_at(day):
                key = (await new_item(client, ada))["key"]
                done = await client.patch(
                    f"/api/v1/items/{key}", json={"status": "Done"}, headers=ada.headers
                )
                assert done.status_code == 200, done.text
        day += timedelta(days=1)


async def _sprint(client: AsyncClient, ada: Account, items: int) -> tuple[str, list[str]]:
    with clock_at(utc(2026, 11, 16, 7)):
        sprint = ok(
            await client.post(
                "/api/v1/projects/API/sprints",
                json={"name": "Sprint 1", "start_date": MONDAY, "end_date": "2026-11-20"},
                headers=ada.headers,
            ),
            201,
        )
        keys = [(await new_item(client, ada, sprint_id=sprint["id"]))["key"] for _ in range(items)]
        ok(await client.post(f"/api/v1/sprints/{sprint['id']}/start", headers=ada.headers))
    return str(sprint["id"]), keys


def _context(db: Database, settings: Settings) -> JobContext:
    return JobContext(database=db, settings=settings, worker_id="test-worker")


async def _sweep(db: Database, settings: Settings, at: datetime) -> None:
    with clock_at(at):
        await record_due_summaries(_context(db, settings))


async def _ready_events(db: Database) -> list[Event]:
    async with db.transaction(write=False) as session:
        return list(
            await session.scalars(
                select(Event).where(Event.type == "standup.summary_ready").order_by(Event.seq)
            )
        )


async def test_the_summary_counts_who_checked_in_minus_who_is_away(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await _squad(client, app, db)
    ada = people["ada"]
    sprint_id, _ = await _sprint(client, ada, 2)
    with clock_at(utc(2026, 11, 16, 7)):
        away = await client.put(
            f"/api/v1/sprints/{sprint_id}/capacity/dan",
            json={"allocation": 1, "absent_days": [MONDAY]},
            headers=ada.headers,
        )
    assert away.status_code == 200, away.text
    at = utc(2026, 11, 16, 9)
    ok(await submit(client, people["bob"], MONDAY, at=at, blocked=True, answers={"today": "x"}))
    ok(await submit(client, ada, MONDAY, at=at))
    ok(await submit(client, people["dan"], MONDAY, at=at))  # away, yet checked in
    summary = ok(await call(client, people["vic"], "GET", day_url(MONDAY), at=at))
    assert summary["participation"] == {
        "participants": 4,
        "absent": 1,
        "expected": 3,
        "submitted": 2,
        "rate": 0.6667,
    }
    assert [u["username"] for u in summary["missing"]] == ["cid"]
    assert [u["username"] for u in summary["absent"]] == ["dan"]
    assert [e["user"]["username"] for e in summary["entries"]] == ["ada", "bob", "dan"]
    assert summary["blocked_rate"] == 0.3333
    assert summary["past_cutoff"] is False
    assert summary["recorded"] is None
    assert summary["sprint"]["sprint_id"] == sprint_id
    assert summary["sprint"]["probability"] is None  # no history to forecast from
    assert "history" in summary["sprint"]["reason"]


async def test_listed_participants_only_and_nobody_expected_is_no_rate(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await _squad(client, app, db)
    listed = {"participants": [people["cid"].id, people["dan"].id]}
    ok(await client.put(CONFIG, json=listed, headers=people["ada"].headers))
    at = utc(2026, 11, 16, 9)
    ok(await submit(client, people["cid"], MONDAY, at=at))
    summary = ok(await call(client, people["ada"], "GET", day_url(MONDAY), at=at))
    assert summary["participation"]["participants"] == 2
    assert summary["participation"]["rate"] == 0.5
    assert [u["username"] for u in summary["missing"]] == ["dan"]
    # A listed person who leaves the project no longer counts; with nobody expected, no rate.
    ok(
        await client.put(
            CONFIG, json={"participants": [people["dan"].id]}, headers=people["ada"].headers
        )
    )
    left = await client.delete(
        f"/api/v1/projects/API/members/{people['dan'].id}", headers=people["ada"].headers
    )
    assert left.status_code == 204, left.text
    nobody = ok(await call(client, people["vic"], "GET", day_url(MONDAY), at=at))
    assert nobody["participation"]["participants"] == 0
    assert nobody["participation"]["rate"] is None
    assert nobody["missing"] == []
    assert nobody["blocked_rate"] == 0.0  # cid's entry is still shown and counted


async def test_open_blockers_come_oldest_first_with_their_age(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await _squad(client, app, db)
    bob = people["bob"]
    keys = [(await new_item(client, bob))["key"] for _ in range(3)]
    body = {"reason": "Stuck", "waiting_on": {"kind": "team", "name": "Ops"}}
    moments = (utc(2026, 11, 13, 10), utc(2026, 11, 12, 10), utc(2026, 11, 16, 9))
    for key, at in zip(keys, moments, strict=True):
        with clock_at(at):
            raised = await client.post(
                "/api/v1/projects/API/blockers", json={"item_key": key, **body}, headers=bob.headers
            )
        assert raised.status_code == 201, raised.text
    summary = ok(await call(client, bob, "GET", day_url(MONDAY), at=utc(2026, 11, 16, 11)))
    listed = summary["open_blockers"]
    assert [b["item_key"] for b in listed] == [keys[1], keys[0], keys[2]]
    # Working hours 09:00-17:00 UTC: Thu 10:00 → Mon 11:00 is 7 + 8 + 2 hours.
    assert [b["age_working_hours"] for b in listed] == [17.0, 9.0, 2.0]
    assert summary["open_blocker_count"] == 3


async def test_the_sprint_outlook_and_its_change_since_the_previous_stand_up(
    client: AsyncClient, app: FastAPI, db: Database, settings: Settings
) -> None:
    people = await _squad(client, app, db)
    ada = people["ada"]
    ok(await client.put(CONFIG, json={}, headers=ada.headers))  # the project holds stand-ups
    await _history(client, ada)
    sprint_id, keys = await _sprint(client, ada, 6)
    # Monday: six items, five days, one a day: it can't finish.
    await _sweep(db, settings, utc(2026, 11, 16, 10, 5))
    for key in keys[:2]:
        with clock_at(utc(2026, 11, 16, 15)):
            ok(
                await client.patch(
                    f"/api/v1/items/{key}", json={"status": "Done"}, headers=ada.headers
                )
            )
    # Tuesday: four items, four days, at least one a day: it surely finishes.
    tuesday = ok(await call(client, ada, "GET", day_url("2026-11-17"), at=utc(2026, 11, 17, 9)))
    assert tuesday["sprint"] == {
        "sprint_id": sprint_id,
        "name": "Sprint 1",
        "probability": 1.0,
        "as_of": "now",
        "previous_date": MONDAY,
        "previous_probability": 0.0,
        "change": 1.0,
        "reason": None,
    }
    monday = ok(await call(client, ada, "GET", day_url(MONDAY), at=utc(2026, 11, 17, 9)))
    assert monday["sprint"]["as_of"] == "cutoff"
    assert monday["sprint"]["probability"] == 0.0
    assert monday["recorded"]["participation"] == 0.0
    await _sweep(db, settings, utc(2026, 11, 17, 10, 5))
    events = await _ready_events(db)
    assert [e.data["date"] for e in events] == [MONDAY, "2026-11-17"]
    assert events[1].data["sprint_probability"] == 1.0
    assert events[1].data["sprint_probability_change"] == 1.0


async def test_the_sprint_figure_is_kept_while_its_inputs_hold_and_follows_a_finished_item(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await _squad(client, app, db)
    ada = people["ada"]
    await _history(client, ada)
    sprint_id, keys = await _sprint(client, ada, 6)
    forecast_url = f"/api/v1/sprints/{sprint_id}/forecast"

    async def figure(at: datetime) -> tuple[Any, int]:
        with QueryCounter(db) as counter:
            body = ok(await call(client, people["vic"], "GET", day_url(MONDAY), at=at))
        return body["sprint"]["probability"], counter.count

    summaries._FORECASTS.clear()
    worked_out, replayed = await figure(utc(2026, 11, 16, 8))
    kept, counted = await figure(utc(2026, 11, 16, 8, 30))
    # Six items, five days, one finished a day: it can't finish; the same figure as the
    # sprint's forecast, the second time without replaying the log.
    assert worked_out == kept == 0.0
    assert counted < replayed
    forecast = ok(await call(client, ada, "GET", forecast_url, at=utc(2026, 11, 16, 8, 30)))
    assert forecast["probability"] == kept
    for key in keys[:2]:
        with clock_at(utc(2026, 11, 16, 9)):
            done = await client.patch(
                f"/api/v1/items/{key}", json={"status": "Done"}, headers=ada.headers
            )
        assert done.status_code == 200, done.text
    # Two finished the same morning: four left, five days: it surely finishes, at once.
    after, _ = await figure(utc(2026, 11, 16, 9, 5))
    assert after == 1.0
    forecast = ok(await call(client, ada, "GET", forecast_url, at=utc(2026, 11, 16, 9, 5)))
    assert forecast["probability"] == after


async def test_the_worker_records_each_day_once_after_the_cut_off(
    client: AsyncClient, app: FastAPI, db: Database, settings: Settings
) -> None:
    people = await _squad(client, app, db)
    ok(await submit(client, people["bob"], MONDAY, at=utc(2026, 11, 16, 9), answers={"today": "x"}))
    await _sweep(db, settings, utc(2026, 11, 16, 9, 59))  # before the cut-off: nothing
    assert await _ready_events(db) == []
    await _sweep(db, settings, utc(2026, 11, 16, 10))
    await _sweep(db, settings, utc(2026, 11, 16, 10, 5))
    events = await _ready_events(db)
    assert len(events) == 1
    data: dict[str, Any] = events[0].data
    assert data["date"] == MONDAY
    assert data["cutoff_at"] == "2026-11-16T10:00:00Z"
    assert data["expected"] == 4
    assert data["submitted"] == 1
    assert data["participation"] == 0.25
    assert data["missing"] == ["ada", "cid", "dan"]
    assert data["answers"] is None  # not shared by default
    assert events[0].actor_id is None
    # A late entry changes the live summary, not what was recorded at the cut-off.
    ok(await submit(client, people["cid"], MONDAY, at=utc(2026, 11, 16, 11)))
    summary = ok(
        await call(client, people["ada"], "GET", day_url(MONDAY), at=utc(2026, 11, 16, 11))
    )
    assert summary["participation"]["submitted"] == 2
    assert summary["recorded"]["submitted"] == 1


async def test_shared_answers_go_into_the_summary_event(
    client: AsyncClient, app: FastAPI, db: Database, settings: Settings
) -> None:
    people = await _squad(client, app, db)
    ok(
        await client.put(
            CONFIG, json={"share_answers_in_events": True}, headers=people["ada"].headers
        )
    )
    ok(await submit(client, people["bob"], MONDAY, at=utc(2026, 11, 16, 9), answers={"today": "x"}))
    await _sweep(db, settings, utc(2026, 11, 16, 10, 1))
    (event,) = await _ready_events(db)
    assert event.data["answers"] == [{"username": "bob", "answers": {"today": "x"}}]


async def test_projects_without_stand_ups_send_nothing_and_days_off_neither(
    client: AsyncClient, app: FastAPI, db: Database, settings: Settings
) -> None:
    people = await _squad(client, app, db)
    await make_project(db, people["sam"], "OTH")  # no config, no entry: no stand-up
    await _sweep(db, settings, utc(2026, 11, 16, 12))
    await _sweep(db, settings, utc(2026, 11, 21, 12))  # a Saturday
    assert await _ready_events(db) == []
    ok(await client.put(CONFIG, json={}, headers=people["ada"].headers))
    await _sweep(db, settings, utc(2026, 11, 21, 12))
    assert await _ready_events(db) == []
    await _sweep(db, settings, utc(2026, 11, 23, 12))
    assert [e.data["date"] for e in await _ready_events(db)] == ["2026-11-23"]


async def test_two_sweeps_racing_record_a_day_once(
    client: AsyncClient, app: FastAPI, db: Database, settings: Settings
) -> None:
    people = await _squad(client, app, db)
    ok(await client.put(CONFIG, json={}, headers=people["ada"].headers))
    with clock_at(utc(2026, 11, 16, 10, 30)):
        await asyncio.gather(*(record_due_summaries(_context(db, settings)) for _ in range(4)))
    assert len(await _ready_events(db)) == 1


def test_the_sweep_is_published_for_the_worker() -> None:
    (sweep,) = SWEEPS
    assert sweep.every <= timedelta(minutes=5)
    assert sweep.run is record_due_summaries


async def test_a_disabled_account_is_not_expected_at_the_stand_up(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """An instance admin disabled cid: a member still, but not expected (nor missing), whether
    the stand-up takes every member or lists cid; the viewer still reads the summary."""
    people = await _squad(client, app, db)
    root = await make_user(app, db, "root", admin=True)
    disabled = await client.patch(
        f"/api/v1/users/{people['cid'].id}", json={"is_active": False}, headers=root.headers
    )
    assert disabled.status_code == 200, disabled.text
    at = utc(2026, 11, 16, 9)
    ok(await submit(client, people["bob"], MONDAY, at=at))
    summary = ok(await call(client, people["vic"], "GET", day_url(MONDAY), at=at))
    assert summary["participation"]["participants"] == 3
    assert summary["participation"]["expected"] == 3
    assert [u["username"] for u in summary["missing"]] == ["ada", "dan"]
    listed = {"participants": [people["cid"].id, people["dan"].id]}
    ok(await client.put(CONFIG, json=listed, headers=people["ada"].headers))
    only_dan = ok(await call(client, people["vic"], "GET", day_url(MONDAY), at=at))
    assert only_dan["participation"]["expected"] == 1
    assert [u["username"] for u in only_dan["missing"]] == ["dan"]
