"""The demo's delivery history: deployments to development, staging and production since the
team started, a few failed runs, a rollback, incidents fixed by hotfixes and one still open, so
DORA has numbers in sensible bands and readiness says why the newest change is not ready."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from takt.core.db import Database
from takt.core.time import clock_at
from takt.demo.loader import DEMO_PASSWORD, load_demo
from takt.deployments.models import Deployment, DeploymentCommit, DeploymentItem, Environment
from takt.incidents.models import Incident
from tests.support import load_demo_on_a_weekday, login


async def _get(client: AsyncClient, headers: dict[str, str], url: str, **params: Any) -> Any:
    response = await client.get(f"/api/v1{url}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_demo_has_a_delivery_history_dora_can_read(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    await load_demo_on_a_weekday(app, db)
    async with db.transaction(write=False) as session:
        rows = (
            await session.execute(
                select(Deployment, Environment.name).join(
                    Environment, Environment.id == Deployment.environment_id
                )
            )
        ).all()
        incidents = list(await session.scalars(select(Incident).order_by(Incident.number)))
        shipped = len(list(await session.scalars(select(DeploymentCommit.sha))))
        items = len(list(await session.scalars(select(DeploymentItem.item_id))))
    per_env = Counter(name for _, name in rows)
    assert per_env["development"] > per_env["staging"] > per_env["production"] >= 15
    deployments = [d for d, _ in rows]
    span = max(d.started_at for d in deployments) - min(d.started_at for d in deployments)
    assert span.days >= 45
    assert shipped > 50
    assert items > 20
    states = Counter(d.state for d in deployments)
    assert states["failure"] >= 1  # runs that failed and were retried
    assert states["rolled_back"] == 1
    production = [d for d, name in rows if name == "production"]
    assert sum(d.is_hotfix for d in production) == 2
    assert sum(d.is_rollback for d in production) == 1
    failed = [d for d in production if d.failed_at is not None]
    assert len(failed) == 4
    assert sum(d.restored_at is not None for d in failed) == 3

    assert [(i.state, i.severity) for i in incidents] == [
        ("resolved", "sev2"),
        ("resolved", "sev3"),
        ("open", "sev2"),
    ]
    assert all(i.caused_by_deployment_id for i in incidents)
    assert [bool(i.fixed_by_deployment_id) for i in incidents] == [True, True, False]

    tokens = await login(client, "maya", DEMO_PASSWORD)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    dora = await _get(client, headers, "/projects/DEMO/metrics/dora")
    assert dora["band_set"] == "DORA 2024"
    frequency = dora["deployment_frequency"]
    assert frequency["successful"] >= 15
    assert frequency["band"] == "high"  # a few times a week
    lead = dora["change_lead_time"]
    assert lead["counted"] > 30
    assert lead["band"] in ("elite", "high")
    assert 12 < lead["median_hours"] < 24 * 7
    failure = dora["change_failure_rate"]
    assert failure["failed"] == 4
    assert 0.05 < failure["rate"] < 0.3
    recovery = dora["failed_deployment_recovery_time"]
    assert (recovery["restored"], recovery["unrestored"]) == (3, 1)
    assert recovery["band"] == "high"
    rework = dora["deployment_rework_rate"]
    assert (rework["hotfixes"], rework["rollbacks"]) == (2, 1)

    listed = await _get(client, headers, "/projects/DEMO/incidents", state="open")
    assert [i["title"] for i in listed["data"]] == ["Apple Pay button missing on Safari"]


async def newest_development_deployment(db: Database) -> Deployment:
    async with db.transaction(write=False) as session:
        newest = await session.scalar(
            select(Deployment)
            .join(Environment, Environment.id == Deployment.environment_id)
            .where(Environment.name == "development")
            .order_by(Deployment.started_at.desc())
            .limit(1)
        )
    assert newest is not None
    return newest


async def test_the_newest_change_is_not_ready_for_production_and_says_why(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    await load_demo_on_a_weekday(app, db)
    newest = await newest_development_deployment(db)
    assert newest.sha is not None
    assert newest.ref is not None
    assert newest.ref.startswith("feature/")

    tokens = await login(client, "leo", DEMO_PASSWORD)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    readiness = await _get(
        client, headers, "/projects/DEMO/readiness", environment="production", ref=newest.sha
    )
    assert readiness["ready"] is False
    failing = {check["check"]: check for check in readiness["checks"] if check["passed"] is False}
    assert {"items_done", "promoted_through_previous", "no_open_incidents"} <= set(failing)
    assert "Apple Pay" in str(failing["no_open_incidents"]["details"])
    assert readiness["checks"][0]["passed"] is False  # failing checks first


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 27, 10, 20, tzinfo=UTC),  # a Friday, just after the morning's release
        datetime(2026, 11, 23, 11, 45, tzinfo=UTC),  # a Monday, before its release counts
        datetime(2026, 11, 25, 12, 30, tzinfo=UTC),  # a Wednesday, its release and incident done
        datetime(2026, 11, 27, 15, 40, tzinfo=UTC),  # a Friday, just after the afternoon's build
        datetime(2026, 11, 24, 13, 10, tzinfo=UTC),  # a Tuesday, just after staging's promotion
    ],
)
async def test_the_newest_change_is_there_whatever_the_hour(
    app: FastAPI, db: Database, moment: datetime
) -> None:
    """On a release day the release, its incident and the newest change's push must all fit
    before now: loaded just after a release, or just after the afternoon's build, the demo once
    had no change on a feature branch."""
    with clock_at(moment):
        async with db.transaction() as session:
            await load_demo(session, app.state.security)
    newest = await newest_development_deployment(db)
    assert newest.ref is not None
    assert newest.ref.startswith("feature/"), newest.ref
    assert newest.started_at < moment
