"""Monte Carlo forecasts: the simulation against exact distributions, and the API."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from itertools import product

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from takt.core.time import clock_at
from takt.sprints.forecast import (
    days_to_finish,
    finish_percentiles,
    probability_within,
    simulate,
)
from tests.support import Account, new_item, team


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
        open_key = (await new_item(client, ada))["key"]
        by_keys = await client.post(
            "/api/v1/projects/API/forecast",
            json={"item_keys": [open_key, open_key, "API-1"]},
            headers=ada.headers,
        )
        unknown = await client.post(
            "/api/v1/projects/API/forecast",
            json={"item_keys": [open_key, "API-99999"]},
            headers=ada.headers,
        )
    # Done items count for nothing, a key named twice once; an unknown key is refused.
    assert by_keys.status_code == 200, by_keys.text
    assert by_keys.json()["items"] == 1
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [{"pointer": "/item_keys/1", "message": "unknown item"}]
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
    """METRICS.md: too little history answers 422 with a reason."""
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


def test_a_walk_stops_at_its_horizon() -> None:
    trials = days_to_finish([0] * 59 + [1], 10_000, max_days=7)
    assert set(trials) == {7}
    assert len(days_to_finish([0, 1], 5, max_days=3, trials=123)) == 123


async def _sparse_history(client: AsyncClient, ada: Account) -> datetime:
    """Ten working days in which one item was finished: a project that barely moves, so every
    trial of a big forecast goes to the horizon (a walk in Python took seconds)."""
    with clock_at(datetime(2026, 11, 2, 9, tzinfo=UTC)):
        item = await new_item(client, ada)
        await client.patch(
            f"/api/v1/items/{item['key']}", json={"status": "Done"}, headers=ada.headers
        )
    return datetime(2026, 11, 16, 8, tzinfo=UTC)


async def test_forecast_of_more_items_than_the_maximum_is_422(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    today = await _sparse_history(client, ada)
    url = "/api/v1/projects/API/forecast"
    with clock_at(today):
        too_many = await client.post(url, json={"item_count": 10_001}, headers=ada.headers)
        most = await client.post(url, json={"item_count": 10_000}, headers=ada.headers)
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["pointer"] == "/item_count"
    assert most.status_code == 200, most.text
    assert most.json()["trials"] == 10_000


async def test_healthz_answers_within_100_ms_while_four_maximum_forecasts_run(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """The simulation runs off the event loop, so other requests don't wait behind it."""
    vic = (people := await team(app, db))["vic"]  # a viewer may ask for forecasts
    today = await _sparse_history(client, people["ada"])
    with clock_at(today):
        # Once first: the first request of a route compiles its SQL (a one-time cost of any
        # route, whatever the forecast's size).
        warm = await client.post(
            "/api/v1/projects/API/forecast", json={"item_count": 1}, headers=vic.headers
        )
        assert warm.status_code == 200, warm.text
        forecasts = [
            asyncio.create_task(
                client.post(
                    "/api/v1/projects/API/forecast",
                    json={"item_count": 10_000},
                    headers=vic.headers,
                )
            )
            for _ in range(4)
        ]
        # /healthz is due every 20 ms; each wait runs from when it was due to its answer. The
        # client shares the event loop, so a loop held by a forecast delays the asking as well
        # as the answer: both count.
        waits: list[float] = []
        due = time.perf_counter()
        while not all(f.done() for f in forecasts):
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            health = await client.get("/healthz")
            answered = time.perf_counter()
            assert health.status_code == 200
            waits.append(answered - due)
            due = max(due + 0.02, answered)
        answers = [f.result() for f in forecasts]
    assert [a.status_code for a in answers] == [200] * 4, answers[0].text
    assert len({a.content for a in answers}) == 1  # seeded: the same data, the same answer
    assert max(waits) < 0.1, f"/healthz waited {max(waits):.3f} s"


async def test_a_long_simulation_runs_off_the_event_loop() -> None:
    """Many distinct throughput values and a horizon almost reached: the walk can't be cut
    short, and the event loop keeps running while it goes."""
    history = [0] * 450 + list(range(1, 51))
    lateness: list[float] = []

    async def tick() -> None:
        while True:
            due = time.perf_counter() + 0.005
            await asyncio.sleep(0.005)
            lateness.append(time.perf_counter() - due)

    ticker = asyncio.create_task(tick())
    started = time.perf_counter()
    trials = await simulate(history, 10_000)
    took = time.perf_counter() - started
    ticker.cancel()
    assert trials == days_to_finish(history, 10_000)
    assert len(lateness) > took / 0.05  # the loop went on ticking all along...
    # ...never held up for long. On the loop it would be held up for the whole walk (`took`);
    # a fraction of it leaves room for a machine busy with other work (a fixed 50 ms failed
    # under load) while still failing if the walk ran on the loop.
    assert max(lateness) < max(0.1, took / 4)


async def test_a_forecast_beyond_its_horizon_says_so_instead_of_a_date(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    with clock_at(datetime(2026, 11, 2, 9, tzinfo=UTC)):
        await new_item(client, ada)  # history starts here
    with clock_at(datetime(2026, 11, 25, 9, tzinfo=UTC)):
        item = await new_item(client, ada)
        await client.patch(
            f"/api/v1/items/{item['key']}", json={"status": "Done"}, headers=ada.headers
        )
    # One item finished in the last 10 working days: 10,000 items take about 400 years.
    with clock_at(datetime(2026, 11, 30, 9, tzinfo=UTC)):
        answer = await client.post(
            "/api/v1/projects/API/forecast",
            json={"item_count": 10_000, "window": 10},
            headers=ada.headers,
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["finish"] == {"p50": None, "p85": None, "p95": None}
