"""The demo data: a living project a new user can explore."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from takt.core.db import Database
from takt.core.events import Event
from takt.core.time import utcnow
from takt.demo.loader import DEMO_PASSWORD, load_demo
from takt.items.models import Comment, Item, ItemLink
from tests.support import login


async def test_demo_loads_a_living_backlog(client: AsyncClient, app: FastAPI, db: Database) -> None:
    async with db.transaction() as session:
        people = await load_demo(session, app.state.security)
    assert {p.role for p in people} == {"instance-admin", "admin", "member", "viewer"}
    async with db.transaction() as session:
        types = dict(
            (await session.execute(select(Item.type, func.count()).group_by(Item.type))).all()
        )
        oldest = await session.scalar(select(func.min(Event.occurred_at)))
        events = await session.scalar(select(func.count()).select_from(Event))
        comments = await session.scalar(select(func.count()).select_from(Comment))
        links = await session.scalar(select(func.count()).select_from(ItemLink))
    assert 180 <= sum(types.values()) <= 220
    assert set(types) == {"epic", "story", "task", "bug"}
    assert oldest is not None
    assert oldest < utcnow() - timedelta(days=21)
    assert (events or 0) > 400
    assert (comments or 0) >= 40
    assert (links or 0) >= 20

    tokens = await login(client, "maya", DEMO_PASSWORD)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    board = (await client.get("/api/v1/projects/DEMO/board", headers=headers)).json()
    assert sum(column["count"] for column in board["columns"]) == sum(types.values())
    assert sum(1 for column in board["columns"] if column["count"]) >= 3

    # Three completed sprints and an active one, so the numbers are real from the first minute.
    velocity = (await client.get("/api/v1/projects/DEMO/velocity", headers=headers)).json()
    assert len(velocity["sprints"]) == 3
    assert all(s["completed_points"] > 0 for s in velocity["sprints"])
    active = (
        await client.get(
            "/api/v1/projects/DEMO/sprints", params={"state": "active"}, headers=headers
        )
    ).json()["data"]
    assert len(active) == 1
    burndown = (
        await client.get(f"/api/v1/sprints/{active[0]['id']}/burndown", headers=headers)
    ).json()
    assert len(burndown["days"]) >= 5
    assert burndown["days"][0]["ideal_points"] < burndown["days"][0]["scope_points"] + 1
    # The sprint's days after today are not measured yet (null) until its second week is over.
    measured = [day for day in burndown["days"] if day["completed_points"] is not None]
    assert measured[-1]["completed_points"] > 0
    forecast = await client.get(f"/api/v1/sprints/{active[0]['id']}/forecast", headers=headers)
    assert forecast.status_code == 200
    assert forecast.json()["history"]["finished_items"] > 10
    backlog = await client.get(
        "/api/v1/projects/DEMO/items",
        params={"sort": "rank", "q": "type:bug priority:urgent"},
        headers=headers,
    )
    assert backlog.json()["data"]
    viewer = await login(client, "vera", DEMO_PASSWORD)
    refused = await client.patch(
        f"/api/v1/items/{backlog.json()['data'][0]['key']}",
        json={"title": "x"},
        headers={"Authorization": f"Bearer {viewer['access_token']}"},
    )
    assert refused.status_code == 403
