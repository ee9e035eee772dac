"""The throughput history kept per project and local day (sprints/reports.py): a forecast from
the kept history is the forecast worked out from the log, and an event dated before today (an
import, a pinned clock) makes it worked out again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from takt.core.time import clock_at
from takt.sprints import reports
from tests.support import Account, QueryCounter, new_item, team


def utc(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


async def _finish(client: AsyncClient, ada: Account, at: datetime, **fields: Any) -> str:
    with clock_at(at):
        key = str((await new_item(client, ada, **fields))["key"])
        done = await client.patch(
            f"/api/v1/items/{key}", json={"status": "Done"}, headers=ada.headers
        )
        assert done.status_code == 200, done.text
    return key


async def _setup(client: AsyncClient, ada: Account) -> str:
    """Two weeks with one to three items finished a working day, and a sprint of 8 items."""
    day = utc(2)
    while day < utc(14):
        if day.weekday() < 5:
            for _ in range(1 + day.day % 3):
                await _finish(client, ada, day)
        day += timedelta(days=1)
    with clock_at(utc(16, 7)):
        made = await client.post(
            "/api/v1/projects/API/sprints",
            json={"name": "S", "start_date": "2026-11-16", "end_date": "2026-11-20"},
            headers=ada.headers,
        )
        assert made.status_code == 201, made.text
        sprint_id = str(made.json()["id"])
        for _ in range(8):
            await new_item(client, ada, sprint_id=sprint_id)
    return sprint_id


def _replays(statement: str) -> bool:
    return statement.startswith("SELECT events.type, events.subject_id, events.occurred_at")


async def _forecast(client: AsyncClient, ada: Account, url: str, at: datetime) -> Any:
    with clock_at(at):
        answer = await client.get(url, headers=ada.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_the_kept_history_gives_the_forecast_of_the_log(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    sprint_id = await _setup(client, ada)
    at = utc(17, 10)
    for window in (60, 10, 12):
        url = f"/api/v1/sprints/{sprint_id}/forecast?window={window}"
        reports._HISTORIES.clear()
        with QueryCounter(db) as fresh_count:
            fresh = await _forecast(client, ada, url, at)
        with QueryCounter(db) as kept_count:
            kept = await _forecast(client, ada, url, at)
        assert kept == fresh
        # The kept history reads no events to replay (the statements of `finish_events`).
        assert any(_replays(sql) for sql in fresh_count.statements)
        assert not any(_replays(sql) for sql in kept_count.statements)
        assert fresh["history"]["finished_items"] > 0
    # Today's finished items are not history: the kept figure stands, and equals the log's.
    url = f"/api/v1/sprints/{sprint_id}/forecast"
    before = await _forecast(client, ada, url, at)
    await _finish(client, ada, utc(17, 11))
    after = await _forecast(client, ada, url, utc(17, 12))
    reports._HISTORIES.clear()
    assert after == await _forecast(client, ada, url, utc(17, 12)) == before
    # The next day the history covers the 17th: one more finished item.
    next_day = await _forecast(client, ada, url, utc(18, 10))
    reports._HISTORIES.clear()
    assert next_day == await _forecast(client, ada, url, utc(18, 10))


async def test_an_event_dated_before_today_makes_the_history_worked_out_again(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    sprint_id = await _setup(client, ada)
    url = f"/api/v1/sprints/{sprint_id}/forecast"
    at = utc(17, 10)
    kept = await _forecast(client, ada, url, at)
    # Items finished on past days (a pinned clock, as an import dates its events).
    for _ in range(5):
        await _finish(client, ada, utc(10, 15))
    changed = await _forecast(client, ada, url, at)
    assert changed["history"]["finished_items"] == kept["history"]["finished_items"] + 5
    assert changed["probability"] >= kept["probability"]
    reports._HISTORIES.clear()
    assert changed == await _forecast(client, ada, url, at)


async def test_the_project_forecast_uses_the_kept_history_too(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    await _setup(client, ada)

    async def forecast() -> Any:
        with clock_at(utc(17, 10)):
            answer = await client.post(
                "/api/v1/projects/API/forecast", json={"item_count": 30}, headers=ada.headers
            )
        assert answer.status_code == 200, answer.text
        return answer.json()

    reports._HISTORIES.clear()
    fresh = await forecast()
    assert await forecast() == fresh
    assert fresh["finish"]["p50"] is not None
