"""Dates and numbers at the edges of what the API accepts: inside, every endpoint answers; outside,
422; never a 5xx (issue 10, point 6). Property tests drive the edges through the HTTP API."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select

from takt.config import Settings
from takt.core.bounds import FIRST_DATE, LAST_DATE
from takt.core.db import Database
from takt.core.migrations import downgrade, upgrade
from takt.core.time import utcnow
from takt.main import create_app
from takt.sprints.models import Sprint
from tests.conftest import FreshDatabase
from tests.support import Account, make_project, make_user, new_item, team

PROPERTY = hypothesis_settings(
    max_examples=25,
    deadline=None,
    database=None,
    # The client and the project are made once per test; every example adds rows of its own.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
EDGE_DATES = [
    date.min,
    date(1969, 12, 31),
    FIRST_DATE,
    FIRST_DATE + timedelta(days=1),
    LAST_DATE - timedelta(days=400),
    LAST_DATE - timedelta(days=1),
    LAST_DATE,
    LAST_DATE + timedelta(days=1),
    date(9999, 12, 30),
    date.max,
]
dates = st.one_of(st.sampled_from(EDGE_DATES), st.dates())
BIG_NUMBERS = [-(2**63), -1, 0, 1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 10**20]
numbers = st.one_of(st.sampled_from(BIG_NUMBERS), st.integers())
estimates = st.one_of(
    st.sampled_from([-1.0, 0.0, 0.5, 1000.0, 1000.5, 1e308, -1e308, 5e-324]),
    st.floats(allow_nan=False, allow_infinity=False),
)


def in_range(day: date) -> bool:
    return FIRST_DATE <= day <= LAST_DATE


def no_5xx(response: Response) -> Response:
    assert response.status_code < 500, (response.request.url, response.text)
    return response


@pytest.fixture
async def people(app: FastAPI, db: Database) -> dict[str, Account]:
    return await team(app, db)


async def _exercise_sprint(client: AsyncClient, ada: Account, sprint: dict[str, Any]) -> None:
    """Every endpoint that computes over a sprint's dates, through its whole life."""
    url = f"/api/v1/sprints/{sprint['id']}"
    h = ada.headers
    await new_item(client, ada, sprint_id=sprint["id"], estimate=3)
    bob_id = next(
        m["user"]["id"]
        for m in no_5xx(await client.get(f"{url}/capacity", headers=h)).json()["members"]
        if m["user"]["username"] == "bob"
    )
    days_off = {"allocation": 0.5, "absent_days": [sprint["start_date"], sprint["end_date"]]}
    assert no_5xx(await client.put(f"{url}/capacity/{bob_id}", json=days_off, headers=h)).is_success
    for path in ("/burndown", "/forecast", ""):
        no_5xx(await client.get(f"{url}{path}", headers=h))
    assert no_5xx(await client.post(f"{url}/start", headers=h)).is_success
    for path in ("/capacity", "/burndown", "/forecast"):
        no_5xx(await client.get(f"{url}{path}", headers=h))
    for target in ("next", "backlog"):
        done = no_5xx(
            await client.post(f"{url}/complete", json={"carry_over_to": target}, headers=h)
        )
        if done.is_success:
            break
        assert done.json()["code"] == "validation-failed"  # no room for a next sprint
    assert done.is_success, done.text  # a sprint can always be completed
    for path in ("/capacity", "/burndown", "/report"):
        assert no_5xx(await client.get(f"{url}{path}", headers=h)).is_success
    no_5xx(await client.get("/api/v1/projects/API/velocity", headers=h))


@PROPERTY
@given(start=dates, end=dates)
async def test_sprint_dates_at_the_edges_answer_422_or_work_everywhere(
    client: AsyncClient, people: dict[str, Account], start: date, end: date
) -> None:
    ada = people["ada"]
    created = no_5xx(
        await client.post(
            "/api/v1/projects/API/sprints",
            json={"name": "Edge", "start_date": start.isoformat(), "end_date": end.isoformat()},
            headers=ada.headers,
        )
    )
    fits = in_range(start) and in_range(end) and 0 <= (end - start).days < 366
    assert created.status_code == (201 if fits else 422), created.text
    if fits:
        await _exercise_sprint(client, ada, created.json())


@PROPERTY
@given(start=dates, end=dates)
async def test_re_dating_a_sprint_to_the_edges_is_422_or_works(
    client: AsyncClient, people: dict[str, Account], start: date, end: date
) -> None:
    ada = people["ada"]
    sprint = (
        await client.post(
            "/api/v1/projects/API/sprints",
            json={"name": "S", "start_date": "2026-11-02", "end_date": "2026-11-13"},
            headers=ada.headers,
        )
    ).json()
    url = f"/api/v1/sprints/{sprint['id']}"
    for body in ({"start_date": start.isoformat()}, {"end_date": end.isoformat()}):
        answer = no_5xx(await client.patch(url, json=body, headers=ada.headers))
        assert answer.status_code in (200, 422), answer.text
    await _exercise_sprint(client, ada, no_5xx(await client.get(url, headers=ada.headers)).json())
    no_5xx(await client.delete(url, headers=ada.headers))


