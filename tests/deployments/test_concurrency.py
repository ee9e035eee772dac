"""What the database decides when the same deployment is reported at once (a CI retrying, a
duplicated webhook): one deployment, whatever the interleaving."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from takt.core.db import Database
from takt.deployments.models import Deployment
from tests.deployments.kit import DEPLOYMENTS, sha
from tests.support import team


async def test_concurrent_reports_of_one_deployment_make_one(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    for round_ in range(3):
        body = {
            "environment": "production",
            "state": "success",
            "pipeline_id": f"race-{round_}",
            "sequence": 1,
            "sha": sha(round_),
        }
        answers = await asyncio.gather(
            *(
                client.post(
                    DEPLOYMENTS.format(key="API"),
                    json={**body, "state": state},
                    headers=people["bob"].headers,
                )
                for state in ("in_progress", "success", "success", "in_progress")
            )
        )
        assert sorted(a.status_code for a in answers) == [200, 200, 200, 201], [
            a.text for a in answers
        ]
        assert len({a.json()["id"] for a in answers}) == 1
    async with db.transaction(write=False) as session:
        rows = await session.execute(
            select(Deployment.pipeline_id, Deployment.state, func.count()).group_by(
                Deployment.pipeline_id, Deployment.state
            )
        )
        assert sorted(rows.all()) == [(f"race-{n}", "success", 1) for n in range(3)]
    events = (
        await client.get(
            "/api/v1/projects/API/events",
            params={"types": "deployment.created,deployment.succeeded"},
            headers=people["bob"].headers,
        )
    ).json()["data"]
    assert (
        sorted(e["type"] for e in events)
        == ["deployment.created"] * 3 + ["deployment.succeeded"] * 3
    )
