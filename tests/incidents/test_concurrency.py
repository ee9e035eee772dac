"""What the database decides when incident writes race: numbers per project are never shared,
and a deployment whose incidents are resolved at once is restored."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from takt.core.time import utcnow
from tests.incidents.kit import INCIDENTS, deploy, deployment_row, environments, open_incident
from tests.support import make_project, team


async def test_concurrent_opens_get_distinct_numbers(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await make_project(db, people["bob"], "OPS")
    for key in ("API", "OPS"):
        await environments(db, people["ada"] if key == "API" else people["bob"], key)
    body = {"title": "Down", "severity": "sev1", "environment": "production"}
    answers = await asyncio.gather(
        *(
            client.post(INCIDENTS.format(key=key), json=body, headers=people["bob"].headers)
            for key in ["API"] * 8 + ["OPS"] * 4
        )
    )
    assert [a.status_code for a in answers] == [201] * 12, [a.text for a in answers]
    api = sorted(a.json()["number"] for a in answers if a.json()["project_key"] == "API")
    ops = sorted(a.json()["number"] for a in answers if a.json()["project_key"] == "OPS")
    assert api == list(range(1, 9))
    assert ops == list(range(1, 5))


async def test_concurrent_resolves_of_a_deployments_incidents_restore_it(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    for _ in range(3):
        shipped = await deploy(db, people["ada"])
        opened = utcnow() - timedelta(hours=1)
        incidents = [
            await open_incident(
                client, bob, caused_by_deployment_id=shipped, opened_at=opened.isoformat()
            )
            for _ in range(2)
        ]
        answers = await asyncio.gather(
            *(
                client.patch(
                    f"/api/v1/incidents/{i['id']}", json={"state": "resolved"}, headers=bob.headers
                )
                for i in incidents
            )
        )
        assert [a.status_code for a in answers] == [200, 200]
        last = max(a.json()["resolved_at"] for a in answers)
        row = await deployment_row(db, shipped)
        assert row.restored_at is not None
        assert row.restored_at.isoformat().replace("+00:00", "Z") == last