async def test_default_dates_after_a_sprint_ending_on_the_last_date_are_422(
    client: AsyncClient, people: dict[str, Account]
) -> None:
    ada = people["ada"]
    last = await client.post(
        "/api/v1/projects/API/sprints",
        json={"name": "Last", "start_date": "9000-12-01", "end_date": LAST_DATE.isoformat()},
        headers=ada.headers,
    )
    assert last.status_code == 201
    after = await client.post(
        "/api/v1/projects/API/sprints", json={"name": "After"}, headers=ada.headers
    )
    assert after.status_code == 422
    assert after.json()["errors"][0]["pointer"] == "/start_date"
    await _exercise_sprint(client, ada, last.json())


@PROPERTY
@given(due=dates, estimate=estimates)
async def test_item_dates_and_estimates_at_the_edges_are_422_or_stored(
    client: AsyncClient, people: dict[str, Account], due: date, estimate: float
) -> None:
    ada = people["ada"]
    created = no_5xx(
        await client.post(
            "/api/v1/projects/API/items",
            json={"title": "Edge", "due_date": due.isoformat(), "estimate": estimate},
            headers=ada.headers,
        )
    )
    assert created.status_code in (201, 422), created.text
    if not in_range(due) or not 0 <= estimate <= 1000:
        assert created.status_code == 422
    item = await new_item(client, ada)
    url = f"/api/v1/items/{item['key']}"
    for body in ({"due_date": due.isoformat()}, {"estimate": estimate}):
        answer = no_5xx(await client.patch(url, json=body, headers=ada.headers))
        assert answer.status_code in (200, 422), answer.text
    bulk = no_5xx(
        await client.post(
            "/api/v1/projects/API/items/bulk",
            json={"updates": [{"key": item["key"], "due_date": due.isoformat()}]},
            headers=ada.headers,
        )
    )
    assert bulk.status_code in (200, 422), bulk.text


@PROPERTY
@given(count=numbers, window=numbers, sprints=numbers, allocation=estimates)
async def test_numbers_that_scale_work_are_bounded(
    client: AsyncClient,
    people: dict[str, Account],
    count: int,
    window: int,
    sprints: int,
    allocation: float,
) -> None:
    h = people["ada"].headers
    forecast = no_5xx(
        await client.post(
            "/api/v1/projects/API/forecast", json={"item_count": count, "window": window}, headers=h
        )
    )
    if not (1 <= count <= 10_000 and 10 <= window <= 500):
        assert forecast.status_code == 422
        assert forecast.json()["code"] == "validation-failed"
    velocity = no_5xx(
        await client.get("/api/v1/projects/API/velocity", params={"sprints": sprints}, headers=h)
    )
    assert velocity.status_code == (200 if 1 <= sprints <= 50 else 422)
    sprint = (
        await client.post("/api/v1/projects/API/sprints", json={"name": "N"}, headers=h)
    ).json()
    forecast_window = no_5xx(
        await client.get(
            f"/api/v1/sprints/{sprint['id']}/forecast", params={"window": window}, headers=h
        )
    )
    # Without history a forecast says so (not-enough-history); never a 5xx.
    assert forecast_window.status_code in (200, 409, 422)
    capacity = no_5xx(
        await client.put(
            f"/api/v1/sprints/{sprint['id']}/capacity/{people['bob'].id}",
            json={"allocation": allocation},
            headers=h,
        )
    )
    assert capacity.status_code == (200 if 0 <= allocation <= 1 else 422)


async def test_a_sprint_stored_at_the_end_of_the_calendar_is_brought_inside_and_completes(
    fresh_databases: FreshDatabase, settings: Settings
) -> None:
    """A sprint saved before the bound, ending 9999-12-31, could never be completed; migration
    0010 moves its dates to the calendar's edge, and then it works like any other."""
    url = await fresh_databases.new_url()
    await asyncio.to_thread(upgrade, url)
    isolated = settings.model_copy(update={"database_url": url})
    database = Database.from_settings(isolated)
    app = create_app(isolated, database=database)
    try:
        ada = await make_user(app, database, "ada")
        project_id = await make_project(database, ada)
        async with database.transaction() as session:
            sprint = Sprint(
                project_id=project_id,
                name="Forever",
                start_date=date(9999, 12, 1),
                end_date=date.max,
                state="active",
                started_at=utcnow(),
                commitment=[],
            )
            session.add(sprint)
        await database.dispose()
        await asyncio.to_thread(downgrade, url, "20261127_0009")
        await asyncio.to_thread(upgrade, url)
        async with database.transaction() as session:
            row = (
                await session.execute(
                    select(Sprint.start_date, Sprint.end_date).where(Sprint.id == sprint.id)
                )
            ).one()
        assert tuple(row) == (LAST_DATE, LAST_DATE)
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
            sprint_url = f"/api/v1/sprints/{sprint.id}"
            for path in ("/capacity", "/burndown"):
                assert (await client.get(f"{sprint_url}{path}", headers=ada.headers)).is_success
            done = await client.post(
                f"{sprint_url}/complete", json={"carry_over_to": "next"}, headers=ada.headers
            )
            assert done.status_code == 422  # no room after 9000-12-31 for a next sprint...
            done = await client.post(f"{sprint_url}/complete", json={}, headers=ada.headers)
            assert done.status_code == 200, done.text  # ...but it completes to the backlog
    finally:
        await database.dispose()
