"""Burndown points: past moments are replayed once and kept, the current day comes from the items
themselves, and all three ways give the numbers a full replay gives."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import delete, func, select
from sqlalchemy.exc import OperationalError

from takt.core.db import Database
from takt.core.time import clock_at
from takt.sprints import repository as sprint_repo
from takt.sprints.models import BurndownPoint
from tests.sprints.test_scripted import _first_sprint, at
from tests.support import QueryCounter, team

# How the replay's read of item events begins (the statement log keeps 90 characters).
REPLAY_READ = "SELECT events.type, events.subject_id, events.occurred_at, events.data"


def measured(days: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The days with actuals (the burndown lists the days still ahead too, with nulls)."""
    return [d for d in days if d["remaining_points"] is not None]


async def _points(db: Database, sprint_id: str) -> int:
    async with db.transaction(write=False) as session:
        count = await session.scalar(
            select(func.count()).where(BurndownPoint.sprint_id == sprint_id)
        )
    return int(count or 0)


async def test_points_are_kept_for_past_days_and_agree_with_a_full_replay(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    s, sid, _ = await _first_sprint(client, ada)
    url = f"/api/v1/sprints/{sid}/burndown"

    # Day 12 at 18:00: days 2-11 and the start are past (kept); day 12 is today (live).
    first = await s.call(at(12, 18), "GET", url)
    assert await _points(db, sid) == 1 + 8  # the start and the working days Nov 2-11
    with QueryCounter(db) as counter:
        again = await s.call(at(12, 18), "GET", url)
    assert again == first
    assert counter.statements  # the statements were seen...
    assert not [
        sql for sql in counter.statements if sql.replace('"', "").startswith(REPLAY_READ)
    ]  # ...no replay

    # The same answers from a replay of the whole log, with nothing kept.
    async with db.transaction() as session:
        await session.execute(delete(BurndownPoint).where(BurndownPoint.sprint_id == sid))
    # Next day: Nov 12 is now past, so it is replayed, and must equal what the items said live.
    replayed = await s.call(at(13, 18), "GET", url)
    assert replayed["days"][: len(measured(first["days"]))] == measured(first["days"])
    assert measured(replayed["days"])[-1]["date"] == "2026-11-13"


async def test_a_moment_not_yet_final_is_not_kept(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    s, sid, _ = await _first_sprint(client, ada)
    # One minute after midnight local (UTC here): Nov 11's end has passed but is not final, as a
    # write begun before midnight could still be committing.
    await s.call(at(12, 0).replace(minute=1), "GET", f"/api/v1/sprints/{sid}/burndown")
    assert await _points(db, sid) == 1 + 7  # the start and the working days Nov 2-10


# Workflow edits that move an item into the done category without touching the item.
WORKFLOW_EDITS = {
    "category changed": ("PATCH", {"json": {"category": "done"}}),
    "status deleted": ("DELETE", {"params": {"move_to": "Done"}}),
}


@pytest.mark.parametrize("edit", WORKFLOW_EDITS)
async def test_a_workflow_edit_is_in_the_log_so_today_and_its_replay_agree(
    client: AsyncClient, app: FastAPI, db: Database, edit: str
) -> None:
    ada = (await team(app, db))["ada"]
    s, sid, keys = await _first_sprint(client, ada)
    url = f"/api/v1/sprints/{sid}/burndown"
    await s.patch(at(12, 9), keys["C"], status="In Review")
    before = measured((await s.call(at(12, 10), "GET", url))["days"])[-1]
    statuses = (await s.call(at(12, 10), "GET", "/api/v1/projects/API/statuses"))["data"]
    review = next(st for st in statuses if st["name"] == "In Review")
    method, arguments = WORKFLOW_EDITS[edit]
    await s.call(at(12, 11), method, f"/api/v1/projects/API/statuses/{review['id']}", **arguments)
    # C (13 points) is done now: today's remaining work drops...
    live = measured((await s.call(at(12, 18), "GET", url))["days"])[-1]
    assert live["remaining_points"] == before["remaining_points"] - 13
    # ...and the day replayed from the log once it has ended says the same.
    replayed = (await s.call(at(13, 18), "GET", url))["days"]
    assert [d for d in replayed if d["date"] == "2026-11-12"] == [live]
    history = await s.call(at(13, 18), "GET", f"/api/v1/items/{keys['C']}/history")
    assert history["data"][-1]["data"]["reason"] == "workflow"
    assert history["data"][-1]["changes"]["category"] == ["in_review", "done"]


async def test_concurrent_first_burndowns_replay_the_log_once(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    _, sid, _ = await _first_sprint(client, ada)
    url = f"/api/v1/sprints/{sid}/burndown"
    with clock_at(at(12, 18)), QueryCounter(db) as counter:
        answers = await asyncio.gather(*(client.get(url, headers=ada.headers) for _ in range(4)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    replays = [sql for sql in counter.statements if sql.replace('"', "").startswith(REPLAY_READ)]
    # The others wait for the first and read the points it kept. (SQLite's read snapshot of a
    # waiting request predates them, so there each may replay; the answers agree either way.)
    if db.dialect == "postgresql":
        assert len(replays) == 1
    else:
        assert 1 <= len(replays) <= 4


async def test_a_burndown_answers_when_its_points_cannot_be_kept(
    client: AsyncClient, app: FastAPI, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = (await team(app, db))["ada"]
    s, sid, _ = await _first_sprint(client, ada)

    async def writer_busy(*_args: object) -> None:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(sprint_repo, "save_burndown_points", writer_busy)
    answer = await s.call(at(12, 18), "GET", f"/api/v1/sprints/{sid}/burndown")
    assert len(measured(answer["days"])) == 9
    assert await _points(db, sid) == 0  # nothing kept: the next request replays again
