"""The demo project's blockers and risk register: what the guide (docs/blockers-and-risks.md)
walks through is there on `make run`'s data."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from takt.demo.loader import DEMO_PASSWORD, load_demo
from tests.support import login


async def test_the_demo_has_blockers_of_every_age_and_a_risk_in_each_band(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    async with db.transaction() as session:
        await load_demo(session, app.state.security)
    tokens = await login(client, "leo", DEMO_PASSWORD)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    blockers = (await client.get("/api/v1/projects/DEMO/blockers", headers=headers)).json()["data"]
    open_ = [b for b in blockers if b["status"] == "open"]
    assert len(open_) == 3
    assert len(blockers) - len(open_) == 2
    # Raised that many working hours before the load (the clock has moved on a little since).
    ages = [b["age_working_hours"] for b in open_]
    assert ages == pytest.approx([30.5, 9.5, 3.5], abs=0.1)
    assert [b["escalated"] for b in open_] == [True, False, False]
    assert {b["waiting_on"]["kind"] for b in blockers} == {"person", "team", "external", "item"}
    for blocker in open_:
        item = (await client.get(f"/api/v1/items/{blocker['item_key']}", headers=headers)).json()
        assert item["blocked"] is True
    risks = (await client.get("/api/v1/projects/DEMO/risks", headers=headers)).json()["data"]
    assert {r["severity"] for r in risks} == {"low", "medium", "high", "critical"}
    promoted = [r for r in risks if r["blocker_id"] == open_[0]["id"]]
    assert len(promoted) == 1
    assert open_[0]["risk_id"] == promoted[0]["id"]
    assert any(r["overdue"] for r in risks)
    matrix = (await client.get("/api/v1/projects/DEMO/risks/matrix", headers=headers)).json()
    assert matrix["total"] == len([r for r in risks if r["status"] in ("open", "mitigating")])
