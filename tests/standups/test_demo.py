"""The demo project holds two weeks of stand-ups: entries from drafts, recorded summaries."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from takt.core.db import Database
from takt.core.time import local_date, utcnow
from takt.demo.loader import DEMO_PASSWORD, load_demo
from takt.standups.models import StandupEntry, StandupSummary
from tests.support import login


async def test_the_demo_team_has_two_weeks_of_stand_ups(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    async with db.transaction() as session:
        await load_demo(session, app.state.security)
    async with db.transaction(write=False) as session:
        days = await session.scalar(select(func.count(func.distinct(StandupEntry.standup_date))))
        late = await session.scalar(
            select(func.count()).select_from(StandupEntry).where(StandupEntry.late.is_(True))
        )
        recorded = list(
            await session.scalars(select(StandupSummary).order_by(StandupSummary.standup_date))
        )
    assert 9 <= (days or 0) <= 11
    assert (late or 0) >= 1
    assert len(recorded) >= 9
    assert any(s.sprint_probability is not None for s in recorded)
    assert all(s.participation is not None and s.participation <= 1 for s in recorded)

    tokens = await login(client, "maya", DEMO_PASSWORD)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    last = recorded[-1].standup_date.isoformat()
    summary = await client.get(f"/api/v1/projects/DEMO/standups/{last}", headers=headers)
    assert summary.status_code == 200, summary.text
    body = summary.json()
    assert body["recorded"] is not None
    assert body["entries"]
    assert body["participation"]["participants"] == 4
    assert body["sprint"]["as_of"] == "cutoff"
    # Leo's draft for his next check-in comes from his own recent work.
    leo = await login(client, "leo", DEMO_PASSWORD)
    today = local_date(utcnow(), "Europe/Berlin")
    day = today - timedelta(days=max(0, today.weekday() - 4))
    draft = await client.get(
        f"/api/v1/projects/DEMO/standups/{day.isoformat()}/draft",
        headers={"Authorization": f"Bearer {leo['access_token']}"},
    )
    assert draft.status_code == 200, draft.text
    lines = draft.json()["lines"]
    assert lines
    assert all(line["event_id"] and line["item_key"] for line in lines)
