"""The demo's review queue is not empty from the first minute: one of its open pull requests
was asked for a review and has none yet."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from takt.demo.loader import DEMO_PASSWORD, load_demo
from tests.support import login


async def test_the_demo_has_a_pull_request_waiting_for_review(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    async with db.transaction() as session:
        await load_demo(session, app.state.security)
    tokens = await login(client, "maya", DEMO_PASSWORD)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    listed = await client.get(
        "/api/v1/projects/DEMO/pull-requests",
        params={"waiting_for_review_hours": 0, "limit": 100},
        headers=headers,
    )
    assert listed.status_code == 200
    waiting = listed.json()["data"]
    assert waiting
    for pr in waiting:
        assert pr["state"] == "open"
        assert pr["waiting_since"] is not None
        assert pr["first_review_at"] is None
        assert pr["item_keys"]
