"""Monte Carlo forecasts: the simulation against exact distributions, and the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from takt.core.time import clock_at
from takt.sprints.forecast import days_to_finish, finish_percentiles, probability_within
from tests.support import new_item, team


def exact_cdf(history: list[int], items: int, days: int) -> float:
    """P(finished within `days`), by enumerating every equally likely draw sequence."""
    outcomes = list(product(history, repeat=days))
    return sum(1 for draws in outcomes if sum(draws) >= items) / len(outcomes)


def test_percentiles_match_the_exact_distribution() -> None:
    history = [0, 1, 1]  # a day finishes an item with probability 2/3
    # Exact: P(<=1 day) = .667, P(<=2) = .889, P(<=3) = .963 → p50 = 1, p85 = 2, p95 = 3
    assert [round(exact_cdf(history, 1, d), 3) for d in (1, 2, 3)] == [0.667, 0.889, 0.963]
    trials = days_to_finish(history, 1)
    assert finish_percentiles(trials) == [1, 2, 3]
    assert abs(probability_within(trials, 2) - exact_cdf(history, 1, 2)) < 0.01
    two_items = days_to_finish([0, 1, 2], 2)
    for day in (1, 2, 3, 4):
        assert abs(probability_within(two_items, day) - exact_cdf([0, 1, 2], 2, day)) < 0.015


def test_same_data_gives_the_same_answer() -> None:
    assert days_to_finish([0, 2, 1, 0, 3], 17) == days_to_finish([0, 2, 1, 0, 3], 17)


def test_constant_throughput_is_certain() -> None:
    trials = days_to_finish([2, 2, 2], 7)
    assert set(trials) == {4}
    assert probability_within(trials, 3) == 0
    assert probability_within(trials, 4) == 1


async def test_forecasts_from_project_history(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    start = datetime(2026, 11, 2, 9, tzinfo=UTC)  # a Monday
    # Two weeks: one item finished every working day.
    day = start
    finished = 0
    while finished < 10:
        if day.weekday() < 5:
            with clock_at(day):
                item = await new_item(client, ada)
                await client.patch(
                    f"/api/v1/items/{item['key']}", json={"status": "Done"}, headers=ada.headers
                )
            finished += 1
        day += timedelta(days=1)
    today = datetime(2026, 11, 16, 8, tzinfo=UTC)  # the Monday after
    with clock_at(today):
        answer = await client.post(
            "/api/v1/projects/API/forecast", json={"item_count": 3}, headers=ada.headers
        )
        sprint = (
            await client.post(
                "/api/v1/projects/API/sprints",
                json={"name": "S", "start_date": "2026-11-16", "end_date": "2026-11-18"},
                headers=ada.headers,
            )
        ).json()
        for _ in range(4):
            await new_item(client, ada, sprint_id=sprint["id"])
        await client.post(f"/api/v1/sprints/{sprint['id']}/start", headers=ada.headers)
        odds = await client.get(f"/api/v1/sprints/{sprint['id']}/forecast", headers=ada.headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["history"]["working_days"] == 10
    assert body["history"]["finished_items"] == 10
    # One a day, three items: Mon, Tue, Wed — at every confidence.
    assert body["finish"] == {"p50": "2026-11-18", "p85": "2026-11-18", "p95": "2026-11-18"}
    assert odds.status_code == 200
    assert odds.json()["remaining_items"] == 4
    assert odds.json()["working_days_left"] == 3
    assert odds.json()["probability"] == 0


async def test_too_little_history_is_422_with_a_reason(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    none_yet = await client.post(
        "/api/v1/projects/API/forecast", json={"item_count": 3}, headers=ada.headers
    )
    assert none_yet.status_code == 422
    assert none_yet.json()["code"] == "not-enough-history"
    await new_item(client, ada)
    young = await client.post(
        "/api/v1/projects/API/forecast", json={"item_count": 3}, headers=ada.headers
    )
    assert young.status_code == 422
    assert "working days of history" in young.json()["detail"]
